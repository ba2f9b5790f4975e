"""Websocket consumers of the live feeds."""

from __future__ import annotations

import json
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer

from .live import get_hub

CLOSE_BAD_MESSAGE = 4400


class DatabaseFreeConsumer(AsyncWebsocketConsumer):
    """A consumer that never touches the database.

    Channels hops to Django's sync thread before every message to close stale
    database connections; consumers without a database skip that hop, which
    FINDINGS.md measured at half the server CPU of a broadcast.
    """

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        await self.disconnect(message.get("code", 1000))
        raise StopConsumer()


class LiveConsumer(DatabaseFreeConsumer):
    """/ws/live/: a snapshot of every room, then each change, all versioned.

    The client may send {"type": "snapshot"} whenever it sees a version gap.
    """

    async def connect(self) -> None:
        await self.accept()
        await self.push(await get_hub().join(self))

    async def disconnect(self, code: int) -> None:
        get_hub().leave(self)

    async def push(self, text: str) -> None:
        await self.base_send({"type": "websocket.send", "text": text})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            request = json.loads(text_data or "")
        except ValueError:
            request = None
        if not isinstance(request, dict) or request.get("type") != "snapshot":
            await self.close(code=CLOSE_BAD_MESSAGE, reason='expected {"type": "snapshot"}')
            return
        await self.push(get_hub().snapshot_text())
