"""Transports: how a heartbeat reaches the tracker."""

from __future__ import annotations

from .base import Ack, AuthRejected, Rejected, Replaced, Revoked, Transport, TransportError, Unreachable
from .fallback import WebsocketWithFallback
from .http import HttpTransport
from .legacy import LegacyTransport
from .websocket import WebsocketTransport

__all__ = [
    "MODES",
    "Ack",
    "AuthRejected",
    "HttpTransport",
    "LegacyTransport",
    "Rejected",
    "Replaced",
    "Revoked",
    "Transport",
    "TransportError",
    "Unreachable",
    "WebsocketTransport",
    "WebsocketWithFallback",
    "build_transport",
]

MODES = ("auto", "websocket", "http", "legacy")


def build_transport(mode: str, tracker: str, token: str, *, timeout: float) -> Transport:
    """`auto`: websocket with HTTP fallback; the others use one transport only."""
    if mode == "websocket":
        return WebsocketTransport(tracker, token, timeout=timeout)
    if mode == "http":
        return HttpTransport(tracker, token, timeout=timeout)
    if mode == "legacy":
        return LegacyTransport(tracker, token, timeout=timeout)
    return WebsocketWithFallback(
        WebsocketTransport(tracker, token, timeout=timeout), HttpTransport(tracker, token, timeout=timeout)
    )
