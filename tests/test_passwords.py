"""Password hashing (passwords.py): exact beyond 72 bytes, long input, a bounded gate, timing parity."""

from __future__ import annotations

import threading
import time

import bcrypt
import pytest

from authupload import Config, create_app
from authupload import config as config_module
from authupload.accounts.passwords import HashGate, PasswordHasher
from authupload.server import build_server
from authupload.web.http import HTTPError
from support import validated_client


@pytest.fixture
def hasher():
    return PasswordHasher(4, HashGate(2, 2))


def test_a_hash_verifies_its_password_and_nothing_else(hasher):
    stored = hasher.hash_password("correct horse")
    assert hasher.verify_password("correct horse", stored)
    assert not hasher.verify_password("correct horsE", stored)
    assert not hasher.verify_password("", stored)


def test_hashes_are_salted_bcrypt_at_the_configured_cost(hasher):
    first, second = hasher.hash_password("same"), hasher.hash_password("same")
    assert first != second
    assert first.startswith("$2b$04$")


@pytest.mark.parametrize("password, other", [
    ("a" * 72 + "one", "a" * 72 + "two"),  # differ only after byte 72
    ("a" * 100, "a" * 101),
    ("é" * 36 + "x", "é" * 36 + "y"),  # 72 bytes of two-byte characters, then a difference
    ("x" * 1024, "x" * 1023 + "y"),
])
def test_passwords_differing_after_byte_72_are_different(hasher, password, other):
    stored = hasher.hash_password(password)
    assert hasher.verify_password(password, stored)
    assert not hasher.verify_password(other, stored)


@pytest.mark.parametrize("password", [
    "x" * 1024,
    "😀" * 1024,  # 4096 UTF-8 bytes: bcrypt 5 alone would raise ValueError
    "nul\x00byte",
    "\x00",
    "\x00" * 8,
    "密码 with emoji 😀 and NUL \x00 and more",
])
def test_long_nul_and_emoji_passwords_hash_and_verify_without_crashing(hasher, password):
    stored = hasher.hash_password(password)
    assert hasher.verify_password(password, stored)


def test_a_nul_does_not_truncate_the_password(hasher):
    stored = hasher.hash_password("abc\x00def")
    assert not hasher.verify_password("abc", stored)
    assert not hasher.verify_password("abc\x00xyz", stored)


def test_bcrypt_itself_cannot_take_more_than_72_bytes():
    """Why the pre-hash exists: bcrypt 5 refuses a longer input (a 500 without it), and
    bcrypt 4 — the declared floor — silently ignores everything after byte 72."""
    salt = bcrypt.gensalt(4)
    try:
        long_hash = bcrypt.hashpw(b"x" * 72 + b"tail", salt)
    except ValueError:
        return  # bcrypt 5: refused
    assert long_hash == bcrypt.hashpw(b"x" * 72 + b"other tail", salt)  # bcrypt 4: the tails never counted


def test_unknown_user_check_returns_false(hasher):
    assert hasher.verify_password("anything", None) is False


def hold_gate(gate: HashGate):
    """Occupy one place of the gate from another thread until the returned event is set."""
    entered, release = threading.Event(), threading.Event()

    def hold():
        with gate:
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert entered.wait(5)
    return release, thread


def test_a_full_gate_answers_503_at_once():
    gate = HashGate(1, 0)
    hasher = PasswordHasher(4, gate)
    stored = hasher.hash_password("correct horse")
    release, thread = hold_gate(gate)
    try:
        started = time.monotonic()
        with pytest.raises(HTTPError) as raised:
            hasher.verify_password("correct horse", stored)
        assert time.monotonic() - started < 0.5
        assert raised.value.status == 503
        assert raised.value.key == "server_busy"
        assert ("Retry-After", "1") in raised.value.headers
        with pytest.raises(HTTPError):
            hasher.hash_password("correct horse")
    finally:
        release.set()
        thread.join()
    assert hasher.verify_password("correct horse", stored)  # the place is free again


def test_a_waiting_place_lets_one_more_wait_for_a_slot():
    gate = HashGate(1, 1)
    hasher = PasswordHasher(4, gate)
    stored = hasher.hash_password("pw")
    release, thread = hold_gate(gate)
    results = []
    waiter = threading.Thread(target=lambda: results.append(hasher.verify_password("pw", stored)))
    try:
        waiter.start()
        time.sleep(0.2)  # the waiter is now queued behind the held slot
        assert results == []
        with pytest.raises(HTTPError):  # the third is refused: one running, one waiting
            hasher.verify_password("pw", stored)
    finally:
        release.set()
        thread.join()
        waiter.join()
    assert results == [True]


def test_a_full_gate_makes_login_503_server_busy(make_config):
    app = create_app(make_config(hash_concurrency=1, hash_queue_limit=0))
    client = validated_client(app)
    client.post_json("/api/register", {"username": "alice123", "password": "correct horse"})
    release, thread = hold_gate(app.services.passwords.gate)
    try:
        response = client.post_json("/api/login", {"username": "alice123", "password": "correct horse"},
                                    expect_errors=True)
        assert response.status_int == 503
        assert response.json == {"code": 503, "message": response.json["message"], "data": {"error": "server_busy"}}
        # Requests that need no bcrypt are still answered.
        assert client.get("/api/health").status_int == 200
    finally:
        release.set()
        thread.join()


@pytest.mark.slow
def test_unknown_user_and_wrong_password_take_about_the_same_time(make_config):
    client = validated_client(create_app(make_config(bcrypt_cost=10, max_failures_per_username=1000,
                                                    max_failures_per_address=1000)))
    client.post_json("/api/register", {"username": "alice123", "password": "correct horse"})

    def timed(username):
        started = time.perf_counter()
        response = client.post_json("/api/login", {"username": username, "password": "wrong horse"},
                                    expect_errors=True)
        assert response.status_int == 401
        return time.perf_counter() - started

    wrong_password, unknown_user = [], []
    for _ in range(9):  # interleaved, so load from other processes hits both alike
        wrong_password.append(timed("alice123"))
        unknown_user.append(timed("nobody99"))
    # The fastest of each: load from other processes only ever adds time, so the
    # minimum is the work the server itself did (a skipped hash would be ~100× faster).
    ratio = min(unknown_user) / min(wrong_password)
    assert 1 / 1.5 < ratio < 1.5, (wrong_password, unknown_user)


# --- a burst is served; only real overload is refused ------------------------------


def test_a_burst_of_16_logins_and_registrations_is_served_in_full(make_config):
    """16 people at once on 2 bcrypt slots: all answered as they deserve, none refused as busy.

    Cost 10 (tens of ms) keeps the hashes in flight together, so most of the burst
    really waits for a slot: a small fixed queue would refuse some of it.
    """
    app = create_app(make_config(bcrypt_cost=10, hash_concurrency=2))
    client = validated_client(app)
    for name in ("alice123", "bobby123"):
        client.post_json("/api/register", {"username": name, "password": "correct horse"})
    attempts = [("/api/login", "alice123", "correct horse", 200)] * 5 + \
        [("/api/login", "bobby123", "wrong horse", 401)] * 3 + \
        [("/api/register", "bobby123", "correct horse", 409)] * 2 + \
        [("/api/register", f"newuser{n}", "correct horse", 200) for n in range(6)]
    start = threading.Barrier(len(attempts))
    statuses = {}

    def attempt(index, path, username, password):
        start.wait()
        response = client.post_json(path, {"username": username, "password": password}, expect_errors=True)
        statuses[index] = response.status_int

    threads = [threading.Thread(target=attempt, args=(index, *row[:3])) for index, row in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [statuses[index] for index in range(len(attempts))] == [row[3] for row in attempts]


def test_the_default_queue_is_sized_by_the_latency_budget():
    config = Config()
    budget, hash_seconds = config_module.LOGIN_WAIT_BUDGET_SECONDS, config_module.HASH_SECONDS
    assert config.hash_queue_limit == int(budget / (hash_seconds / config.hash_concurrency))
    assert config.hash_queue_limit >= 16  # a burst of 16 fits, whatever the number of cores


@pytest.mark.parametrize("cores, queue_limit", [(2, 80), (4, 64), (1, 40)])
def test_a_full_sign_up_queue_waits_as_long_as_a_full_login_queue(make_config, cores, queue_limit):
    """Sign-ups hash one at a time: their queue is one login slot's share, so the latency budget holds for both."""
    services = create_app(make_config(hash_concurrency=cores, hash_queue_limit=queue_limit)).services
    login_wait = services.passwords.gate.busy().headers
    sign_up_wait = services.registration_passwords.gate.busy().headers
    assert sign_up_wait == login_wait  # the same Retry-After: the time the places taken now take to hash


def test_the_server_gives_waiting_logins_threads_of_their_own(make_config):
    """Full gates hold a thread per place (logins: 2 running + 6 waiting; sign-ups: 1 + 6 ÷ 2): waitress gets that many more."""
    server = build_server(make_config(port=0, threads=3, hash_concurrency=2, hash_queue_limit=6))
    try:
        assert len(server.task_dispatcher.threads) == 3 + (2 + 6) + (1 + 3)
    finally:
        server.close()
        server.task_dispatcher.shutdown()


def test_the_pool_wakes_the_thread_that_went_idle_last(make_config):
    """So steady traffic stays on a few warm threads and the reserve for bursts sleeps (server.WorkerPool)."""
    server = build_server(make_config(port=0, threads=3, hash_concurrency=2, hash_queue_limit=5))
    pool = server.task_dispatcher
    served_by = []

    class Task:
        def service(self):
            served_by.append(threading.current_thread().name)

        def cancel(self):
            pass

    try:
        deadline = time.monotonic() + 5
        while pool.active_count and time.monotonic() < deadline:
            time.sleep(0.01)  # until every thread is asleep, in the order they started
        for _ in range(20):
            pool.add_task(Task())
            time.sleep(0.01)  # each task done before the next: one idle thread is enough
        assert len(served_by) == 20 and len(set(served_by)) == 1, served_by
    finally:
        server.close()
        pool.shutdown()


def test_overload_is_503_with_retry_after_when_the_queue_will_have_drained():
    gate = HashGate(2, 6, hash_seconds=0.75)
    holders = [hold_gate(gate) for _ in range(2)]  # both slots hashing
    def wait_for_a_slot():
        with gate:
            pass

    waiters = [threading.Thread(target=wait_for_a_slot) for _ in range(6)]  # every waiting place taken
    for waiter in waiters:
        waiter.start()
    try:
        refusals = []
        deadline = time.monotonic() + 5
        while not refusals and time.monotonic() < deadline:
            try:
                gate.raise_if_full()
            except HTTPError as refusal:
                refusals.append(refusal)
            time.sleep(0.01)
        assert refusals[0].status == 503
        assert ("Retry-After", "3") in refusals[0].headers  # 8 places ÷ 2 slots × 0.75 s
    finally:
        for release, thread in holders:
            release.set()
            thread.join()
        for waiter in waiters:
            waiter.join()
