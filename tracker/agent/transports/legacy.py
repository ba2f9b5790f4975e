"""The previous generation's protocol: a form POST to /tracker/endpoint/register."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from .base import Ack, AuthRejected, Rejected, Unreachable
from .http import post


def legacy_stats(streams: list[dict[str, Any]]) -> dict[str, int]:
    """The `data` object: overall totals plus `<format>_<quality>_clients` / `_bitrate` per stream.

    The old protocol has no URLs (the tracker builds them from the sender's
    address) and no metrics. Streams that share a format and quality are added up.
    """
    stats = {"overall_clients": 0, "overall_bitrate": 0}
    for stream in streams:
        key = f"{stream['format']}_{stream.get('quality') or 'main'}"
        stats[f"{key}_clients"] = stats.get(f"{key}_clients", 0) + stream["clients"]
        stats[f"{key}_bitrate"] = stats.get(f"{key}_bitrate", 0) + stream["bitrate"]
        stats["overall_clients"] += stream["clients"]
        stats["overall_bitrate"] += stream["bitrate"]
    return stats


class LegacyTransport:
    """`secret` is the token, `group` the room; the answer is `OK` or `ERROR …` in plain text."""

    name = "legacy"

    def __init__(self, tracker: str, token: str, *, timeout: float = 5.0):
        self.url = tracker.rstrip("/") + "/tracker/endpoint/register"
        self.token = token
        self.timeout = timeout

    def send(self, body: dict[str, Any]) -> Ack:
        form = {"secret": self.token, "group": body["room"], "data": json.dumps(legacy_stats(body["streams"]))}
        status, answer = post(
            self.url,
            urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
            timeout=self.timeout,
        )
        text = answer.decode("utf-8", errors="replace").strip()
        if text == "OK":
            return Ack()
        if status >= 500:
            raise Unreachable(f"HTTP {status} from {self.url}")
        if text.startswith("ERROR SECRET"):
            raise AuthRejected(text, error="forbidden")
        raise Rejected(text[:200] or f"HTTP {status}")

    def close(self) -> None:
        pass
