"""Attacks on accounts (docs/threats.md, "Accounts"): look-alike names, Unicode case
tricks, and SQL metacharacters in every account field.

The username rule (accounts.py's docstring): only ASCII letters, digits and CJK
ideographs U+4E00–U+9FA5, folded by ASCII letter case alone. So a name that
differs from another only by normalisation (NFD, NFKC), an invisible character
or a Unicode case mapping is either refused at registration or a different name
that cannot log in as the first.
"""

from __future__ import annotations

import unicodedata

import pytest
from support import assert_error

PASSWORD = "correct horse"


def post(client, path, body):
    return client.post_json(path, body, expect_errors=True)


# --- look-alike usernames ------------------------------------------------------------


@pytest.mark.parametrize("lookalike", [
    unicodedata.normalize("NFD", "josé12345"),  # e + COMBINING ACUTE: a combining mark
    unicodedata.normalize("NFC", "josé12345"),  # é: a letter outside ASCII
    "alice\u200b123",  # ZERO WIDTH SPACE
    "alice\u2060123",  # WORD JOINER
    "alice\u00ad123",  # SOFT HYPHEN (invisible in most fonts)
    "alice\u034f123",  # COMBINING GRAPHEME JOINER
    "ａｌｉｃｅ１２３",  # fullwidth: NFKC folds it to alice123
    "\u212aelvin123",  # KELVIN SIGN: lowercases to "k"
    "\u0130stanbul1",  # LATIN CAPITAL I WITH DOT: lowercases to "i̇"
    "\u017fsecret12",  # LATIN SMALL LONG S: casefolds to "s"
    "\uf900\u4e00\u4e00\u4e00\u4e00\u4e00",  # a CJK compatibility ideograph: NFKC maps it into the range
    "alice123\u0000",
])
def test_a_name_that_only_looks_like_a_valid_one_is_refused_at_registration(client, lookalike):
    assert_error(post(client, "/api/register", {"username": lookalike, "password": PASSWORD}),
                 400, "invalid_field", "username")


@pytest.mark.parametrize("owner, impostor", [
    ("kelvin123", "\u212aelvin123"),  # "K".lower() == "k" in Python: not in our ASCII-only folding
    ("secret12", "\u017fecret12"),  # "ſ".casefold() == "s"
    ("istanbul1", "\u0130stanbul1"),
    ("alice123", "ａｌｉｃｅ１２３"),
    ("alice123", "alice\u200b123"),
    ("jose12345", unicodedata.normalize("NFD", "jose\u0301" + "12345")),
])
def test_a_unicode_variant_of_a_name_does_not_log_in_as_that_user(client, auth, owner, impostor):
    auth.register(owner, PASSWORD)
    assert_error(post(client, "/api/login", {"username": impostor, "password": PASSWORD}), 401, "invalid_credentials")


def test_a_unicode_variant_does_not_count_against_the_real_names_lock(client, auth):
    # Ten failures under a look-alike lock the look-alike, not the real user.
    auth.register("kelvin123", PASSWORD)
    for _ in range(10):
        post(client, "/api/login", {"username": "\u212aelvin123", "password": "wrong password"})
    assert post(client, "/api/login", {"username": "KELVIN123", "password": PASSWORD}).status_int == 200


# --- SQL metacharacters ---------------------------------------------------------------

SQL_PASSWORDS = [
    "' OR '1'='1",
    "'; DROP TABLE users; --",
    '" OR ""="',
    "x'); DELETE FROM users WHERE ('1'='1",
    "%_\\'\"`;--/* */",
]


@pytest.mark.parametrize("password", SQL_PASSWORDS)
def test_sql_in_a_password_is_stored_and_checked_literally(client, auth, app, password):
    user = auth.register(password=password)
    assert post(client, "/api/login", {"username": user["username"], "password": password}).status_int == 200
    assert_error(post(client, "/api/login", {"username": user["username"], "password": "' OR '1'='1' --x"}),
                 401, "invalid_credentials")
    headers = auth.bearer(auth.login(user["username"], password))
    changed = client.post_json("/api/password", {"old_password": password, "new_password": password + "'--"},
                               headers=headers)
    assert changed.status_int == 200
    assert app.services.database.execute("SELECT count(*) FROM users").fetchone()[0] == 1


@pytest.mark.parametrize("username", [
    "' OR '1'='1",
    "admin'--",
    "x' OR username_key LIKE '%",
    "'; DROP TABLE users; --",
    "%",
    "_",
])
def test_sql_in_a_username_logs_nobody_in_and_breaks_nothing(client, auth, app, username):
    auth.register("victim123", PASSWORD)
    assert_error(post(client, "/api/register", {"username": username, "password": PASSWORD}),
                 400, "invalid_field", "username")
    assert_error(post(client, "/api/login", {"username": username, "password": PASSWORD}), 401, "invalid_credentials")
    assert post(client, "/api/login", {"username": "victim123", "password": PASSWORD}).status_int == 200
    assert app.services.database.execute("SELECT count(*) FROM users").fetchone()[0] == 1


def test_sql_in_old_password_is_just_a_wrong_password(client, auth):
    user = auth.new_user()
    response = client.post_json("/api/password", {"old_password": "' OR '1'='1", "new_password": "whatever123"},
                                headers=user["headers"], expect_errors=True)
    assert_error(response, 400, "wrong_old_password", "old_password")
