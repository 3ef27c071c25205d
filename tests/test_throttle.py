"""Failed-login throttling (API.md "Accounts"): 429 + Retry-After, per username and per address,
shared by every thread and every process that uses one data directory."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest
import webtest

from authupload import create_app

from live_server import LiveServer
from support import validated_client

PASSWORD = "correct horse"


def login(client, username, password, address="192.0.2.1"):
    return client.post_json("/api/login", {"username": username, "password": password},
                            extra_environ={"REMOTE_ADDR": address}, expect_errors=True)


def fail(client, username, times, address="192.0.2.1"):
    statuses = [login(client, username, "wrong horse", address).status_int for _ in range(times)]
    return statuses


def assert_locked(response):
    assert response.status_int == 429, response.text
    assert response.json["code"] == 429
    assert response.json["data"] == {"error": "too_many_attempts"}
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit() and 0 < int(retry_after) <= 15 * 60
    return int(retry_after)


def test_ten_failures_lock_the_username_with_429_and_retry_after(client, auth):
    auth.register("alice123")
    assert fail(client, "alice123", 10) == [401] * 10
    assert assert_locked(login(client, "alice123", "wrong horse")) == 15 * 60


def test_a_locked_username_refuses_the_right_password_too(client, auth):
    auth.register("alice123")
    fail(client, "alice123", 10)
    assert_locked(login(client, "alice123", PASSWORD))


def test_retry_after_counts_down_with_time(client, auth, clock):
    auth.register("alice123")
    fail(client, "alice123", 10)
    clock.advance(100)
    assert assert_locked(login(client, "alice123", PASSWORD)) == 15 * 60 - 100


def test_a_locked_username_leaves_other_usernames_alone(client, auth):
    auth.register("alice123")
    auth.register("bob12345")
    fail(client, "alice123", 10)
    assert login(client, "bob12345", PASSWORD).status_int == 200
    assert login(client, "bob12345", "wrong horse").status_int == 401


@pytest.mark.parametrize("locking_case, trying_case", [("alice123", "ALICE123"), ("ALICE123", "Alice123")])
def test_letter_case_variants_share_one_counter(client, auth, locking_case, trying_case):
    auth.register("Alice123")
    fail(client, locking_case, 5)
    fail(client, trying_case, 5)
    assert_locked(login(client, trying_case, PASSWORD))
    assert_locked(login(client, "alice123", PASSWORD))


def test_unknown_usernames_are_counted_and_locked_too(client):
    assert fail(client, "nobody99", 10) == [401] * 10
    assert_locked(login(client, "nobody99", "wrong horse"))


def test_the_lock_expires_after_login_lock_seconds(client, auth, clock):
    auth.register("alice123")
    fail(client, "alice123", 10)
    clock.advance(15 * 60 - 1)
    assert_locked(login(client, "alice123", PASSWORD))
    clock.advance(1)
    assert login(client, "alice123", PASSWORD).status_int == 200


def test_failures_older_than_the_window_are_forgotten(client, auth, clock):
    auth.register("alice123")
    fail(client, "alice123", 9)
    clock.advance(15 * 60 + 1)
    assert fail(client, "alice123", 9) == [401] * 9
    assert login(client, "alice123", PASSWORD).status_int == 200


def test_a_successful_login_clears_the_usernames_failures(client, auth):
    auth.register("alice123")
    fail(client, "alice123", 9)
    assert login(client, "alice123", PASSWORD).status_int == 200
    assert fail(client, "alice123", 10) == [401] * 10
    assert_locked(login(client, "alice123", PASSWORD))


def test_the_address_limit_locks_one_address_across_usernames(make_config):
    client = validated_client(create_app(make_config(max_failures_per_address=5)))
    client.post_json("/api/register", {"username": "alice123", "password": PASSWORD})
    for number in range(5):
        assert login(client, f"guess{number:04d}", "x", address="203.0.113.66").status_int == 401
    assert_locked(login(client, "another1", "x", address="203.0.113.66"))
    assert_locked(login(client, "alice123", PASSWORD, address="203.0.113.66"))
    # Another address, and the usernames themselves, are not locked.
    assert login(client, "alice123", PASSWORD, address="203.0.113.67").status_int == 200
    assert login(client, "guess0000", "x", address="203.0.113.67").status_int == 401


def test_the_address_lock_expires_too(make_config, clock):
    client = validated_client(create_app(make_config(max_failures_per_address=5)))
    client.post_json("/api/register", {"username": "alice123", "password": PASSWORD})
    for number in range(5):
        login(client, f"guess{number:04d}", "x", address="203.0.113.66")
    clock.advance(15 * 60)
    assert login(client, "alice123", PASSWORD, address="203.0.113.66").status_int == 200


def test_a_busy_refusal_does_not_count_as_a_failure(make_config):
    app = create_app(make_config(hash_concurrency=1, hash_queue_limit=0, max_failures_per_username=3))
    client = validated_client(app)
    client.post_json("/api/register", {"username": "alice123", "password": PASSWORD})
    with app.services.passwords.gate:  # every bcrypt slot taken: logins are answered 503 at once
        for _ in range(5):
            response = login(client, "alice123", "wrong horse")
            assert response.status_int == 503
            assert response.json["data"]["error"] == "server_busy"
            assert response.headers["Retry-After"] == "1"
    assert login(client, "alice123", PASSWORD).status_int == 200


def test_thirty_parallel_wrong_passwords_let_at_most_ten_through(make_config):
    # The real WSGI app, called from many threads at once; the gate is wide so only the throttle decides.
    app = create_app(make_config(hash_concurrency=8, hash_queue_limit=64))
    validated_client(app).post_json("/api/register", {"username": "alice123", "password": PASSWORD})
    statuses = []
    barrier = threading.Barrier(30)

    def guess():
        request = webtest.TestRequest.blank(
            "/api/login", method="POST", content_type="application/json",
            body=b'{"username": "alice123", "password": "wrong horse"}',
            environ={"REMOTE_ADDR": "192.0.2.1"})
        seen = {}
        barrier.wait()
        body = app(request.environ, lambda status, headers, exc_info=None: seen.setdefault("s", status))
        b"".join(body)
        body.close()
        statuses.append(int(seen["s"].split()[0]))

    threads = [threading.Thread(target=guess) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(statuses) == 30
    assert set(statuses) <= {401, 429}
    assert statuses.count(401) <= 10
    assert statuses.count(401) + statuses.count(429) == 30


# --- across processes ----------------------------------------------------------


def http_post(url, body, address_hint=None):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


@pytest.mark.slow
def test_throttling_holds_across_two_processes_sharing_a_data_directory(tmp_path):
    data_dir = tmp_path / "data"
    with LiveServer(data_dir, "--bcrypt-cost", "4") as first:
        with LiveServer(data_dir, "--bcrypt-cost", "4") as second:
            assert http_post(first.url + "/api/register", {"username": "alice123", "password": PASSWORD})[0] == 200
            wrong = {"username": "alice123", "password": "wrong horse"}
            for number in range(10):
                server = first if number % 2 else second
                assert http_post(server.url + "/api/login", wrong)[0] == 401
            for server in (first, second):
                status, headers = http_post(server.url + "/api/login", {"username": "alice123", "password": PASSWORD})
                assert status == 429
                assert int(headers["Retry-After"]) > 0


# --- registrations per address ------------------------------------------------------------


def register(client, username, address):
    return client.post_json("/api/register", {"username": username, "password": PASSWORD},
                            extra_environ={"REMOTE_ADDR": address}, expect_errors=True)


@pytest.fixture
def bounded_client(make_config):
    return webtest.TestApp(create_app(make_config(max_registrations_per_address=3)))


def test_registrations_from_one_address_are_bounded_per_hour_with_429_and_retry_after(bounded_client, clock):
    assert [register(bounded_client, f"flood{n:03d}x", "192.0.2.7").status_int for n in range(3)] == [200] * 3
    refused = register(bounded_client, "flood999x", "192.0.2.7")
    assert refused.status_int == 429
    assert refused.json["data"] == {"error": "too_many_attempts"}
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert register(bounded_client, "elsewhere1", "198.51.100.1").status_int == 200  # another address is not held
    clock.advance(3600)
    assert register(bounded_client, "flood999x", "192.0.2.7").status_int == 200  # the hour has passed


def test_a_refused_registration_creates_no_account(bounded_client):
    for n in range(3):
        register(bounded_client, f"flood{n:03d}x", "192.0.2.7")
    assert register(bounded_client, "refused01", "192.0.2.7").status_int == 429
    assert login(bounded_client, "refused01", PASSWORD).status_int == 401


def test_a_taken_name_does_not_use_up_the_addresss_registrations(bounded_client):
    register(bounded_client, "takenname", "192.0.2.7")
    statuses = [register(bounded_client, "takenname", "192.0.2.7").status_int for _ in range(5)]
    assert statuses == [409] * 5  # answered before the hash: no bcrypt, nothing counted
    assert register(bounded_client, "another01", "192.0.2.7").status_int == 200


def test_parallel_registrations_from_one_address_let_at_most_the_limit_through(bounded_client):
    statuses = []

    def attempt(n):
        statuses.append(register(bounded_client, f"racer{n:03d}x", "192.0.2.7").status_int)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(200) <= 3
    assert set(statuses) <= {200, 429, 503}


def test_a_registration_flood_from_one_address_never_keeps_another_from_logging_in(make_config):
    """bcrypt at a real-ish cost and a gate of one: without the bound, the flood holds the gate and logins get 503."""
    app = create_app(make_config(bcrypt_cost=9, hash_concurrency=1, hash_queue_limit=1,
                                 max_registrations_per_address=10))
    bystander = webtest.TestApp(app)
    assert register(bystander, "bystander1", "198.51.100.1").status_int == 200
    stop = threading.Event()
    flood_statuses = []

    def flood(worker):
        flooder = webtest.TestApp(app)
        number = 0
        while not stop.is_set() and number < 200:
            number += 1
            flood_statuses.append(register(flooder, f"f{worker}n{number:04d}x", "192.0.2.66").status_int)

    flooders = [threading.Thread(target=flood, args=(worker,)) for worker in range(6)]
    for thread in flooders:
        thread.start()
    try:
        while len(flood_statuses) < 30 and any(thread.is_alive() for thread in flooders):
            stop.wait(0.01)  # until the flood is past its share (10) and still going
        logins = [login(bystander, "bystander1", PASSWORD, "198.51.100.1").status_int for _ in range(10)]
    finally:
        stop.set()
        for thread in flooders:
            thread.join()
    assert logins == [200] * 10
    assert flood_statuses.count(200) <= 10
