"""The trash: delete keeps things restorable and counted, restore puts them back
(recreating folders, suffixing clashing names), purge and empty remove them for
good, the sweep purges after trash_days, and trash_days=0 deletes at once."""

from __future__ import annotations

import pytest

import forms
from authupload import create_app
from authupload.files.trash import purge_expired
from support import Auth, validated_client
from test_folders import make_folder, show, upload_into

DAY = 86_400


def usage(client, user) -> dict:
    return client.get("/api/me", headers=user["headers"]).json["data"]["usage"]


def trash(client, user) -> dict:
    return client.get("/api/trash", headers=user["headers"]).json["data"]


def restore(client, user, kind, item_id, status=200):
    return client.post(f"/api/trash/{kind}/{item_id}/restore", headers=user["headers"], status=status)


def listed_ids(client, user, **query) -> list[str]:
    return [f["id"] for f in client.get("/api/files", params={"limit": 500, **query},
                                        headers=user["headers"]).json["data"]["files"]]


@pytest.fixture
def tree(client, user):
    """photos/ (a.jpg) with photos/2024/ (b.jpg), and top.txt at the top."""
    photos = make_folder(client, user, "photos")
    year = make_folder(client, user, "2024", photos["id"])
    a = upload_into(client, user, photos["id"], "a.jpg", b"aaaa")
    b = upload_into(client, user, year["id"], "b.jpg", b"bb")
    (top,) = forms.upload(client, user, ("top.txt", b"t")).json["data"]["files"]
    return {"photos": photos, "year": year, "a": a, "b": b, "top": top}


def test_a_deleted_file_is_listed_in_the_trash_with_its_purge_date(client, user, tree, clock, app):
    client.delete(f"/api/files/{tree['top']['id']}", headers=user["headers"])
    data = trash(client, user)
    assert data["total"] == 1
    (item,) = data["items"]
    assert {k: item[k] for k in ("kind", "id", "name", "size")} == {
        "kind": "file", "id": tree["top"]["id"], "name": "top.txt", "size": 1}
    days = app.services.config.trash_days
    assert item["purge_at"] > item["deleted_at"] and days == 30


def test_deleting_a_folder_takes_everything_inside_as_one_item(client, user, tree):
    response = client.delete(f"/api/folders/{tree['photos']['id']}", headers=user["headers"])
    assert response.json["code"] == 200
    (item,) = trash(client, user)["items"]
    assert (item["kind"], item["id"], item["size"]) == ("folder", tree["photos"]["id"], 6)
    assert listed_ids(client, user) == [tree["top"]["id"]]
    assert show(client, user)["folders"] == []
    client.get(f"/api/folders/{tree['year']['id']}", headers=user["headers"], status=404)
    client.get(f"/api/files/{tree['b']['id']}", headers=user["headers"], status=404)
    assert client.get(f"/api/files?q=b.jpg", headers=user["headers"]).json["data"]["files"] == []


def test_trashed_bytes_count_toward_the_quota_until_purged(make_config):
    client = validated_client(create_app(make_config(quota_bytes=10)))
    user = Auth(client).new_user()
    (file,) = forms.upload(client, user, ("big", b"x" * 8)).json["data"]["files"]
    client.delete(f"/api/files/{file['id']}", headers=user["headers"])
    assert usage(client, user) | {"quota_bytes": 10} == {
        "files": 0, "bytes": 0, "trash_files": 1, "trash_bytes": 8, "quota_bytes": 10}
    forms.upload(client, user, ("more", b"x" * 3), status=413)  # 8 in the trash + 3 > 10
    client.delete(f"/api/trash/file/{file['id']}", headers=user["headers"])
    assert (usage(client, user)["trash_files"], usage(client, user)["trash_bytes"]) == (0, 0)
    forms.upload(client, user, ("more", b"x" * 3))


def test_restore_a_file_puts_it_back_in_its_folder(client, user, tree):
    client.delete(f"/api/files/{tree['a']['id']}", headers=user["headers"])
    assert usage(client, user)["trash_files"] == 1
    assert restore(client, user, "file", tree["a"]["id"]).json["code"] == 200
    assert listed_ids(client, user, folder_id=tree["photos"]["id"]) == [tree["a"]["id"]]
    assert (usage(client, user)["files"], usage(client, user)["trash_files"]) == (3, 0)
    assert trash(client, user)["items"] == []
    assert client.get(f"/api/files/{tree['a']['id']}", headers=user["headers"]).body == b"aaaa"


def test_restore_a_folder_brings_back_everything_that_went_with_it(client, user, tree):
    client.delete(f"/api/folders/{tree['photos']['id']}", headers=user["headers"])
    restore(client, user, "folder", tree["photos"]["id"])
    assert [f["id"] for f in show(client, user)["folders"]] == [tree["photos"]["id"]]
    assert listed_ids(client, user, folder_id=tree["year"]["id"]) == [tree["b"]["id"]]
    assert usage(client, user)["files"] == 3


def test_an_item_trashed_on_its_own_stays_in_the_trash_when_its_folder_is_restored(client, user, tree):
    client.delete(f"/api/files/{tree['b']['id']}", headers=user["headers"])
    client.delete(f"/api/folders/{tree['photos']['id']}", headers=user["headers"])
    assert trash(client, user)["total"] == 2
    restore(client, user, "folder", tree["photos"]["id"])
    assert listed_ids(client, user, folder_id=tree["year"]["id"]) == []
    assert [i["id"] for i in trash(client, user)["items"]] == [tree["b"]["id"]]


def test_restore_recreates_a_purged_folder_by_its_names(client, user, tree):
    client.delete(f"/api/files/{tree['b']['id']}", headers=user["headers"])
    client.delete(f"/api/folders/{tree['photos']['id']}", headers=user["headers"])
    client.delete(f"/api/trash/folder/{tree['photos']['id']}", headers=user["headers"])
    restore(client, user, "file", tree["b"]["id"])
    (file,) = client.get("/api/files", headers=user["headers"], params={"q": "b.jpg"}).json["data"]["files"]
    path = show(client, user, file["folder_id"])["path"]
    assert [step["name"] for step in path] == ["photos", "2024"]
    assert path[0]["id"] != tree["photos"]["id"]  # a new folder, by the old names
    assert client.get(f"/api/files/{file['id']}", headers=user["headers"]).body == b"bb"


def test_restore_into_a_trashed_folder_recreates_it_and_reuses_live_namesakes(client, user, tree):
    client.delete(f"/api/files/{tree['a']['id']}", headers=user["headers"])
    client.delete(f"/api/folders/{tree['photos']['id']}", headers=user["headers"])
    live = make_folder(client, user, "Photos")  # a new folder of the same name, in another case
    restore(client, user, "file", tree["a"]["id"])
    assert listed_ids(client, user, folder_id=live["id"]) == [tree["a"]["id"]]


def test_a_restored_folder_whose_name_is_taken_gets_a_suffix(client, user, tree):
    client.delete(f"/api/folders/{tree['photos']['id']}", headers=user["headers"])
    make_folder(client, user, "photos")
    make_folder(client, user, "Photos (2)")
    restore(client, user, "folder", tree["photos"]["id"])
    assert sorted(f["name"] for f in show(client, user)["folders"]) == ["Photos (2)", "photos", "photos (3)"]


def test_purge_one_item_removes_rows_and_bytes(client, user, tree, app):
    client.delete(f"/api/folders/{tree['photos']['id']}", headers=user["headers"])
    paths = [app.services.storage.path_of(user["id"], tree[k]["id"]) for k in ("a", "b")]
    assert all(path.exists() for path in paths)
    assert client.delete(f"/api/trash/folder/{tree['photos']['id']}", headers=user["headers"]).json["code"] == 200
    assert not any(path.exists() for path in paths)
    assert trash(client, user)["total"] == 0
    assert usage(client, user) | {"quota_bytes": 0} == {
        "files": 1, "bytes": 1, "trash_files": 0, "trash_bytes": 0, "quota_bytes": 0}
    count = app.services.database.execute("SELECT count(*) FROM folders").fetchone()[0]
    assert count == 0


def test_empty_trash_purges_every_item(client, user, tree, app):
    client.delete(f"/api/files/{tree['top']['id']}", headers=user["headers"])
    client.delete(f"/api/folders/{tree['photos']['id']}", headers=user["headers"])
    assert client.delete("/api/trash", headers=user["headers"]).json["code"] == 200
    assert trash(client, user) == {"items": [], "total": 0}
    assert list((app.services.config.data_dir / "files" / str(user["id"])).iterdir()) == []


def test_trash_items_of_others_and_unknown_kinds_are_404(client, auth, user, tree):
    client.delete(f"/api/files/{tree['top']['id']}", headers=user["headers"])
    other = auth.new_user()
    restore(client, other, "file", tree["top"]["id"], status=404)
    client.delete(f"/api/trash/file/{tree['top']['id']}", headers=other["headers"], status=404)
    restore(client, user, "folder", tree["top"]["id"], status=404)  # right id, wrong kind
    restore(client, user, "files", tree["top"]["id"], status=404)
    restore(client, user, "file", tree["a"]["id"], status=404)  # live, not in the trash
    client.delete("/api/trash", headers=other["headers"])
    assert trash(client, user)["total"] == 1


def test_a_file_inside_a_trashed_folder_is_no_trash_item_of_its_own(client, user, tree):
    client.delete(f"/api/folders/{tree['photos']['id']}", headers=user["headers"])
    restore(client, user, "file", tree["a"]["id"], status=404)
    client.delete(f"/api/trash/file/{tree['a']['id']}", headers=user["headers"], status=404)


def log_in_again(auth, user) -> dict:
    """The same user with a fresh token: the clock has moved past the old one's life."""
    return {**user, "headers": auth.bearer(auth.login(user["username"]))}


def test_the_sweep_purges_items_trash_days_after_deletion(app, auth, client, user, tree, clock):
    client.delete(f"/api/files/{tree['top']['id']}", headers=user["headers"])
    clock.advance(29 * DAY)
    user = log_in_again(auth, user)
    client.delete(f"/api/folders/{tree['photos']['id']}", headers=user["headers"])
    assert purge_expired(app.services) == 0
    clock.advance(1 * DAY)
    assert purge_expired(app.services) == 1
    user = log_in_again(auth, user)
    assert [i["kind"] for i in trash(client, user)["items"]] == ["folder"]
    assert not app.services.storage.path_of(user["id"], tree["top"]["id"]).exists()
    clock.advance(29 * DAY)
    assert purge_expired(app.services) == 1
    user = log_in_again(auth, user)
    assert usage(client, user)["trash_files"] == 0


def test_the_sweep_also_runs_at_start(make_config, clock):
    config = make_config()
    client = validated_client(create_app(config))
    user = Auth(client).new_user()
    (file,) = forms.upload(client, user, ("old", b"x")).json["data"]["files"]
    client.delete(f"/api/files/{file['id']}", headers=user["headers"])
    clock.advance(31 * DAY)
    restarted = validated_client(create_app(config))
    user = log_in_again(Auth(restarted), user)
    assert restarted.get("/api/trash", headers=user["headers"]).json["data"]["total"] == 0


def test_with_trash_days_zero_deleting_purges_at_once(make_config):
    app = create_app(make_config(trash_days=0))
    client = validated_client(app)
    user = Auth(client).new_user()
    folder = make_folder(client, user, "f")
    inside = upload_into(client, user, folder["id"], "in.txt", b"in")
    (top,) = forms.upload(client, user, ("top", b"top")).json["data"]["files"]
    client.delete(f"/api/files/{top['id']}", headers=user["headers"])
    client.delete(f"/api/folders/{folder['id']}", headers=user["headers"])
    assert client.get("/api/trash", headers=user["headers"]).json["data"]["total"] == 0
    for file in (top, inside):
        assert not app.services.storage.path_of(user["id"], file["id"]).exists()
    assert usage(client, user) | {"quota_bytes": 0} == {
        "files": 0, "bytes": 0, "trash_files": 0, "trash_bytes": 0, "quota_bytes": 0}


def test_trash_paging_is_validated(client, user):
    assert client.get("/api/trash?limit=0", headers=user["headers"], status=400).json["data"] == {
        "error": "invalid_query", "field": "limit"}


def test_a_download_link_dies_when_its_file_goes_to_the_trash(client, user, tree):
    url = client.post(f"/api/files/{tree['top']['id']}/link", headers=user["headers"]).json["data"]["url"]
    client.delete(f"/api/files/{tree['top']['id']}", headers=user["headers"])
    client.get(url, status=404)


def assert_counters_match_rows(app):
    """The per-folder and top-level totals the triggers keep equal a count of the rows."""
    connection = app.services.database.connection()
    for folder_id, kept, counted in connection.execute(
            "SELECT id, file_count, (SELECT count(*) FROM files WHERE folder_id = folders.id"
            " AND trashed_at IS NULL) FROM folders"):
        assert kept == counted, folder_id
    for user_id, kept, counted in connection.execute(
            "SELECT id, top_files, (SELECT count(*) FROM files WHERE user_id = users.id AND folder_id IS NULL"
            " AND trashed_at IS NULL) FROM users"):
        assert kept == counted, user_id


def test_listing_totals_follow_every_upload_move_trash_restore_and_purge(app, client, user, tree):
    steps = [
        lambda: client.patch_json(f"/api/files/{tree['a']['id']}", {"folder_id": tree["year"]["id"]},
                                  headers=user["headers"]),
        lambda: client.patch_json(f"/api/files/{tree['top']['id']}", {"folder_id": tree["photos"]["id"]},
                                  headers=user["headers"]),
        lambda: client.patch_json(f"/api/files/{tree['top']['id']}", {"folder_id": None}, headers=user["headers"]),
        lambda: client.delete(f"/api/files/{tree['b']['id']}", headers=user["headers"]),
        lambda: client.delete(f"/api/folders/{tree['photos']['id']}", headers=user["headers"]),
        lambda: restore(client, user, "folder", tree["photos"]["id"]),
        lambda: restore(client, user, "file", tree["b"]["id"]),
        lambda: client.delete(f"/api/files/{tree['top']['id']}", headers=user["headers"]),
        lambda: client.delete(f"/api/trash/file/{tree['top']['id']}", headers=user["headers"]),
        lambda: client.delete(f"/api/folders/{tree['year']['id']}", headers=user["headers"]),
        lambda: client.delete("/api/trash", headers=user["headers"]),
    ]
    assert_counters_match_rows(app)
    for step in steps:
        step()
        assert_counters_match_rows(app)
    totals = {place: client.get("/api/files", params={"folder_id": place}, headers=user["headers"]).json["data"]
              ["total"] for place in ("root", tree["photos"]["id"])}
    assert totals == {"root": 0, tree["photos"]["id"]: 0}


def test_the_start_up_recount_keeps_the_trash_and_the_folders_apart(app, client, user, tree):
    """reconcile.py recounts usage from the rows after a crash: trashed files stay trash, totals stay per folder."""
    from authupload.files import reconcile
    client.delete(f"/api/files/{tree['top']['id']}", headers=user["headers"])
    before = usage(client, user)
    services = app.services
    services.database.execute("UPDATE users SET file_count = 0, file_bytes = 0, trash_files = 0, trash_bytes = 0,"
                              " top_files = 7")
    services.database.execute("UPDATE folders SET file_count = 99")
    reconcile.reconcile(services.database, services.storage, services.uploads)
    assert usage(client, user) == before
    assert_counters_match_rows(app)


def test_files_in_the_trash_count_toward_the_bound_on_files(make_config):
    client = validated_client(create_app(make_config(max_files_per_user=2)))
    user = Auth(client).new_user()
    (first,) = forms.upload(client, user, ("a", b"a")).json["data"]["files"]
    forms.upload(client, user, ("b", b"b"))
    client.delete(f"/api/files/{first['id']}", headers=user["headers"])
    assert forms.upload(client, user, ("c", b"c"), status=413).json["data"]["error"] == "too_many_files"
    client.delete(f"/api/trash/file/{first['id']}", headers=user["headers"])
    forms.upload(client, user, ("c", b"c"))


def test_an_account_with_folders_and_a_trash_is_deleted_whole(app, client, user, tree):
    """Deleting the account row (as the admin's deletion does) takes folders, files and trash items with it."""
    client.delete(f"/api/files/{tree['b']['id']}", headers=user["headers"])
    client.delete(f"/api/folders/{tree['photos']['id']}", headers=user["headers"])
    database = app.services.database
    database.execute("DELETE FROM users WHERE id = ?", (user["id"],))
    for table in ("files", "folders"):
        assert database.execute(f"SELECT count(*) FROM {table} WHERE user_id = ?", (user["id"],)).fetchone()[0] == 0
