"""Folders in the workspace, as a person uses them: a folder tree of 200 files
uploaded with its paths, found again by search, opened by breadcrumbs; a
subfolder moved with the folder picker and by dragging; renamed in place; a
folder downloaded as a ZIP (same bytes, same paths); deleted and restored from
the trash; previewed in the viewer with next/previous and the keyboard; and
the whole at phone width."""

import hashlib
import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from browser_harness import open_workspace

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).parent / "out"


def folder_tree(root: Path, files: int) -> dict[str, bytes]:
    """`files` small files under root/trip/ in a few subfolders; {relative path: bytes}."""
    made = {}
    for n in range(files):
        relative = f"trip/day{n % 4}/{'photos/' if n % 3 == 0 else ''}note{n:03d}.txt"
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        data = f"note {n}\n".encode() * (n + 1)
        path.write_bytes(data)
        made[relative] = data
    return made


def png(width: int = 8, height: int = 8) -> bytes:
    """A tiny real PNG (one colour), so the viewer has a true image to show."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\0" + b"\x4f\x46\xe5" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def upload(server, token: str, name: str, data: bytes, content_type: str, folder_id: str | None = None) -> dict:
    fields = {"folder_id": folder_id} if folder_id else {}
    answer = server.api("POST", "/api/files", token, files={"file": (name, data, content_type)}, data=fields)
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]["files"][0]


def make_folder(server, token: str, name: str, parent_id: str | None = None) -> dict:
    body = {"name": name, **({"parent_id": parent_id} if parent_id else {})}
    answer = server.api("POST", "/api/folders", token, json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()["data"]


# A one-page PDF that says "Hello PDF".
PDF = b"""%PDF-1.4
1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj
2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj
3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 144]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>endobj
4 0 obj<</Length 44>>stream
BT /F1 24 Tf 20 60 Td (Hello PDF) Tj ET
endstream endobj
5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj
trailer<</Root 1 0 R>>
%%EOF
"""


def row(page, name: str):
    return page.locator("#fileRows tr", has=page.get_by_text(name, exact=True))


def test_a_folder_tree_of_200_files_uploads_with_its_paths_and_is_found_by_search(page, server, tmp_path):
    _, token = server.account()
    made = folder_tree(tmp_path, 200)
    open_workspace(page, server, token)
    page.set_input_files("#folderInput", str(tmp_path / "trip"))
    expect(page.locator(".upload-row.is-done")).to_have_count(200, timeout=120_000)

    # The tree is there, folder by folder, with the breadcrumbs to climb back.
    row(page, "trip").get_by_role("button", name="Open trip").click()
    expect(page.locator("#breadcrumbs [aria-current]")).to_have_text("trip")
    expect(page.locator("#uploadTarget")).to_have_text("Uploads go into “trip”.")
    row(page, "day0").get_by_role("button", name="Open day0").click()
    expect(page.locator("#breadcrumbs li")).to_have_count(3)
    expect(row(page, "photos")).to_have_count(1)
    expect(page.locator("#pageRange")).to_have_text("1–20 of 33")  # 50 files of day0, 17 of them in photos/
    page.click("#nextPage")
    expect(page.locator("#pageRange")).to_have_text("21–33 of 33")
    page.locator("#breadcrumbs").get_by_role("button", name="My files").click()
    expect(row(page, "trip")).to_have_count(1)

    # Search finds one file among all, whatever folder it is in.
    page.fill("#searchBox", "note123")
    expect(page.locator("#searchNote")).to_contain_text("note123")
    expect(page.locator("#fileRows tr")).to_have_count(1)
    expect(row(page, "note123.txt")).to_have_count(1)

    stored = {}
    for file in server.api("GET", "/api/files?limit=500", token).json()["data"]["files"]:
        stored[file["name"]] = file["sha256"]
    assert stored == {Path(path).name: hashlib.sha256(data).hexdigest() for path, data in made.items()}


def test_move_rename_zip_delete_and_restore_a_folder(page, server, tmp_path):
    _, token = server.account()
    trip = make_folder(server, token, "trip")
    day = make_folder(server, token, "day1", trip["id"])
    archive = make_folder(server, token, "archive")
    upload(server, token, "a.txt", b"alpha\n", "text/plain", day["id"])
    upload(server, token, "b.txt", b"beta\n", "text/plain", trip["id"])
    upload(server, token, "loose.txt", b"loose\n", "text/plain")
    open_workspace(page, server, token)

    # Rename in place: Enter saves.
    row(page, "loose.txt").get_by_role("button", name="Rename loose.txt").click()
    page.get_by_label("New name for loose.txt").fill("kept.txt")
    page.keyboard.press("Enter")
    expect(row(page, "kept.txt")).to_have_count(1)

    # Move a subfolder with the folder picker, by keyboard.
    row(page, "trip").get_by_role("button", name="Open trip").click()
    row(page, "day1").get_by_role("button", name="Move day1").click()
    picker = page.locator("#pickerDialog")
    expect(picker).to_be_visible()
    picker.get_by_role("button", name="Up one level").click()
    picker.get_by_role("button", name="Open archive").click()
    expect(page.locator("#pickerPath")).to_have_text("My files / archive")
    picker.get_by_role("button", name="Move here").click()
    expect(row(page, "day1")).to_have_count(0)
    page.locator("#breadcrumbs").get_by_role("button", name="My files").click()

    # Drag a file onto a folder row.
    row(page, "kept.txt").drag_to(row(page, "archive"))
    expect(page.locator("#successAlert")).to_contain_text("into “archive”")
    expect(row(page, "kept.txt")).to_have_count(0)

    # The archive folder as a ZIP: its paths and bytes.
    row(page, "archive").get_by_role("checkbox").check()
    expect(page.locator("#selectionCount")).to_have_text("1 selected")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "folders-selection.png"), full_page=True)
    with page.expect_download() as downloaded:
        page.click("#zipSelected")
    with zipfile.ZipFile(io.BytesIO(Path(downloaded.value.path()).read_bytes())) as zipped:
        assert {name: zipped.read(name) for name in zipped.namelist()} == {
            "archive/": b"", "archive/day1/": b"",  # every folder has an entry of its own
            "archive/kept.txt": b"loose\n", "archive/day1/a.txt": b"alpha\n"}

    # Delete the folder (to the trash), then restore it with everything in it.
    row(page, "archive").get_by_role("button", name="Delete archive").click()
    expect(page.locator("#confirmText")).to_contain_text("moves to the trash")
    page.click("#confirmYes")
    expect(row(page, "archive")).to_have_count(0)
    page.click("#trashButton")
    trash_row = page.locator("#trashRows tr", has_text="archive")
    expect(trash_row).to_have_count(1)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "trash.png"), full_page=True)
    trash_row.get_by_role("button", name="Restore archive").click()
    expect(page.locator("#trashEmpty")).to_be_visible()
    page.click("#trashBack")
    row(page, "archive").get_by_role("button", name="Open archive").click()
    expect(row(page, "day1")).to_have_count(1)
    expect(row(page, "kept.txt")).to_have_count(1)

    # Delete for good, after a confirmation; then the trash is empty.
    row(page, "kept.txt").get_by_role("button", name="Delete kept.txt").click()
    page.click("#confirmYes")
    page.click("#trashButton")
    page.click("#emptyTrash")
    expect(page.locator("#confirmTitle")).to_have_text("Empty the trash?")
    with page.expect_response(lambda r: r.request.method == "DELETE" and r.url.endswith("/api/trash")) as emptied:
        page.click("#confirmYes")
    assert emptied.value.status == 200
    expect(page.locator("#trashEmpty")).to_be_visible()


def test_the_viewer_shows_an_image_a_pdf_and_text_with_next_previous_and_the_keyboard(page, server):
    _, token = server.account()
    upload(server, token, "z-notes.txt", "héllo <b>not bold</b>\n".encode(), "text/plain")
    upload(server, token, "m-letter.pdf", PDF, "application/pdf")
    upload(server, token, "a-picture.png", png(), "image/png")
    upload(server, token, "data.bin", b"\0\1", "application/octet-stream")
    open_workspace(page, server, token)
    page.get_by_role("button", name="Sort by Name").click()
    expect(page.locator("#fileRows tr").first).to_contain_text("a-picture.png")
    expect(row(page, "data.bin").get_by_role("button", name="Preview data.bin")).to_have_count(0)

    row(page, "a-picture.png").get_by_role("button", name="Preview a-picture.png").click()
    viewer = page.locator("#viewerDialog")
    expect(viewer).to_be_visible()
    image = viewer.locator("img.viewer-media")
    expect(image).to_be_visible()
    page.wait_for_function("() => document.querySelector('#viewerBody img').naturalWidth === 8")
    expect(page.locator("#viewerPosition")).to_have_text("1 of 3")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "viewer-image.png"))

    page.keyboard.press("ArrowRight")
    expect(viewer.locator("iframe.viewer-media")).to_have_attribute("title", "m-letter.pdf")
    page.screenshot(path=str(SCREENSHOTS / "viewer-pdf.png"))
    viewer.get_by_role("button", name="Next").click()
    text = viewer.locator("pre.viewer-text")
    expect(text).to_have_text("héllo <b>not bold</b>\n")  # shown as text, never as markup
    expect(viewer.locator("b")).to_have_count(0)
    expect(page.locator("#viewerTitle")).to_have_text("z-notes.txt")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(image).to_be_visible()
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()


def test_the_workspace_with_folders_fits_a_phone(new_context, server):
    _, token = server.account()
    photos = make_folder(server, token, "photos from a very long holiday by the sea")
    upload(server, token, "a-rather-long-file-name-for-a-small-screen.txt", b"x", "text/plain", photos["id"])
    upload(server, token, "top.txt", b"y", "text/plain")
    page = new_context(viewport={"width": 375, "height": 800}, locale="zh-TW").new_page()
    open_workspace(page, server, token)
    expect(page.locator("#newFolderButton")).to_have_text("新增資料夾")
    expect(page.locator("#trashButton")).to_have_text("垃圾桶")
    page.locator("#fileRows tr", has_text="photos").get_by_role("button").first.click()
    expect(page.locator("#breadcrumbs [aria-current]")).to_have_text("photos from a very long holiday by the sea")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "folders-phone-zh-TW.png"), full_page=True)
