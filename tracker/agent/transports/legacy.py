"""The previous generation's protocol: a form POST to /tracker/endpoint/register."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode, urlsplit

from .base import Ack, AuthRejected, Rejected, Unreachable
from .http import post

# The stream names the original tracker had columns for (it refused any other
# key), by the file extension of the stream's URL. Copied from tracker/encoders/legacy.py:
# the agent runs without the tracker's code.
AUDIO_NAMES = {".mp3": "mp3_high", ".aac": "aac_high", ".ogg": "ogg_high", ".oga": "ogg_high", ".opus": "ogg_high"}


def original_name(stream: dict[str, Any]) -> str | None:
    """The original name a stream reports under, or None (HLS, DASH, MP4: only in the overall figures)."""
    if stream["format"] == "webm":
        return "webm_low" if stream.get("quality") == "low" else "webm_high"
    if stream["format"] == "audio":
        path = urlsplit(stream["url"]).path.lower()
        return next((name for ext, name in AUDIO_NAMES.items() if path.endswith(ext)), None)
    return None


def legacy_stats(streams: list[dict[str, Any]]) -> dict[str, int]:
    """The `data` object as the original clients built it.

    `_bitrate` is what goes out (the server's measure, else clients x bitrate)
    and `_cbitrate` is clients x the stream's bitrate, per name and summed in
    `overall_*`. The old protocol has no URLs (the tracker builds them from
    the sender's address) and no metrics; streams sharing a name are added up.
    """
    stats = {"overall_clients": 0, "overall_bitrate": 0, "overall_cbitrate": 0}
    for stream in streams:
        figures = {
            "clients": stream["clients"],
            "bitrate": stream.get("bandwidth", stream["clients"] * (stream["bitrate"] or 0)),
            "cbitrate": stream["clients"] * (stream["bitrate"] or 0),  # the form has no "unknown"
        }
        name = original_name(stream)
        for figure, value in figures.items():
            stats[f"overall_{figure}"] += value
            if name is not None:
                stats[f"{name}_{figure}"] = stats.get(f"{name}_{figure}", 0) + value
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
        if status >= 500 or text.startswith("ERROR StoreUnavailable"):
            raise Unreachable(f"HTTP {status} {text[:100]} from {self.url}")
        if text.startswith(("ERROR SECRET", "ERROR CONFIG")):
            raise AuthRejected(text, error="forbidden")
        raise Rejected(text[:200] or f"HTTP {status}")

    def close(self) -> None:
        pass
