"""Messages in English, Simplified and Traditional Chinese (i18n.py), chosen by Accept-Language."""

from __future__ import annotations

import re

import pytest

from authupload import i18n


@pytest.mark.parametrize("header, language", [
    ("", "en"),
    ("en", "en"),
    ("en-US,en;q=0.9", "en"),
    ("zh-CN", "zh-CN"),
    ("zh", "zh-CN"),
    ("zh-SG", "zh-CN"),
    ("zh-Hans", "zh-CN"),
    ("zh-Hans-CN", "zh-CN"),
    ("ZH-cn", "zh-CN"),
    # Traditional: Taiwan, Hong Kong, Macao, or the Hant script wherever it is written
    ("zh-TW", "zh-TW"),
    ("zh-tw;q=0.9", "zh-TW"),
    ("zh-HK", "zh-TW"),
    ("zh-MO", "zh-TW"),
    ("zh-Hant", "zh-TW"),
    ("zh-Hant-TW", "zh-TW"),
    ("zh-Hant-CN", "zh-TW"),  # the script decides over the region
    ("zh-Hans-TW", "zh-CN"),
    ("en;q=0.5, zh-TW;q=0.8", "zh-TW"),
    ("zh-TW;q=0.5, zh-CN;q=0.8", "zh-CN"),
    ("fr, zh-HK;q=0.1", "zh-TW"),
    ("en;q=0.5, zh;q=0.8", "zh-CN"),
    ("zh;q=0.5, en;q=0.8", "en"),
    ("fr", "en"),
    ("fr, zh;q=0.1", "zh-CN"),
    ("fr-FR,fr;q=0.9,zh-CN;q=0.8,en;q=0.7", "zh-CN"),
    ("de, en;q=0.9, zh;q=0.9", "en"),  # equal quality: header order decides
    ("*", "en"),
    ("zh;q=0", "en"),  # q=0: not acceptable
    ("zh-TW;q=0, en", "en"),
    ("zh;q=abc", "en"),  # a garbage q drops that range
    ("zh;q=abc, en;q=0.1", "en"),
    ("zh;q=nan", "en"),
    ("en;q=0.1, zh;q=inf", "en"),  # q is at most 1: inf is garbage, not infinitely preferred
    ("en;q=0.9, zh;q=5", "en"),
    ("zh;q=-1", "en"),
    (",,,;;;===", "en"),
    ("en;q=", "en"),
    (";q=1, zh", "zh-CN"),
])
def test_accept_language_negotiation(header, language):
    assert i18n.negotiate_language(header) == language


def test_every_message_exists_in_all_three_languages():
    for key, sentences in i18n.MESSAGES.items():
        assert len(sentences) == len(i18n.LANGUAGES), key
        english, simplified, traditional = sentences
        assert english and simplified and traditional, key
        assert re.search(r"[\u4e00-\u9fa5]", simplified) and re.search(r"[\u4e00-\u9fa5]", traditional), key
        assert re.findall(r"\{\w+\}", english) == re.findall(r"\{\w+\}", simplified) \
            == re.findall(r"\{\w+\}", traditional), key


# Characters that Simplified and Traditional write differently, in words these messages use.
SIMPLIFIED_ONLY = set("录册传档户码务请败过删发这数须为个节阶设们时区块头组对无网储权证")
TRADITIONAL_WORDS = {"logged_in": "登入", "uploaded": "上傳", "file_list": "檔案", "invalid_credentials": "密碼",
                     "profile": "帳號", "server_busy": "伺服器", "token_expired": "權杖", "not_found": "找不到"}


def test_traditional_messages_are_written_in_traditional_wording_not_converted():
    """Taiwan's words (登入, 檔案, 帳號, 伺服器), not Simplified ones in converted characters (登录 → 登錄)."""
    for key, word in TRADITIONAL_WORDS.items():
        assert word in i18n.MESSAGES[key][2], key
    for key, (_, _, traditional) in i18n.MESSAGES.items():
        assert not SIMPLIFIED_ONLY & set(traditional), (key, traditional)
        assert "登錄" not in traditional and "文件" not in traditional, (key, traditional)  # 登入, 檔案


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
    assert i18n.message("invalid_field", "zh-CN", "password", min_chars=6, max_chars=1024) == "密码长度须为 6–1024 个字符。"
    assert i18n.message("invalid_field", "zh-TW", "password", min_chars=6, max_chars=1024) == "密碼長度須為 6–1024 個字元。"


def test_a_refined_message_without_its_values_falls_back_to_the_general_one():
    # A missing password field has no length limits to show; that must not become a 500.
    assert i18n.message("invalid_field", "en", "password") == "A field is missing or not valid."
    assert i18n.message("invalid_field", "zh-CN", "password") == "字段缺失或无效。"
    assert i18n.message("invalid_field", "zh-TW", "password") == "欄位缺少或無效。"


def test_an_unknown_key_says_server_error_rather_than_crash():
    assert i18n.message("no_such_key", "en") == i18n.MESSAGES["server_error"][0]


@pytest.mark.parametrize("header, message", [
    ("zh-CN", "未找到。"), ("zh-SG", "未找到。"), ("en;q=0.5, zh;q=0.8", "未找到。"),
    ("zh-TW", "找不到。"), ("zh-HK;q=0.9", "找不到。"), ("zh-MO", "找不到。"), ("zh-Hant", "找不到。"),
])
def test_api_answers_in_chinese_when_asked(client, header, message):
    response = client.get("/api/nothing", headers={"Accept-Language": header}, expect_errors=True)
    assert response.json["message"] == message
    assert response.json["data"] == {"error": "not_found"}  # keys never change with the language
    assert response.headers["Content-Language"] == i18n.negotiate_language(header)


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


def test_traditional_chinese_registration_and_login_messages(client):
    tw = {"Accept-Language": "zh-TW"}
    ok = client.post_json("/api/register", {"username": "alice123", "password": "correct horse"}, headers=tw)
    assert ok.json["message"] == "註冊成功。"
    taken = client.post_json("/api/register", {"username": "ALICE123", "password": "correct horse"}, headers=tw,
                             expect_errors=True)
    assert taken.json["message"] == "此使用者名稱已被使用。"
    wrong = client.post_json("/api/login", {"username": "alice123", "password": "wrong horse"}, headers=tw,
                             expect_errors=True)
    assert wrong.json["message"] == "使用者名稱或密碼錯誤。"
    logged_in = client.post_json("/api/login", {"username": "alice123", "password": "correct horse"}, headers=tw)
    assert logged_in.json["message"] == "登入成功。"


@pytest.mark.parametrize("header", ["", "fr", "en-GB"])
def test_api_answers_in_english_otherwise(client, header):
    response = client.get("/api/nothing", headers={"Accept-Language": header}, expect_errors=True)
    assert response.json["message"] == "Not found."
