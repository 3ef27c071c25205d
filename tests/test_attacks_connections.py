"""Attacks on connections (docs/threats.md, "Hostile clients"): one address holding
hundreds of idle or trickling connections, against a real ``serve.py`` over loopback.

Two loopback addresses play two clients: 127.0.0.1 attacks, 127.0.0.2 is
everybody else (Linux routes all of 127.0.0.0/8 to the loopback interface, so a
socket bound to 127.0.0.2 connects to the server on 127.0.0.1 from there).
Every wait here is bounded and ends as soon as what it waits for has happened;
no test asserts a duration.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from live_server import LiveServer

pytestmark = pytest.mark.slow

ATTACKER = "127.0.0.1"
BYSTANDER = "127.0.0.2"
HEALTH = b"GET /api/health HTTP/1.1\r\nHost: box\r\n\r\n"
WAIT_BOUND_SECONDS = 30


def connect(server, source: str) -> socket.socket:
    sock = socket.socket()
    sock.settimeout(5)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", server.port))
    return sock


def health_from(server, source: str) -> bytes:
    """The status line of /api/health asked from ``source`` (a socket timeout fails the test)."""
    with connect(server, source) as sock:
        sock.sendall(HEALTH)
        return sock.recv(4096).split(b"\r\n", 1)[0]


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed this connection (what it sent before closing is skipped)."""
    sock.settimeout(0)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def wait_until_closed(socks: list[socket.socket], leaving_open: int = 0) -> list[socket.socket]:
    """Wait (bounded) until the server has closed all but ``leaving_open`` sockets; returns those still open."""
    deadline = time.monotonic() + WAIT_BOUND_SECONDS
    still_open = list(socks)
    while len(still_open) > leaving_open and time.monotonic() < deadline:
        still_open = [sock for sock in still_open if not closed_by_server(sock)]
        time.sleep(0.2)
    return still_open


class Trickler:
    """Sends one more header byte on each socket every 0.3 s, so none of them is ever idle."""

    def __init__(self, socks):
        self.socks = socks
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        for sock in self.socks:
            try:
                sock.sendall(b"GET /api/health HTTP/1.1\r\nX-Slow: ")
            except OSError:
                pass
        while not self.stop.wait(0.3):
            for sock in self.socks:
                try:
                    sock.send(b"a")
                except OSError:
                    pass  # closed by the server: what the test waits for

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        self.thread.join()


def close_all(socks):
    for sock in socks:
        sock.close()


def test_hundreds_of_idle_and_trickling_connections_from_one_address_leave_others_served(tmp_path):
    with LiveServer(tmp_path / "data", "--bcrypt-cost", "4") as server:
        idle = [connect(server, ATTACKER) for _ in range(150)]
        trickling = [connect(server, ATTACKER) for _ in range(150)]
        try:
            with Trickler(trickling):
                for _ in range(20):
                    assert health_from(server, BYSTANDER) == b"HTTP/1.1 200 OK"
                # 64 connections of the attacker are let in; every other one was answered 503 and closed.
                assert len(wait_until_closed(idle + trickling, leaving_open=64)) <= 64
        finally:
            close_all(idle + trickling)


def test_a_connection_over_the_address_cap_is_told_503_server_busy(tmp_path):
    with LiveServer(tmp_path / "data", "--bcrypt-cost", "4", "--max-connections-per-address", "3") as server:
        held = [connect(server, ATTACKER) for _ in range(3)]
        try:
            with connect(server, ATTACKER) as extra:
                answer = extra.recv(4096)
            assert answer.startswith(b"HTTP/1.1 503 ")
            assert b'"error":"server_busy"' in answer and b"Retry-After: " in answer
            assert health_from(server, BYSTANDER) == b"HTTP/1.1 200 OK"
            held.pop().close()  # a closed connection frees its place
            deadline = time.monotonic() + WAIT_BOUND_SECONDS
            status = health_from(server, ATTACKER)
            while status != b"HTTP/1.1 200 OK" and time.monotonic() < deadline:
                time.sleep(0.1)  # the server notices the close on its next turn of the event loop
                status = health_from(server, ATTACKER)
            assert status == b"HTTP/1.1 200 OK"
        finally:
            close_all(held)


def test_trickled_headers_are_cut_at_the_header_deadline(tmp_path):
    with LiveServer(tmp_path / "data", "--bcrypt-cost", "4", "--header-timeout-seconds", "1",
                    "--idle-timeout-seconds", "600") as server:
        trickling = [connect(server, ATTACKER) for _ in range(10)]
        try:
            with Trickler(trickling):
                assert wait_until_closed(trickling) == []
        finally:
            close_all(trickling)


def test_a_silent_connection_is_closed_after_the_idle_timeout(tmp_path):
    with LiveServer(tmp_path / "data", "--bcrypt-cost", "4", "--idle-timeout-seconds", "1") as server:
        silent = [connect(server, ATTACKER) for _ in range(5)]
        kept_alive = connect(server, ATTACKER)
        kept_alive.sendall(HEALTH)  # one answered request, then silence on a keep-alive connection
        assert kept_alive.recv(4096).startswith(b"HTTP/1.1 200 OK")
        try:
            assert wait_until_closed(silent + [kept_alive]) == []
        finally:
            close_all(silent + [kept_alive])


def test_behind_the_trusted_proxy_the_cap_steps_aside_for_the_proxy_only(tmp_path):
    with LiveServer(tmp_path / "data", "--bcrypt-cost", "4", "--max-connections-per-address", "3",
                    "--trusted-proxy", ATTACKER) as server:
        from_proxy = [connect(server, ATTACKER) for _ in range(10)]
        from_elsewhere = [connect(server, BYSTANDER) for _ in range(3)]
        try:
            for sock in from_proxy:  # every proxy connection is served: the proxy bounds its clients itself
                sock.sendall(HEALTH)
                assert sock.recv(4096).startswith(b"HTTP/1.1 200 OK")
            with connect(server, BYSTANDER) as extra:
                assert extra.recv(4096).startswith(b"HTTP/1.1 503 ")
        finally:
            close_all(from_proxy + from_elsewhere)
