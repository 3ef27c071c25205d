"""Two-factor sign-in through the API (API.md "Account security"): setup, enable, the two-step
login, codes accepted once, recovery codes, the throttle, turning off and new recovery codes."""

from __future__ import annotations

import sqlite3

import pytest

from authupload.accounts import totp
from support import assert_error

PASSWORD = "correct horse"


def code_now(secret: str, clock, drift_seconds: float = 0) -> str:
    """What the authenticator app shows: the test computes it from the secret, as the app would."""
    return totp.code_at(totp.secret_from_base32(secret), clock() + drift_seconds)


def next_step(clock) -> None:
    """Wait (in test time) for the app to show a new code: each code works once."""
    clock.advance(totp.STEP_SECONDS)


def setup(client, user, password=PASSWORD):
    return client.post_json("/api/totp/setup", {"password": password}, headers=user["headers"], expect_errors=True)


def enable(client, user, code):
    return client.post_json("/api/totp/enable", {"code": code}, headers=user["headers"], expect_errors=True)


def turn_on(client, user, clock) -> dict:
    """Setup and enable for ``user``; returns the secret and the recovery codes."""
    secret = setup(client, user).json["data"]["secret"]
    recovery_codes = enable(client, user, code_now(secret, clock)).json["data"]["recovery_codes"]
    clock.advance(2 * totp.STEP_SECONDS)  # the step before "now" unused too, for the drift tests
    return {"secret": secret, "recovery_codes": recovery_codes}


def password_step(client, user, password=PASSWORD):
    return client.post_json("/api/login", {"username": user["username"], "password": password}, expect_errors=True)


def code_step(client, mfa_token, code):
    return client.post_json("/api/login/totp", {"mfa_token": mfa_token, "code": code}, expect_errors=True)


def mfa_token_of(client, user) -> str:
    return password_step(client, user).json["data"]["mfa_token"]


@pytest.fixture
def user(auth):
    return auth.new_user()


@pytest.fixture
def enrolled(client, user, clock):
    """A user with two-factor sign-in on: the user's fields plus ``secret`` and ``recovery_codes``."""
    return {**user, **turn_on(client, user, clock)}


# --- setup and enable ------------------------------------------------------------------------


def test_setup_gives_a_secret_and_its_uri_and_changes_nothing_yet(client, user):
    data = setup(client, user).json["data"]
    assert set(data) == {"secret", "otpauth_uri"}
    assert len(totp.secret_from_base32(data["secret"])) == 20
    assert data["otpauth_uri"] == totp.otpauth_uri("authupload", user["username"],
                                                   totp.secret_from_base32(data["secret"]))
    assert client.get("/api/me", headers=user["headers"]).json["data"]["totp"] is False
    assert "access_token" in password_step(client, user).json["data"]  # the login is as before


def test_setup_with_a_wrong_password_is_400_and_gives_no_secret(client, user):
    response = setup(client, user, password="not my password")
    assert_error(response, 400, "wrong_old_password", "password")


def test_enable_with_the_apps_code_turns_it_on_and_shows_ten_recovery_codes(client, user, clock):
    secret = setup(client, user).json["data"]["secret"]
    response = enable(client, user, code_now(secret, clock))
    codes = response.json["data"]["recovery_codes"]
    assert len(codes) == 10 == len(set(codes))
    assert client.get("/api/me", headers=user["headers"]).json["data"]["totp"] is True


def test_recovery_codes_are_stored_hashed(client, enrolled, app):
    with sqlite3.connect(app.services.config.data_dir / "authupload.db") as database:
        stored = [row[0] for row in database.execute("SELECT code_hash FROM recovery_codes")]
    assert len(stored) == 10
    for code in enrolled["recovery_codes"]:
        assert code not in stored and code.replace("-", "") not in stored


@pytest.mark.parametrize("wrong", ["000000", "12345", "1234567", "abcdef", "", "x" * 1000])
def test_enable_with_a_wrong_or_malformed_code_is_400_invalid_code(client, user, clock, wrong):
    setup(client, user)
    assert_error(enable(client, user, wrong), 400, "invalid_code", "code")
    assert client.get("/api/me", headers=user["headers"]).json["data"]["totp"] is False


def test_enable_with_an_expired_code_is_400(client, user, clock):
    secret = setup(client, user).json["data"]["secret"]
    old_code = code_now(secret, clock, drift_seconds=-2 * totp.STEP_SECONDS)
    assert_error(enable(client, user, old_code), 400, "invalid_code", "code")


def test_enable_without_setup_is_400_invalid_code(client, user):
    assert_error(enable(client, user, "123456"), 400, "invalid_code", "code")


@pytest.mark.parametrize("body", [{}, {"code": 123456}, {"code": None}])
def test_enable_without_a_string_code_is_400_invalid_field(client, user, body):
    response = client.post_json("/api/totp/enable", body, headers=user["headers"], expect_errors=True)
    assert_error(response, 400, "invalid_field", "code")


def test_codes_are_accepted_as_people_type_them(client, user, clock):
    secret = setup(client, user).json["data"]["secret"]
    clock.now = 1_900_000_000 - 1_900_000_000 % 30  # a step start …
    while not code_now(secret, clock).startswith("0"):
        next_step(clock)  # … whose code has a leading zero (one step in ten)
    code = code_now(secret, clock)
    assert enable(client, user, f" {code[:3]} {code[3:]} ").status_int == 200


def test_setup_again_while_on_is_409_and_keeps_the_secret(client, enrolled, clock):
    assert_error(setup(client, enrolled), 409, "totp_already_enabled")
    mfa_token = mfa_token_of(client, enrolled)
    assert code_step(client, mfa_token, code_now(enrolled["secret"], clock)).status_int == 200


# --- the two-step login -----------------------------------------------------------------------


def test_the_password_step_gives_an_mfa_token_and_no_access_token(client, enrolled):
    response = password_step(client, enrolled)
    assert response.status_int == 200
    data = response.json["data"]
    assert set(data) == {"mfa_required", "mfa_token", "expires_in"}
    assert data["mfa_required"] is True and data["expires_in"] == 300


def test_the_code_step_finishes_the_login(client, auth, enrolled, clock):
    response = code_step(client, mfa_token_of(client, enrolled), code_now(enrolled["secret"], clock))
    data = response.json["data"]
    assert set(data) == {"access_token", "token_type", "expires_in"}
    me = client.get("/api/me", headers=auth.bearer(data["access_token"])).json["data"]
    assert me["username"] == enrolled["username"] and me["totp"] is True


def test_a_wrong_password_is_still_401_invalid_credentials(client, enrolled):
    assert_error(password_step(client, enrolled, password="wrong password"), 401, "invalid_credentials")


@pytest.mark.parametrize("drift, accepted", [(-60, False), (-30, True), (30, True), (60, False)])
def test_one_step_of_clock_drift_either_way_is_accepted(client, enrolled, clock, drift, accepted):
    response = code_step(client, mfa_token_of(client, enrolled), code_now(enrolled["secret"], clock, drift))
    if accepted:
        assert response.status_int == 200
    else:
        assert_error(response, 401, "invalid_code", "code")


def test_a_code_is_accepted_once(client, enrolled, clock):
    code = code_now(enrolled["secret"], clock)
    assert code_step(client, mfa_token_of(client, enrolled), code).status_int == 200
    assert_error(code_step(client, mfa_token_of(client, enrolled), code), 401, "invalid_code", "code")
    clock.advance(20)  # still the same step, or the next one: the code stays spent
    assert_error(code_step(client, mfa_token_of(client, enrolled), code), 401, "invalid_code", "code")


def test_an_older_code_is_refused_once_a_newer_one_was_used(client, enrolled, clock):
    previous = code_now(enrolled["secret"], clock, drift_seconds=-30)
    assert code_step(client, mfa_token_of(client, enrolled), code_now(enrolled["secret"], clock)).status_int == 200
    assert_error(code_step(client, mfa_token_of(client, enrolled), previous), 401, "invalid_code", "code")


def test_a_recovery_code_works_once_ever(client, enrolled, clock):
    recovery_code = enrolled["recovery_codes"][0]
    assert code_step(client, mfa_token_of(client, enrolled), recovery_code).status_int == 200
    clock.advance(3600)
    assert_error(code_step(client, mfa_token_of(client, enrolled), recovery_code), 401, "invalid_code", "code")
    # The others still work, typed in capitals and with spaces.
    other = enrolled["recovery_codes"][1].upper().replace("-", " ")
    assert code_step(client, mfa_token_of(client, enrolled), other).status_int == 200


def test_an_expired_mfa_token_is_401_token_expired(client, enrolled, clock):
    mfa_token = mfa_token_of(client, enrolled)
    clock.advance(301)
    response = code_step(client, mfa_token, code_now(enrolled["secret"], clock))
    assert_error(response, 401, "token_expired")


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/me"), ("GET", "/api/files"), ("POST", "/api/token/refresh"), ("POST", "/api/logout"),
    ("GET", "/api/sessions"), ("GET", "/api/activity"), ("POST", "/api/uploads"),
])
def test_an_mfa_token_opens_nothing_as_a_bearer(client, auth, enrolled, method, path):
    headers = {**auth.bearer(mfa_token_of(client, enrolled)), "Tus-Resumable": "1.0.0", "Upload-Length": "1"}
    response = client.request(path, method=method, headers=headers, expect_errors=True)
    assert_error(response, 401, "token_invalid")


def test_an_access_token_is_no_mfa_token(client, enrolled, clock):
    response = code_step(client, enrolled["token"], code_now(enrolled["secret"], clock))
    assert_error(response, 401, "token_invalid")


@pytest.mark.parametrize("garbage", ["", "not a token", "a.b.c"])
def test_a_forged_mfa_token_is_401_token_invalid(client, garbage):
    assert_error(code_step(client, garbage, "123456"), 401, "token_invalid")


def test_ten_wrong_codes_lock_the_name_like_ten_wrong_passwords(client, enrolled, clock):
    # Right passwords in between must not wipe the count, or codes could be guessed forever.
    for attempt in range(10):
        mfa_token = mfa_token_of(client, enrolled)
        assert_error(code_step(client, mfa_token, "000000" if attempt % 2 else "999999"), 401, "invalid_code", "code")
    response = code_step(client, mfa_token, code_now(enrolled["secret"], clock))
    assert_error(response, 429, "too_many_attempts")
    assert int(response.headers["Retry-After"]) > 0
    assert_error(password_step(client, enrolled), 429, "too_many_attempts")


def test_a_right_code_clears_the_names_failures(client, enrolled, clock):
    for _ in range(9):
        code_step(client, mfa_token_of(client, enrolled), "000000")
    assert code_step(client, mfa_token_of(client, enrolled), code_now(enrolled["secret"], clock)).status_int == 200
    for _ in range(9):
        code_step(client, mfa_token_of(client, enrolled), "000000")
    next_step(clock)
    assert code_step(client, mfa_token_of(client, enrolled), code_now(enrolled["secret"], clock)).status_int == 200


def test_a_password_change_kills_a_pending_mfa_token(client, auth, enrolled, clock):
    mfa_token = mfa_token_of(client, enrolled)
    client.post_json("/api/password", {"old_password": PASSWORD, "new_password": "another password"},
                     headers=enrolled["headers"])
    assert_error(code_step(client, mfa_token, code_now(enrolled["secret"], clock)), 401, "token_revoked")


# --- turning it off, new recovery codes ------------------------------------------------------


def disable(client, user, password, code):
    return client.post_json("/api/totp/disable", {"password": password, "code": code}, headers=user["headers"],
                            expect_errors=True)


def new_codes(client, user, password, code):
    return client.post_json("/api/totp/recovery-codes", {"password": password, "code": code},
                            headers=user["headers"], expect_errors=True)


def test_disable_with_password_and_code_turns_it_off(client, enrolled, clock):
    assert disable(client, enrolled, PASSWORD, code_now(enrolled["secret"], clock)).status_int == 200
    assert client.get("/api/me", headers=enrolled["headers"]).json["data"]["totp"] is False
    assert "access_token" in password_step(client, enrolled).json["data"]


def test_disable_with_a_recovery_code_works(client, enrolled):
    assert disable(client, enrolled, PASSWORD, enrolled["recovery_codes"][3]).status_int == 200


def test_disable_without_the_code_is_refused(client, enrolled, clock):
    assert_error(disable(client, enrolled, PASSWORD, "000000"), 400, "invalid_code", "code")
    response = client.post_json("/api/totp/disable", {"password": PASSWORD}, headers=enrolled["headers"],
                                expect_errors=True)
    assert_error(response, 400, "invalid_field", "code")
    assert_error(disable(client, enrolled, "wrong password", code_now(enrolled["secret"], clock)),
                 400, "wrong_old_password", "password")
    assert client.get("/api/me", headers=enrolled["headers"]).json["data"]["totp"] is True


def test_disable_when_it_is_off_is_409(client, user):
    assert_error(disable(client, user, PASSWORD, "123456"), 409, "totp_not_enabled")


def test_new_recovery_codes_replace_the_old_ones(client, enrolled, clock):
    response = new_codes(client, enrolled, PASSWORD, code_now(enrolled["secret"], clock))
    fresh = response.json["data"]["recovery_codes"]
    assert len(fresh) == 10 and not set(fresh) & set(enrolled["recovery_codes"])
    assert_error(code_step(client, mfa_token_of(client, enrolled), enrolled["recovery_codes"][5]),
                 401, "invalid_code", "code")
    assert code_step(client, mfa_token_of(client, enrolled), fresh[0]).status_int == 200


def test_new_recovery_codes_need_password_and_code(client, enrolled, clock):
    assert_error(new_codes(client, enrolled, PASSWORD, "000000"), 400, "invalid_code", "code")
    assert_error(new_codes(client, enrolled, "wrong password", code_now(enrolled["secret"], clock)),
                 400, "wrong_old_password", "password")
    assert code_step(client, mfa_token_of(client, enrolled), enrolled["recovery_codes"][0]).status_int == 200


def test_an_admin_can_remove_a_lost_second_factor(client, enrolled, app):
    from authupload.accounts.second_factor import remove_second_factor
    with app.services.database.transaction() as connection:
        assert remove_second_factor(connection, enrolled["id"]) is True
        assert remove_second_factor(connection, enrolled["id"]) is False
    assert "access_token" in password_step(client, enrolled).json["data"]
    assert client.get("/api/me", headers=enrolled["headers"]).json["data"]["totp"] is False


def test_one_code_sent_by_many_requests_at_once_signs_in_once(app, client, enrolled, clock):
    """Threads share the SQLite file through their own connections, as waitress's threads do."""
    import threading

    import webtest

    code = code_now(enrolled["secret"], clock)
    mfa_tokens = [mfa_token_of(client, enrolled) for _ in range(6)]
    start = threading.Barrier(len(mfa_tokens))
    statuses = []

    def attempt(mfa_token):
        own_client = webtest.TestApp(app)
        start.wait()
        statuses.append(code_step(own_client, mfa_token, code).status_int)

    threads = [threading.Thread(target=attempt, args=(token,)) for token in mfa_tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [401] * 5


def test_a_copy_of_the_database_alone_does_not_hold_the_secret(client, enrolled, app):
    from authupload.accounts.second_factor import open_secret
    with sqlite3.connect(app.services.config.data_dir / "authupload.db") as database:
        stored = database.execute("SELECT totp_secret FROM users WHERE id = ?", (enrolled["id"],)).fetchone()[0]
    secret = totp.secret_from_base32(enrolled["secret"])
    assert enrolled["secret"] not in stored and secret.hex() not in stored
    assert open_secret(app.services.tokens.key, enrolled["id"], stored) == secret
    assert open_secret(b"k" * 32, enrolled["id"], stored) != secret  # another key: garbage
    assert open_secret(app.services.tokens.key, enrolled["id"] + 1, stored) != secret  # copied to another account
