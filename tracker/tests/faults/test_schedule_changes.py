"""A schedule changed by `manage.py schedule sync` reaches the worker's
now/next timer at once: its new talk boundary is kept to the second, not
missed until the timer's next wake-up (up to a minute later)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from testing.processes import running, wait_for

from .clients import Viewer

LEAD_SECONDS = 10  # the new boundary's distance from the sync: room for the command's start-up


def write_programme(path: Path, *talks: tuple[str, datetime, datetime]) -> None:
    """An eventfeed schedule of room "Saal 1", in UTC."""
    clock = "%Y-%m-%d %H:%M:%S"
    path.write_text(
        json.dumps(
            [
                {"Id": i, "Title": t, "Room Name": "Saal 1", "Start": f"{s:{clock}}", "End": f"{e:{clock}}"}
                for i, (t, s, e) in enumerate(talks, 1)
            ]
        )
    )


def now_shown(viewer: Viewer) -> list[tuple[float, str | None]]:
    """(when, title) of every "now" of room "example" this viewer was shown."""
    shown = []
    for at, message in viewer.messages:
        rooms = {"snapshot": message.get("rooms"), "room": [message.get("room")]}.get(message["type"]) or []
        shown += [(at, (room["now"] or {}).get("title")) for room in rooms if room["name"] == "example"]
    return shown


def test_a_manual_sync_moves_now_next_at_its_new_boundary_to_the_second(fault_env, tmp_path):
    programme, start = tmp_path / "programme.json", datetime.now(UTC).replace(microsecond=0)
    write_programme(
        programme,
        ("Opening", start - timedelta(minutes=10), start + timedelta(hours=1)),
        ("Keynote", start + timedelta(hours=1), start + timedelta(hours=2)),
    )
    private_path = Path(fault_env["ROOMS_CONFIG_DIR"]) / "config.private.json"
    private = json.loads(private_path.read_text())
    private["example"] = {"schedule": str(programme), "schedule-key": "Saal 1", "schedule-timezone": "UTC"}
    private_path.write_text(json.dumps(private))

    with running(fault_env, tmp_path) as site, Viewer(site.url) as viewer:
        wait_for(lambda: "Opening" in [t for _, t in now_shown(viewer)], timeout=20, what="the worker's first sync")
        time.sleep(1)  # the worker's timer now sleeps toward its next wake-up, up to a minute away
        boundary = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=LEAD_SECONDS)
        boundary_at = time.monotonic() + (boundary - datetime.now(UTC)).total_seconds()
        write_programme(
            programme,
            ("Opening", start - timedelta(minutes=10), boundary),
            ("Lightning talks", boundary, start + timedelta(hours=2)),
        )
        site.manage("schedule", "sync")
        synced_at = time.monotonic()
        wait_for(
            lambda: "Lightning talks" in [t for _, t in now_shown(viewer)],
            timeout=LEAD_SECONDS + 70,
            what="the new talk shown as now",
        )
    shown_at = next(at for at, title in now_shown(viewer) if title == "Lightning talks")
    print(
        f"\nschedule changed by a manual sync: the new boundary reached viewers {shown_at - boundary_at:.2f} s after it"
    )

    assert synced_at < boundary_at  # the sync itself did not show the new talk: the worker's timer did
    assert shown_at - boundary_at < 1
