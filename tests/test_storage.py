"""Storage: name and type cleaning (pure functions, as bad → good tables), the
quota arithmetic, debris removal at start, and the all-or-nothing commit."""

from __future__ import annotations

import os

import pytest

from authupload import create_app
from authupload.web.http import HTTPError
from authupload.files.hashing import FileDigest
from authupload.files.storage import StagedFile, clean_content_type, clean_filename


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("/etc/shadow", "shadow"),
        ("C:\\x\\y.txt", "y.txt"),
        ("\\\\server\\share\\z.doc", "z.doc"),
        ("dir/sub\\mixed/last.txt", "last.txt"),
        ("a\x00b.txt", "ab.txt"),
        ("evil\r\nSet-Cookie: x=1.txt", "evilSet-Cookie: x=1.txt"),
        ("tab\there.txt", "tabhere.txt"),
        ("\x7fdel\x85nel.txt", "delnel.txt"),  # DEL and the C1 control NEL are Cc too
        ("invoice\u202egpj.exe", "invoicegpj.exe"),  # RIGHT-TO-LEFT OVERRIDE would show "exe.jpg"
        ("\u2066isolated\u2069.txt", "isolated.txt"),
        ("invoice\u200fgpj.exe", "invoicegpj.exe"),  # RIGHT-TO-LEFT MARK
        ("a\u200eb\u061cc.txt", "abc.txt"),  # LEFT-TO-RIGHT MARK, ARABIC LETTER MARK
        ("line\u2028break\u2029para.txt", "linebreakpara.txt"),  # LINE and PARAGRAPH SEPARATOR
        ("zero\u200bwidth\ufeff.txt", "zerowidth.txt"),  # ZERO WIDTH SPACE, BOM
        ("tag\U000e0041\U000e0042.txt", "tag.txt"),  # tag characters: invisible text
        ("family \U0001f468\u200d\U0001f469\u200d\U0001f467.png",
         "family \U0001f468\u200d\U0001f469\u200d\U0001f467.png"),  # ZWJ keeps an emoji together
        ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645.txt",
         "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645.txt"),  # ZWNJ inside a Persian word
        ("  spaced name.txt  ", "spaced name.txt"),
        ("...hidden...", "hidden"),
        (". .x. .", "x"),
        ("...", "unnamed"),
        ("  ", "unnamed"),
        ("", "unnamed"),
        (None, "unnamed"),
        ("../", "unnamed"),
        ("\x00\x01", "unnamed"),
        ("报告 2026.pdf", "报告 2026.pdf"),
        ("日本語のファイル名.txt", "日本語のファイル名.txt"),
        ("café ☕.txt", "café ☕.txt"),
        ("a" * 300, "a" * 255),
        ("文" * 300, "文" * 255),
        ("a" * 254 + " .txt", "a" * 254),  # cut to 255, then trimmed again
    ],
)
def test_clean_filename(raw, clean):
    assert clean_filename(raw) == clean


@pytest.mark.parametrize(
    ("declared", "stored"),
    [
        ("text/plain", "text/plain"),
        ("Text/HTML; charset=UTF-8", "text/html"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("image/svg+xml", "image/svg+xml"),
        (None, "application/octet-stream"),
        ("", "application/octet-stream"),
        ("text", "application/octet-stream"),
        ("text/", "application/octet-stream"),
        ("/plain", "application/octet-stream"),
        ("text/plain/extra", "application/octet-stream"),
        ("text/pl ain", "application/octet-stream"),
        ("text/plain\r\nX-Evil: 1", "application/octet-stream"),
        ("类型/子类型", "application/octet-stream"),
    ],
)
def test_clean_content_type(declared, stored):
    assert clean_content_type(declared) == stored


@pytest.fixture
def storage(app):
    return app.services.storage


def new_user_id(app, name="storageuser") -> int:
    return app.services.database.execute(
        "INSERT INTO users (username, username_key, password_hash, created_at) VALUES (?, ?, 'x', 0) RETURNING id",
        (name, name),
    ).fetchone()[0]


def stage(storage, data: bytes, name: str = "f.bin") -> StagedFile:
    path = storage.new_temp_path()
    path.write_bytes(data)
    digest = FileDigest()
    digest.update(data)
    return StagedFile(path, name, len(data), digest, "application/octet-stream")


def test_temp_files_left_by_a_crash_are_removed_at_start(make_config):
    config = make_config()
    create_app(config)
    debris = config.data_dir / "tmp" / "half-written-upload"
    debris.write_bytes(b"partial")
    create_app(config)
    assert not debris.exists()


def test_commit_moves_every_staged_file_and_lists_it(app, storage):
    user_id = new_user_id(app)
    staged = [stage(storage, b"one"), stage(storage, b"two", "g.bin")]
    files = storage.commit(user_id, staged)
    assert [f["name"] for f in files] == ["f.bin", "g.bin"]
    for file, data in zip(files, (b"one", b"two")):
        assert storage.path_of(user_id, file["id"]).read_bytes() == data
    assert not any(storage.tmp_dir.iterdir())
    assert storage.usage(user_id)["files"] == 2


def test_commit_over_quota_keeps_nothing(make_config):
    app = create_app(make_config(quota_bytes=5))
    storage = app.services.storage
    user_id = new_user_id(app)
    staged = [stage(storage, b"abc"), stage(storage, b"def")]
    with pytest.raises(HTTPError) as refused:
        storage.commit(user_id, staged)
    assert (refused.value.status, refused.value.key) == (413, "quota_exceeded")
    assert storage.usage(user_id)["files"] == 0
    assert not (storage.files_dir / str(user_id)).exists() or not any((storage.files_dir / str(user_id)).iterdir())


def test_commit_failing_halfway_removes_the_files_it_already_moved(app, storage):
    user_id = new_user_id(app)
    good = stage(storage, b"good")
    missing = stage(storage, b"gone")
    missing.path.unlink()  # os.replace of the second file will fail
    with pytest.raises(FileNotFoundError):
        storage.commit(user_id, [good, missing])
    assert storage.usage(user_id)["files"] == 0
    assert not any((storage.files_dir / str(user_id)).iterdir())


def test_quota_left_counts_stored_and_reserved_bytes(make_config):
    app = create_app(make_config(quota_bytes=100))
    storage = app.services.storage
    user_id = new_user_id(app)
    storage.commit(user_id, [stage(storage, b"x" * 30)])
    assert storage.quota_left_bytes(user_id) == 70
    storage.check_quota(user_id, 70)  # exactly full is allowed
    with pytest.raises(HTTPError):
        storage.check_quota(user_id, 71)


def test_another_users_file_is_not_found(app, storage):
    owner, other = new_user_id(app, "ownerxx"), new_user_id(app, "otherxx")
    (file,) = storage.commit(owner, [stage(storage, b"mine")])
    with pytest.raises(HTTPError) as missing:
        storage.find(other, file["id"])
    assert missing.value.status == 404


def test_starting_a_second_process_keeps_the_first_ones_uploads_in_flight(make_config):
    config = make_config()
    first = create_app(config).services.storage
    in_flight = first.new_temp_path()
    in_flight.write_bytes(b"half an upload")
    create_app(config)  # another server process on the same data directory
    assert in_flight.read_bytes() == b"half an upload"


def test_a_dead_processes_temp_folder_is_swept_at_the_next_start(make_config):
    config = make_config()
    dead = create_app(config).services.storage
    debris = dead.new_temp_path()
    debris.write_bytes(b"half an upload")
    os.close(dead._tmp_lock)  # what the kernel does when a process dies, even by kill -9
    create_app(config)
    assert not debris.exists() and not dead.tmp_dir.exists()
