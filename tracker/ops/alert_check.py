"""A sample alert, sent now to every target of a room: does the crew's chat get it?

Used by the maintenance page's "Send a test alert" and `manage.py test_alert`.
"""

from __future__ import annotations

import time
from typing import Any

from tracker.config import Room, get_config
from tracker.ops import notify
from tracker.ops.actions import Refused
from tracker.ops.alerts import alert_text


def sample_alert(room: Room) -> dict[str, Any]:
    transition = {
        "room": room.name,
        "name": "test-encoder",
        "old": "late",
        "new": "down",
        "reason": "this is a test alert",
        "at": time.time(),
    }
    return {"text": alert_text(transition, room.title), "id": f"{room.name}-test", **transition}


async def send_test(room_name: Any) -> list[dict[str, Any]]:
    """What happened to each target of the room, as {"target", "error"}; Refused for no room or no target."""
    config = get_config()
    room = config.rooms.get(room_name) if isinstance(room_name, str) else None
    if room is None:
        raise Refused("room: not a configured room")
    if not notify.targets(config, room.name):
        raise Refused('room: no alert targets for this room (config: "notify", "webhooks")')
    return await notify.send_test(config, room, sample_alert(room))
