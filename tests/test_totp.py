"""TOTP (RFC 6238) and HOTP (RFC 4226), the pure functions: the RFCs' own test vectors first."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from authupload.accounts import totp

RFC_SECRET = b"12345678901234567890"  # the SHA-1 key of RFC 4226 Appendix D and RFC 6238 Appendix B


@pytest.mark.parametrize("counter, code", list(enumerate(
    ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"])))
def test_hotp_matches_rfc_4226_appendix_d(counter, code):
    assert totp.hotp(RFC_SECRET, counter) == code


@pytest.mark.parametrize("now, code", [
    (59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"),
    (1234567890, "89005924"), (2000000000, "69279037"), (20000000000, "65353130"),
])
def test_totp_matches_rfc_6238_appendix_b_sha1(now, code):
    assert totp.code_at(RFC_SECRET, now, digits=8) == code


def test_six_digit_codes_keep_their_leading_zero():
    # RFC 6238 at T=1111111109 gives 07081804 in 8 digits; in 6 digits it is 081804.
    assert totp.code_at(RFC_SECRET, 1111111109) == "081804"


def test_a_code_of_one_step_either_side_is_accepted_and_two_steps_are_not():
    now = 1_900_000_000
    for drift, accepted in [(-60, False), (-30, True), (0, True), (30, True), (60, False)]:
        code = totp.code_at(RFC_SECRET, now + drift)
        assert (totp.matching_step(RFC_SECRET, code, now, 0) is not None) is accepted, drift


def test_a_step_already_used_is_never_accepted_again():
    now = 1_900_000_000
    step = totp.time_step(now)
    code = totp.code_at(RFC_SECRET, now)
    assert totp.matching_step(RFC_SECRET, code, now, step - 1) == step
    assert totp.matching_step(RFC_SECRET, code, now, step) is None
    # Nor an older code once a newer one was used (RFC 6238 §5.2).
    older = totp.code_at(RFC_SECRET, now - 30)
    assert totp.matching_step(RFC_SECRET, older, now, step) is None


@pytest.mark.parametrize("typed", ["123 456", "123-456", " 123456 ", "12 34 56", "123\t456\n"])
def test_codes_are_read_as_people_type_them(typed):
    assert totp.typed_code(typed) == "123456"


@pytest.mark.parametrize("malformed", ["", "12345", "1234567", "abcdef", "１２３４５６", "12345x", "٣٤٥٦٧٨"])
def test_anything_but_six_ascii_digits_matches_no_step(malformed):
    assert totp.matching_step(RFC_SECRET, malformed, 1_900_000_000, 0) is None


def test_secrets_are_160_random_bits_in_unpadded_base32():
    secret = totp.new_secret()
    assert len(secret) == 20 and secret != totp.new_secret()
    text = totp.base32_secret(secret)
    assert len(text) == 32 and "=" not in text
    assert totp.secret_from_base32(text) == secret


def test_the_otpauth_uri_names_issuer_account_and_parameters():
    uri = totp.otpauth_uri("authupload", "張小明abc", RFC_SECRET)
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert unquote(parts.path) == "/authupload:張小明abc"
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    assert query == {"secret": totp.base32_secret(RFC_SECRET), "issuer": "authupload", "algorithm": "SHA1",
                     "digits": "6", "period": "30"}
    assert uri.isascii()  # percent-encoded: every QR reader and app reads it
