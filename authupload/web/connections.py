"""Connections: how many one client may hold, and how long a silent one may stay.

A server has a fixed number of sockets it can keep open. Without limits one
client takes them all for free: it opens connections and sends nothing
(idle), or sends a request header one byte every few seconds so the
connection never looks idle ("slowloris"). Neither costs the attacker more than
a socket, and every other client then waits for a free one. Three rules stop
that, each cheap for an honest client:

- **per address**: one client address may hold at most
  ``max_connections_per_address`` connections (a browser opens up to 6 per
  site; a household or an office behind one NAT address shares the budget),
  while the server as a whole accepts far more (``SERVER_CONNECTION_LIMIT``).
  A connection over the cap is answered ``503 server_busy`` and closed at once,
  before anything is read from it;
- **header deadline**: a request's headers must arrive within
  ``header_timeout_seconds`` of its first byte, however steadily they trickle;
- **idle timeout**: a connection that sends nothing for
  ``idle_timeout_seconds`` is closed (while the application works on a
  request, or the server is still sending an answer, the client is waiting,
  not idle).

Behind a trusted reverse proxy every connection comes from the proxy's
address, so the per-address cap steps aside for it: the proxy itself must
bound clients per address (docs/deployment.md). The deadlines still apply.

Bookkeeping is O(1) per connection: a counter per address, changed when a
connection opens and when it closes; and once a second each connection's two
deadlines are checked (``close_overdue``), in the walk over its channels that
waitress's server makes anyway for its own idle timeout (``maintenance``).
Not every time the event loop turns: asyncore asks every channel whether it
may read on every turn, thousands of times a second under load, and a check
there cost 4 % of a small request's CPU.

Hook points in waitress: the server builds every accepted socket's channel by
calling ``server.channel_class(server, sock, addr, adj, map)``; here that is
``ConnectionGuard.open_channel``, which counts the address first. The channel
subclass (server.py) calls ``release`` from ``del_channel``.
"""

from __future__ import annotations

import socket
import threading

from .. import i18n
from . import http

SERVER_CONNECTION_LIMIT = 4000  # all clients together: far above one address's cap
BUSY_RETRY_AFTER_SECONDS = 10


def busy_answer() -> bytes:
    """The bytes sent to a connection over its address's cap: a complete ``503`` that closes.

    Nothing has been read from that connection, so there is no Accept-Language
    to follow: the message is English, the key is what programs read.
    """
    response = http.error_envelope(i18n.ENGLISH, http.HTTPError(503, "server_busy"))
    body = b"".join(response.body)
    head = [f"HTTP/1.1 {http.status_line(503)}", *(f"{name}: {value}" for name, value in response.headers),
            f"Retry-After: {BUSY_RETRY_AFTER_SECONDS}", "Connection: close"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class ConnectionGuard:
    """Per-address connection counts and the deadlines, shared by one server's channels."""

    def __init__(self, channel_class, max_per_address: int, header_timeout_seconds: float,
                 idle_timeout_seconds: float, trusted_proxy: str = ""):
        self.channel_class = channel_class
        self.max_per_address = max_per_address
        self.header_timeout_seconds = header_timeout_seconds
        self.idle_timeout_seconds = idle_timeout_seconds
        # waitress's trusted_proxy "*" trusts every peer: then no address is a client's own.
        self.uncapped = {trusted_proxy} if trusted_proxy else set()
        self.every_peer_is_a_proxy = trusted_proxy == "*"
        self.open_by_address: dict[str, int] = {}
        self._lock = threading.Lock()  # channels close on the event loop, but waitress may close from a worker
        self._busy_answer = busy_answer()

    def open_channel(self, server, sock, addr, adj, map=None):
        """waitress's ``channel_class`` call: a channel for the new socket, or a 503 and close."""
        address = addr[0] if isinstance(addr, tuple) else str(addr)
        if not self.admit(address):
            refuse(sock, self._busy_answer)
            return None
        return self.channel_class(server, sock, addr, adj, map=map, guard=self, counted_address=address)

    def admit(self, address: str) -> bool:
        """Count one more connection from ``address``, unless it already holds its share."""
        if self.every_peer_is_a_proxy or address in self.uncapped:
            return True
        with self._lock:
            held = self.open_by_address.get(address, 0)
            if held >= self.max_per_address:
                return False
            self.open_by_address[address] = held + 1
        return True

    def release(self, address: str) -> None:
        """One connection from ``address`` has closed."""
        if self.every_peer_is_a_proxy or address in self.uncapped:
            return
        with self._lock:
            held = self.open_by_address.get(address, 0) - 1
            if held > 0:
                self.open_by_address[address] = held
            else:
                self.open_by_address.pop(address, None)  # the table holds only addresses with connections

    def close_overdue(self, channels, now: float) -> None:
        """Mark every channel past a deadline to be closed (the event loop then closes it)."""
        for channel in channels:
            if not channel.will_close and self.overdue(channel, now):
                channel.will_close = True  # writable() turns true and handle_write closes the socket

    def overdue(self, channel, now: float) -> bool:
        """Whether this channel has missed its header deadline or been idle too long."""
        if channel.requests:
            return False  # the application is answering: the client waits for us, not we for it
        request = channel.request
        if request is not None and not request.headers_finished:
            if now - request.started_at > self.header_timeout_seconds:
                return True
        return now - channel.last_activity > self.idle_timeout_seconds


def refuse(sock, answer: bytes) -> None:
    """Send a short answer if the socket takes it at once, then close; never block the event loop."""
    try:
        sock.setblocking(False)
        sock.send(answer)
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the client is gone or its buffer is full: closing is answer enough
    finally:
        sock.close()
