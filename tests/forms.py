"""Hand-built ``multipart/form-data`` bodies (RFC 7578) for the upload tests.

WebTest's ``upload_files`` builds well-formed bodies; these builders also make
broken ones on purpose. The ``Content-Type`` header is set by hand, so WebTest
sends the bytes exactly as built.
"""

from __future__ import annotations

BOUNDARY = "authupload-test-boundary-7MA4YWxk"


def part(name: str, data: bytes, filename: str | None = None, content_type: str | None = None) -> bytes:
    """One part: its headers, a blank line, its bytes (RFC 7578 §4.2, §4.4)."""
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = f"Content-Disposition: {disposition}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return head.encode("utf-8") + b"\r\n" + data


def file_part(filename: str, data: bytes, content_type: str | None = None) -> bytes:
    return part("file", data, filename, content_type)


def opening(boundary: str = BOUNDARY) -> bytes:
    return f"--{boundary}\r\n".encode()


def between(boundary: str = BOUNDARY) -> bytes:
    return f"\r\n--{boundary}\r\n".encode()


def closing(boundary: str = BOUNDARY) -> bytes:
    return f"\r\n--{boundary}--\r\n".encode()


def body(*parts: bytes, boundary: str = BOUNDARY) -> bytes:
    """A complete body: the parts between delimiters, then the close delimiter."""
    return opening(boundary) + between(boundary).join(parts) + closing(boundary)


def content_type(boundary: str = BOUNDARY) -> str:
    return f"multipart/form-data; boundary={boundary}"


def post(client, headers: dict, raw_body: bytes, path: str = "/api/files", status: int = 200,
         boundary: str = BOUNDARY):
    """POST ``raw_body`` as multipart, exactly as built."""
    return client.post(path, raw_body, headers={**headers, "Content-Type": content_type(boundary)},
                       status=status)


def upload(client, user: dict, *files: tuple[str, bytes], path: str = "/api/files", status: int = 200):
    """Upload ``(filename, data)`` pairs as ``file`` parts; returns the response."""
    return post(client, user["headers"], body(*(file_part(name, data) for name, data in files)), path, status)
