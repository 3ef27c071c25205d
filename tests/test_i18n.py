"""Messages in English and Simplified Chinese (i18n.py), chosen by Accept-Language."""

from __future__ import annotations

import re

import pytest

from authupload import i18n


@pytest.mark.parametrize("header, language", [
    ("", "en"),
    ("en", "en"),
    ("en-US,en;q=0.9", "en"),
    ("zh-CN", "zh"),
    ("zh", "zh"),
    ("zh-TW;q=0.9", "zh"),
    ("zh-Hans-CN", "zh"),
    ("ZH-cn", "zh"),
    ("en;q=0.5, zh;q=0.8", "zh"),
    ("zh;q=0.5, en;q=0.8", "en"),
    ("fr", "en"),
    ("fr, zh;q=0.1", "zh"),
    ("fr-FR,fr;q=0.9,zh-CN;q=0.8,en;q=0.7", "zh"),
    ("de, en;q=0.9, zh;q=0.9", "en"),  # equal quality: header order decides
    ("*", "en"),
    ("zh;q=0", "en"),  # q=0: not acceptable
    ("zh;q=0, en", "en"),
    ("zh;q=abc", "en"),  # a garbage q drops that range
    ("zh;q=abc, en;q=0.1", "en"),
    ("zh;q=nan", "en"),
    ("en;q=0.1, zh;q=inf", "en"),  # q is at most 1: inf is garbage, not infinitely preferred
    ("en;q=0.9, zh;q=5", "en"),
    ("zh;q=-1", "en"),
    (",,,;;;===", "en"),
    ("en;q=", "en"),
    (";q=1, zh", "zh"),
])
def test_accept_language_negotiation(header, language):
    assert i18n.negotiate_language(header) == language


def test_every_message_exists_in_both_languages():
    for key, (english, *chinese) in i18n.MESSAGES.items():
        for translation in chinese:
            assert english and translation, key
            assert re.search(r"[\u4e00-\u9fa5]", translation), key
            assert re.findall(r"\{\w+\}", english) == re.findall(r"\{\w+\}", translation), key


@pytest.mark.parametrize("key", ["invalid_json", "unsupported_media_type", "body_too_large", "invalid_field",
                                 "username_taken", "invalid_credentials", "too_many_attempts",
                                 "wrong_old_password", "token_missing", "token_invalid", "token_expired",
                                 "token_revoked", "not_found", "method_not_allowed", "invalid_multipart",
                                 "file_too_large", "quota_exceeded", "range_not_satisfiable", "invalid_query",
                                 "insufficient_storage", "server_error"])
def test_every_error_key_of_the_contract_has_its_own_message(key):
    assert key in i18n.MESSAGES


def test_a_field_refines_the_message():
    assert "Username" in i18n.message("invalid_field", "en", "username")
    assert i18n.message("invalid_field", "en", "nonexistent") == i18n.MESSAGES["invalid_field"][0]


def test_placeholders_are_filled():
    assert i18n.message("invalid_field", "zh", "password", min_chars=6, max_chars=1024) == "密码长度须为 6–1024 个字符。"


def test_a_refined_message_without_its_values_falls_back_to_the_general_one():
    # A missing password field has no length limits to show; that must not become a 500.
    assert i18n.message("invalid_field", "en", "password") == "A field is missing or not valid."
    assert i18n.message("invalid_field", "zh", "password") == "字段缺失或无效。"


def test_an_unknown_key_says_server_error_rather_than_crash():
    assert i18n.message("no_such_key", "en") == i18n.MESSAGES["server_error"][0]


@pytest.mark.parametrize("header", ["zh-CN", "zh-TW;q=0.9", "en;q=0.5, zh;q=0.8"])
def test_api_answers_in_chinese_when_asked(client, header):
    response = client.get("/api/nothing", headers={"Accept-Language": header}, expect_errors=True)
    assert response.json["message"] == "未找到。"
    assert response.json["data"] == {"error": "not_found"}  # keys never change with the language


def test_chinese_registration_messages(client):
    zh = {"Accept-Language": "zh-CN"}
    ok = client.post_json("/api/register", {"username": "alice123", "password": "correct horse"}, headers=zh)
    assert ok.json["message"] == "注册成功。"
    taken = client.post_json("/api/register", {"username": "ALICE123", "password": "correct horse"}, headers=zh,
                             expect_errors=True)
    assert taken.json["message"] == "该用户名已被占用。"
    short = client.post_json("/api/register", {"username": "bob12345", "password": "short"}, headers=zh,
                             expect_errors=True)
    assert short.json["message"] == "密码长度须为 8–1024 个字符。"


@pytest.mark.parametrize("header", ["", "fr", "en-GB"])
def test_api_answers_in_english_otherwise(client, header):
    response = client.get("/api/nothing", headers={"Accept-Language": header}, expect_errors=True)
    assert response.json["message"] == "Not found."
