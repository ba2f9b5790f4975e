"""Where an alert goes: webhooks (a JSON POST) and Apprise URLs (chat, e-mail, push).

tracker.ops.alerts decides *what* is alerted and queues one delivery per
target here; this module says which targets an alert has and sends one
delivery to one target. Targets:

- `webhooks` (global): every alert of every room, as a JSON POST;
- `notify` (global): Apprise URLs for every room's alerts;
- `notify` (per room): Apprise URLs for that room's alerts only.

An Apprise URL names the service and its credentials in one string
(`matrixs://user:token@matrix.example/!room`, `tgram://bot/chat`,
`mailtos://…`, `ntfys://ntfy.sh/topic`, `json://host/path`), as Apprise
defines them. They hold secrets: they belong in config.private.json, and
only their scheme (the service) is ever logged or shown.

Apprise's calls block (HTTP, SMTP): they run on a small pool of threads of
their own, never on the event loop, each bounded by SEND_DEADLINE_SECONDS
(below the outbox's lease, so a slow send is never sent twice meanwhile).
A send still hanging in its thread after the deadline counts as failed and
is retried by the outbox like a failed webhook; the pool's size bounds how
many such stragglers there can be.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tracker.config import Room, SiteConfig

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 5
# Apprise's own timeout for one notification, and ours around it (a little longer).
SEND_DEADLINE_SECONDS = 10
_apprise_threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="apprise")

# What each alerted state means to the chat services that colour or tag by type.
NOTIFY_TYPES = {"down": "failure", "degraded": "warning", "up": "success"}


def targets(config: SiteConfig, room: str) -> list[dict[str, str]]:
    """One target per webhook and Apprise URL that gets this room's alerts (each once)."""
    apprise_urls = list(config.settings["notify"])
    if room in config.rooms:
        apprise_urls += config.rooms[room].settings.get("notify", [])
    return [{"url": url} for url in config.settings["webhooks"]] + [
        {"kind": "apprise", "url": url} for url in dict.fromkeys(apprise_urls)
    ]


def where(target: dict[str, Any]) -> str:
    """A target as it may be logged or shown: a webhook's host, an Apprise URL's service; never a secret."""
    parts = urllib.parse.urlsplit(target["url"])
    return f"apprise {parts.scheme}://…" if target.get("kind") == "apprise" else f"webhook {parts.hostname}"


def post_json(url: str, payload: dict[str, Any]) -> None:
    """POST one alert to a webhook; raises OSError (incl. HTTPError) when it was not accepted."""
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS):
        pass


def send_apprise(url: str, payload: dict[str, Any]) -> None:
    """Notify one Apprise URL (blocking); raises OSError when it was not delivered."""
    import apprise

    # Nothing on disk (Apprise may keep per-service state), and secrets masked in Apprise's own logs.
    asset = apprise.AppriseAsset(storage_mode=apprise.PersistentStoreMode.MEMORY, secure_logging=True)
    sender = apprise.Apprise(asset=asset)
    if not sender.add(url):
        raise OSError("not an Apprise URL Apprise knows")
    text = str(payload.get("text", ""))
    title, _, detail = text.partition(" — ")
    result = sender.notify(
        body=text,
        title=title if detail else "",
        notify_type=NOTIFY_TYPES.get(str(payload.get("new", "")), "info"),
        timeout=SEND_DEADLINE_SECONDS,
    )
    if not result:
        raise OSError(f"not delivered ({result.status.name.lower()})")  # failure, timeout, ...


async def deliver(job: dict[str, Any]) -> None:
    """Send one queued delivery; raises OSError or ValueError when it did not go through."""
    if job.get("kind") == "apprise":
        loop = asyncio.get_running_loop()
        sending = loop.run_in_executor(_apprise_threads, send_apprise, job["url"], job["payload"])
        # TimeoutError is an OSError: retried like any failed delivery.
        await asyncio.wait_for(sending, SEND_DEADLINE_SECONDS + 2)
    else:
        await asyncio.to_thread(post_json, job["url"], job["payload"])


async def send_test(config: SiteConfig, room: Room, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Send `payload` to every target of `room` now, side by side; what happened to each, as {"target", "error"}."""

    async def one(target: dict[str, str]) -> dict[str, Any]:
        try:
            await deliver({**target, "payload": payload})
        except (OSError, ValueError) as exc:
            return {"target": where(target), "error": str(exc) or type(exc).__name__}
        return {"target": where(target), "error": None}

    return list(await asyncio.gather(*(one(target) for target in targets(config, room.name))))
