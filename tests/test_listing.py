"""GET /api/files: by folder or everything, search, sort, offset and keyset cursors."""

from __future__ import annotations

import base64

import pytest

import forms
from authupload.files import listing as listing_module
from test_folders import make_folder, upload_into


def listing(client, user, status=200, **query) -> dict:
    response = client.get("/api/files", params=query, headers=user["headers"], status=status)
    return response.json["data"]


def names(data) -> list[str]:
    return [f["name"] for f in data["files"]]


@pytest.fixture
def mixed(client, user, clock):
    """Five files of different names, sizes and times, two of them in a folder."""
    folder = make_folder(client, user, "docs")
    made = {}
    for name, size in (("beta.txt", 30), ("Alpha.txt", 10), ("gamma.bin", 50), ("delta.TXT", 20),
                       ("100%_done.txt", 40)):
        clock.advance(1)
        made[name] = forms.upload(client, user, (name, b"x" * size)).json["data"]["files"][0]
    for name in ("gamma.bin", "delta.TXT"):
        client.patch_json(f"/api/files/{made[name]['id']}", {"folder_id": folder["id"]}, headers=user["headers"])
    return folder


def test_the_default_is_every_file_newest_first_with_total_and_no_cursor(client, user, mixed):
    data = listing(client, user)
    assert names(data) == ["100%_done.txt", "delta.TXT", "gamma.bin", "Alpha.txt", "beta.txt"]
    assert (data["total"], data["next_cursor"]) == (5, None)


@pytest.mark.parametrize("sort, expected", [
    ("name", ["100%_done.txt", "Alpha.txt", "beta.txt", "delta.TXT", "gamma.bin"]),
    ("-name", ["gamma.bin", "delta.TXT", "beta.txt", "Alpha.txt", "100%_done.txt"]),
    ("size", ["Alpha.txt", "delta.TXT", "beta.txt", "100%_done.txt", "gamma.bin"]),
    ("-size", ["gamma.bin", "100%_done.txt", "beta.txt", "delta.TXT", "Alpha.txt"]),
    ("uploaded_at", ["beta.txt", "Alpha.txt", "gamma.bin", "delta.TXT", "100%_done.txt"]),
    ("-uploaded_at", ["100%_done.txt", "delta.TXT", "gamma.bin", "Alpha.txt", "beta.txt"]),
])
def test_sort_by_name_size_or_date_either_way(client, user, mixed, sort, expected):
    assert names(listing(client, user, sort=sort)) == expected


def test_by_folder_and_at_the_top(client, user, mixed):
    inside = listing(client, user, folder_id=mixed["id"], sort="name")
    assert (names(inside), inside["total"]) == (["delta.TXT", "gamma.bin"], 2)
    top = listing(client, user, folder_id="root", sort="name")
    assert (names(top), top["total"]) == (["100%_done.txt", "Alpha.txt", "beta.txt"], 3)


@pytest.mark.parametrize("q, expected", [
    ("TXT", ["100%_done.txt", "Alpha.txt", "beta.txt", "delta.TXT"]),
    ("alp", ["Alpha.txt"]),
    ("%", ["100%_done.txt"]),  # wildcards match only themselves
    ("_", ["100%_done.txt"]),
    ("a.t", ["Alpha.txt", "beta.txt", "delta.TXT"]),
    ("nothing", []),
])
def test_search_by_name_in_any_case_across_folders(client, user, mixed, q, expected):
    data = listing(client, user, q=q, sort="name")
    assert (names(data), data["total"]) == (expected, len(expected))


@pytest.mark.parametrize("q", ["élan", "ÉLAN", "Élan", "STRASSE", "straße", "ΣΟΦΊΑ", "софия", "ПАПКА"])
def test_search_folds_case_in_every_script_not_only_ascii(client, user, q):
    """SQL's LIKE folds A–Z only: names keep a casefolded twin (migration 13) that the search compares."""
    wanted = {"élan": "Élan vital.pdf", "strasse": "Hauptstraße 5.jpg", "σοφία": "Σοφία.txt",
              "софия": "София.doc", "папка": "папка.zip"}
    forms.upload(client, user, *((name, b"x") for name in wanted.values()), ("other.txt", b"y"))
    expected = next(name for key, name in wanted.items() if key == q.casefold() or key in q.casefold())
    assert names(listing(client, user, q=q)) == [expected]


def test_names_sort_in_any_case_in_every_script(client, user):
    forms.upload(client, user, ("Éb.txt", b"1"), ("éa.txt", b"2"), ("b.txt", b"3"), ("A.txt", b"4"))
    assert names(listing(client, user, sort="name")) == ["A.txt", "b.txt", "éa.txt", "Éb.txt"]


def test_search_within_one_folder(client, user, mixed):
    assert names(listing(client, user, q="txt", folder_id=mixed["id"])) == ["delta.TXT"]


@pytest.mark.parametrize("query", [
    {"sort": "colour"}, {"sort": "--name"}, {"sort": ""}, {"limit": "0"}, {"limit": "501"},
    {"offset": "-1"}, {"q": "x" * 256}, {"cursor": "not a cursor"}, {"cursor": ""}, {"cursor": "\u00e9"},
    {"cursor": "A" * 2000}, {"cursor": base64.urlsafe_b64encode(b"\0" * 16 + b"[1,2]").decode()},
])
def test_bad_queries_are_invalid_query(client, user, query):
    data = listing(client, user, status=400, **query)
    assert data["error"] == "invalid_query"


def all_pages(client, user, limit, **query) -> list[str]:
    seen, cursor = [], None
    while True:
        params = {"limit": limit, **query, **({"cursor": cursor} if cursor else {})}
        data = listing(client, user, **params)
        seen += [f["id"] for f in data["files"]]
        cursor = data["next_cursor"]
        if cursor is None:
            return seen


@pytest.mark.parametrize("sort", ["-uploaded_at", "uploaded_at", "name", "-name", "size", "-size"])
def test_cursor_pages_walk_every_file_once_even_with_ties(client, user, clock, sort):
    # Every file shares its upload time and size with others: the rowid breaks the ties.
    uploads = [(f"f{n % 4}.txt", b"x" * (n % 3)) for n in range(23)]
    ids = [f["id"] for f in forms.upload(client, user, *uploads).json["data"]["files"]]
    walked = all_pages(client, user, 5, sort=sort)
    assert sorted(walked) == sorted(ids) and len(walked) == len(set(walked))
    assert walked == [f["id"] for f in listing(client, user, limit=500, sort=sort)["files"]]


def test_offset_still_works_and_agrees_with_cursors(client, user, clock):
    forms.upload(client, user, *[(f"{n}.txt", b"x") for n in range(7)])
    by_cursor = all_pages(client, user, 3)
    by_offset = [f["id"] for offset in (0, 3, 6) for f in listing(client, user, limit=3, offset=offset)["files"]]
    assert by_cursor == by_offset


def test_a_cursor_together_with_an_offset_is_refused(client, user):
    forms.upload(client, user, ("a", b"x"), ("b", b"y"))
    cursor = listing(client, user, limit=1)["next_cursor"]
    assert listing(client, user, status=400, limit=1, cursor=cursor, offset=1) == {
        "error": "invalid_query", "field": "offset"}


def test_a_cursor_belongs_to_its_user_and_its_listing(client, auth, user, mixed):
    cursor = listing(client, user, limit=1, sort="name")["next_cursor"]
    other = auth.new_user()
    forms.upload(client, other, ("a", b"x"), ("b", b"y"))
    assert listing(client, other, status=400, limit=1, sort="name", cursor=cursor)["field"] == "cursor"
    for changed in ({"sort": "-name"}, {"q": "a"}, {"folder_id": "root"}):
        assert listing(client, user, status=400, limit=1, cursor=cursor, **{"sort": "name", **changed}) == {
            "error": "invalid_query", "field": "cursor"}


def test_a_tampered_cursor_is_refused(client, user, mixed):
    cursor = listing(client, user, limit=1, sort="size")["next_cursor"]
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-3] ^= 1  # change a digit of the key it carries
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    assert listing(client, user, status=400, limit=1, sort="size", cursor=tampered)["field"] == "cursor"


def test_trashed_files_leave_every_listing_and_search(client, user, mixed):
    (victim,) = [f for f in listing(client, user)["files"] if f["name"] == "gamma.bin"]
    client.delete(f"/api/files/{victim['id']}", headers=user["headers"])
    assert "gamma.bin" not in names(listing(client, user))
    assert listing(client, user)["total"] == 4
    assert listing(client, user, q="gamma")["files"] == []
    assert names(listing(client, user, folder_id=mixed["id"])) == ["delta.TXT"]


def test_the_listing_query_plans_use_the_indexes(app, client, user):
    """Keyset paging is constant-time only if SQLite seeks in an index rather than sorting."""
    folder = make_folder(client, user, "docs")
    upload_into(client, user, folder["id"])
    connection = app.services.database.connection()
    for condition, column in (("folder_id IS ?", "uploaded_at"), ("folder_id IS ?", "size"),
                              ("folder_id IS ?", "name_key"), ("1 = ?", "uploaded_at"),
                              ("1 = ?", "size"), ("1 = ?", "name_key")):
        plan = " ".join(row[3] for row in connection.execute(
            f"EXPLAIN QUERY PLAN SELECT rowid, * FROM files WHERE user_id = ? AND trashed_at IS NULL"
            f" AND {condition} AND ({column}, rowid) < (?, ?) ORDER BY {column} DESC, rowid DESC LIMIT 51",
            (user["id"], folder["id"], 1, 1)))
        assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, (condition, column, plan)


@pytest.mark.parametrize("candidates", [0, 1, 1000])
def test_a_search_pages_alike_whether_its_matches_are_few_or_many(client, user, mixed, monkeypatch, candidates):
    """Few matches are sorted from themselves, many walk the sort index: the pages are the same."""
    monkeypatch.setattr(listing_module, "SEARCH_CANDIDATES", candidates)
    for sort in ("name", "-size", "-uploaded_at"):
        walked = all_pages(client, user, 2, q="t", sort=sort)
        expected = [f["id"] for f in listing_all(client, user, sort)]
        assert walked == expected
    assert listing(client, user, q="txt")["total"] == 4


def listing_all(client, user, sort) -> list[dict]:
    return [f for f in listing(client, user, limit=500, sort=sort)["files"] if "t" in f["name"].lower()]
