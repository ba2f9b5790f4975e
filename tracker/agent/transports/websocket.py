"""Heartbeats as text frames on one long-lived websocket, `/tracker/ws/encoder/`."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.sync.client import ClientConnection, connect

from .base import (
    AUTH_CLOSE_CODES,
    REPLACED_CLOSE_CODE,
    Ack,
    AuthRejected,
    Rejected,
    Replaced,
    Revoked,
    Unreachable,
    next_interval,
    rejection,
)


def websocket_url(tracker: str) -> str:
    """ws(s)://host/prefix/tracker/ws/encoder/ from the tracker's http(s) base URL."""
    parts = urlsplit(tracker.rstrip("/"))
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path + "/tracker/ws/encoder/", "", ""))


class WebsocketTransport:
    """Keeps one connection open across heartbeats and waits for the ack of each frame.

    The token travels in the handshake's Authorization header, never in the
    URL, where proxies and server logs would keep it.
    """

    name = "websocket"

    def __init__(self, tracker: str, token: str, *, timeout: float = 5.0):
        self.url = websocket_url(tracker)
        self.token = token
        self.timeout = timeout
        self.connection: ClientConnection | None = None

    def connect(self) -> ClientConnection:
        try:
            self.connection = connect(
                self.url,
                additional_headers={"Authorization": f"Bearer {self.token}"},
                user_agent_header="encoder-agent",
                open_timeout=self.timeout,
                close_timeout=1,
                # Keepalive pings find a dead connection between heartbeats,
                # so a tracker restart is noticed before the next frame is lost.
                ping_interval=20,
                ping_timeout=self.timeout,
                legacy=True,  # a plain connection object; this class manages its lifetime
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            try:
                answer = json.loads(exc.response.body or b"")
            except ValueError:
                answer = None
            if status in (401, 403):
                raise rejection(status, answer) from None
            # 404 and friends: a tracker without the websocket endpoint; HTTP may still work.
            raise Unreachable(f"websocket handshake refused with HTTP {status}") from None
        except (InvalidHandshake, InvalidURI) as exc:
            raise Unreachable(f"websocket handshake failed: {exc}") from None
        except (OSError, TimeoutError) as exc:
            raise Unreachable(f"cannot reach {self.url}: {exc or type(exc).__name__}") from None
        return self.connection

    def send(self, body: dict[str, Any]) -> Ack:
        if self.connection is not None:
            try:
                return self.exchange(self.connection, body, accepted=True)
            except Unreachable:
                pass  # the connection went stale between heartbeats (say, a tracker restart): try a fresh one
        return self.exchange(self.connect(), body, accepted=False)

    def exchange(self, connection: ClientConnection, body: dict[str, Any], *, accepted: bool) -> Ack:
        """One frame and its ack; `accepted`: the tracker took this socket's token before."""
        try:
            connection.send(json.dumps(body))
            text = connection.recv(timeout=self.timeout)
        except ConnectionClosed as exc:
            self.connection = None
            close = exc.rcvd
            if close is not None and close.code in AUTH_CLOSE_CODES:
                # A token refused on a socket it was accepted on was revoked (its close reason
                # does not survive every server, so this is how the two are told apart).
                kind = Revoked if accepted else AuthRejected
                raise kind(f"closed {close.code} {close.reason}".strip(), error="forbidden") from None
            if close is not None and close.code == REPLACED_CLOSE_CODE:
                # Not a lost link: reconnecting at once would replace the other connection in turn.
                raise Replaced(f"closed {close.code} {close.reason}".strip()) from None
            reason = f"websocket closed ({close.code} {close.reason})".strip() if close else "websocket lost"
            raise Unreachable(reason) from None
        except TimeoutError:
            self.close()
            raise Unreachable(f"no answer on the websocket within {self.timeout:g} s") from None
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise Rejected(f"unexpected answer on the websocket: {str(text)[:200]!r}")
        if answer.get("ok") is True:
            return Ack(next_interval(answer))
        raise rejection(None, answer)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
