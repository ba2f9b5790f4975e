"""The default transport: the websocket while it works, HTTP when it does not."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..backoff import Backoff
from .base import Ack, Unreachable
from .http import HttpTransport
from .websocket import WebsocketTransport


class WebsocketWithFallback:
    """Sends over the websocket; when that fails, sends the same heartbeat over HTTP.

    When HTTP works but the websocket does not (a tracker without the
    endpoint, a proxy that does not upgrade), the websocket is retried after
    a backoff of its own (30 s doubling to 10 min) instead of at every
    heartbeat. When both fail the tracker is down, and the websocket is tried
    first again at the next attempt. `name` says which one carried the last
    heartbeat; `websocket_error` why the websocket is not in use.
    """

    def __init__(
        self,
        websocket: WebsocketTransport,
        http: HttpTransport,
        *,
        clock: Callable[[], float] = time.monotonic,
        retry: Backoff | None = None,
    ):
        self.websocket = websocket
        self.http = http
        self.clock = clock
        self.retry = retry or Backoff(base=30, cap=600)
        self.retry_at = 0.0
        self.name = "websocket"
        self.websocket_error: str | None = None

    def send(self, body: dict[str, Any]) -> Ack:
        if self.clock() >= self.retry_at:
            try:
                ack = self.websocket.send(body)
            except Unreachable as exc:
                self.websocket_error = exc.reason
            else:
                self.retry.reset()
                self.name, self.websocket_error = "websocket", None
                return ack
        ack = self.http.send(body)  # raises when the tracker is down altogether
        if self.clock() >= self.retry_at:
            self.retry_at = self.clock() + self.retry.next()
        self.name = "http"
        return ack

    def close(self) -> None:
        self.websocket.close()
        self.http.close()
