"""public/js/qr.js, proved readable: Chromium runs our encoder, the test renders its modules to
an image, and a real decoder (zbar's ``zbarimg``, as a phone's camera app would) must read back
exactly the text that went in — for every size of code an otpauth:// URI can need."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from authupload.accounts import totp

pytestmark = pytest.mark.browser

SCALE = 4  # pixels per module
QUIET_ZONE = 4  # modules of white around the code (ISO 18004 §6.3.8)


def pgm_image(modules: list[list[bool]]) -> bytes:
    """A binary greyscale PGM (netpbm "P5") of the code: black modules on white, with the quiet zone."""
    side = (len(modules) + 2 * QUIET_ZONE) * SCALE
    pixels = bytearray(b"\xff" * side * side)
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(SCALE):
                    start = ((y + QUIET_ZONE) * SCALE + dy) * side + (x + QUIET_ZONE) * SCALE
                    pixels[start:start + SCALE] = b"\x00" * SCALE
    return b"P5 %d %d 255\n" % (side, side) + bytes(pixels)


def decode(image_path) -> str:
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        pytest.skip("zbarimg is missing: apt-get install zbar-tools")
    result = subprocess.run([zbarimg, "--raw", "--quiet", "-Sbinary", str(image_path)],
                            capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.decode("utf-8").removesuffix("\n")


TEXTS = [
    "otpauth://totp/authupload:alice123?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=authupload",
    totp.otpauth_uri("authupload", "Alice123", bytes(range(20))),
    # The longest name there is: 32 CJK ideographs, nine percent-encoded bytes each.
    totp.otpauth_uri("authupload", "張" * 32, bytes(range(20))),
    "A",  # version 1
    "x" * 100,  # a version with several blocks
    "y" * 660,  # version 20, the largest the encoder offers
]


def test_what_the_encoder_draws_decodes_to_the_text_it_was_given(page, server, tmp_path):
    page.goto(f"{server.url}/login.html")
    matrices = page.evaluate(
        "async (texts) => { const qr = await import('/js/qr.js'); return texts.map((t) => qr.encodeQr(t)); }",
        TEXTS)
    for number, (text, modules) in enumerate(zip(TEXTS, matrices)):
        version = (len(modules) - 17) // 4
        assert len(modules) == 4 * version + 17 and all(len(row) == len(modules) for row in modules)
        image = tmp_path / f"code{number}.pgm"
        image.write_bytes(pgm_image(modules))
        assert decode(image) == text, f"version {version}"


def test_text_beyond_the_largest_version_is_refused_not_drawn_wrong(page, server):
    page.goto(f"{server.url}/login.html")
    message = page.evaluate(
        "async () => { const qr = await import('/js/qr.js');"
        " try { qr.encodeQr('z'.repeat(700)); return 'drawn'; } catch (error) { return error.name; } }")
    assert message == "RangeError"
