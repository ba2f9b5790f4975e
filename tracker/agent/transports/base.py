"""What every transport shares: the tracker's answers and the ways a send fails."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

# Websocket close codes the tracker uses for a token it does not accept.
AUTH_CLOSE_CODES = {4401, 4403}
# The tracker closes an encoder's older socket when the same encoder connects again.
REPLACED_CLOSE_CODE = 4409


@dataclass(frozen=True)
class Ack:
    """The tracker accepted a heartbeat; `next` is when it expects the next one (None: it didn't say)."""

    next: float | None = None


class TransportError(Exception):
    """A heartbeat did not get through. `reason` is what the log and -v print."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Unreachable(TransportError):
    """No answer: connection refused, timed out, dropped, or a 5xx. Retry with backoff."""


class Replaced(TransportError):
    """Another connection with this token took over (close 4409): most likely a second agent with the same token."""


class Rejected(TransportError):
    """The tracker answered and refused the heartbeat (a 4xx, an error frame, `ERROR …`)."""

    def __init__(self, reason: str, *, error: str = "", field: str | None = None, message: str = ""):
        super().__init__(reason)
        self.error = error
        self.field = field
        self.message = message

    @property
    def unknown_metrics(self) -> bool:
        """A tracker from before metrics existed: it refuses the key rather than ignoring it."""
        return self.field == "metrics" and "not a known field" in self.message


class AuthRejected(Rejected):
    """The tracker does not accept the token (401/403, close 4401/4403, `ERROR SECRET`)."""


class Revoked(AuthRejected):
    """The tracker closed a socket it had accepted heartbeats on with 4401/4403: the token was revoked."""


class Transport(Protocol):
    name: str

    def send(self, body: dict[str, Any]) -> Ack:
        """Deliver one heartbeat; raises a TransportError subclass when it is not accepted."""
        ...

    def close(self) -> None: ...


def rejection(status: int | None, answer: Any) -> Rejected:
    """A Rejected from the tracker's JSON error `{"error", "message", "field"}` (any part may be missing)."""
    answer = answer if isinstance(answer, dict) else {}
    error, message, field = (str(answer.get("error") or ""), str(answer.get("message") or ""), answer.get("field"))
    field = str(field) if field is not None else None
    parts = [f"HTTP {status}" if status else "", error, f"{field}: {message}" if field else message]
    reason = " ".join(part for part in parts if part) or "refused"
    kind = AuthRejected if status in (401, 403) or error in ("unauthorized", "forbidden") else Rejected
    return kind(reason, error=error, field=field, message=message)


def next_interval(answer: dict[str, Any]) -> float | None:
    value = answer.get("next")
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value <= 300:
        return float(value)
    return None
