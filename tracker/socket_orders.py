"""The control plane: orders for particular sockets, in whichever web process holds them.

A revoked token closes its encoder's socket (4403), an encoder's newer
connection closes its older one (4409), an operator who logs out, is
deactivated or gets a new password has their dashboard sockets closed
(4401). Each order is for one encoder's or one user's few sockets, and order
between orders does not matter, so they go through the Channels layer: each
such socket joins its group (`encoder.<name>`, `operator.<user pk>`) and a
`group_send` reaches it in any process. The live feeds do not: they are
ordered by version and go to thousands of viewer sockets, which never join
the layer (tracker/live/hub.py; docs/architecture.md).

Sending never raises: with Redis away, the order is logged as not sent.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# The message type a ControlledConsumer (tracker/live/sockets.py) answers by closing.
CLOSE = "control.close"
# Close codes of the orders: 4000 + the HTTP status, as tracker/live/sockets.py's others.
CLOSE_SESSION_ENDED = 4401
CLOSE_REVOKED = 4403
CLOSE_REPLACED = 4409  # Conflict: the same encoder connected again


def encoder_group(name: str) -> str:
    return f"encoder.{name}"


def operator_group(user_id: Any) -> str:
    return f"operator.{user_id}"


async def close_sockets(group: str, *, code: int, reason: str, joined_before: float | None = None) -> bool:
    """Close the sockets of `group` that joined before `joined_before` (default: now), in every process.

    False when the order could not be sent (logged): Redis is away.
    """
    layer = get_channel_layer()
    joined_before = time.time() if joined_before is None else joined_before
    message = {"type": CLOSE, "code": code, "reason": reason, "joined_before": joined_before}
    try:
        await layer.group_send(group, message)
    except (RedisError, OSError) as exc:
        logger.warning("could not close the sockets of %s (%s): %s", group, reason, exc)
        return False
    return True


async def token_revoked(encoder: str) -> bool:
    return await close_sockets(encoder_group(encoder), code=CLOSE_REVOKED, reason="token revoked")


async def connected_again(encoder: str, *, joined: float) -> bool:
    """The encoder has a new socket, which joined its group at `joined`: the older ones close."""
    group = encoder_group(encoder)
    return await close_sockets(
        group, code=CLOSE_REPLACED, reason="replaced by a newer connection", joined_before=joined
    )


def session_ended(user_id: Any) -> bool:
    """From Django's signal receivers, which are synchronous (tracker.ops.accounts).

    A login after the order is newer than it: its socket stays open.
    """
    group = operator_group(user_id)
    return async_to_sync(close_sockets)(group, code=CLOSE_SESSION_ENDED, reason="your session ended: log in again")


class OneLinePerOutage(logging.Filter):
    """channels-redis logs a traceback every second while its subscription cannot reach Redis.

    Installed on its logger, this keeps the first of a run as one warning
    line (no traceback) and drops the rest until the errors stop for
    `quiet_seconds`: one line per outage. The layer reconnects by itself.
    """

    def __init__(self, quiet_seconds: float = 5.0) -> None:
        super().__init__()
        self.quiet_seconds = quiet_seconds
        self.previous = float("-inf")  # when the last such error came

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, (RedisError, OSError)):
            return True  # anything else is news
        now = time.monotonic()
        previous, self.previous = self.previous, now
        if now - previous < self.quiet_seconds:
            return False
        record.msg, record.args = "the control plane lost redis, retrying every second: %s", (error,)
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info, record.exc_text = None, None
        return True


def quiet_layer_outages() -> None:
    """Install OneLinePerOutage on channels-redis's logger (once per process)."""
    layer_logger = logging.getLogger("channels_redis.pubsub")
    if not any(isinstance(f, OneLinePerOutage) for f in layer_logger.filters):
        layer_logger.addFilter(OneLinePerOutage())
