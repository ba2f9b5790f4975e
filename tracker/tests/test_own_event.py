"""The README's "your own event" steps, as an organiser runs them, against a real site: from the shipped
config.json to their own rooms (from their programme), branding and encoder, and a live room."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from testing.factories import post_heartbeat, stream
from testing.processes import ROOT, running, wait_for
from tracker.tests.faults.test_schedule_changes import write_programme


def now_in(base_url: str, room: str) -> str | None:
    with urllib.request.urlopen(f"{base_url}/tracker/api/rooms/{room}", timeout=5) as response:
        return (json.load(response)["now"] or {}).get("title")


def test_the_readme_steps_take_an_organiser_from_the_shipped_config_to_a_live_room(site_env, tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.json").write_text((ROOT / "config.json").read_text())  # as shipped
    env = {key: value for key, value in site_env.items() if key != "DEBUG"} | {"ROOMS_CONFIG_DIR": str(config)}
    programme = tmp_path / "programme.json"  # room "Saal 1", a talk on now
    start = datetime.now(UTC).replace(microsecond=0)
    write_programme(programme, ("Opening", start - timedelta(minutes=5), start + timedelta(hours=1)))

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, f"manage.py {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout

    manage("init_config")  # what make serve does first
    made = manage("rooms_from_schedule", str(programme), "--timezone", "UTC", "--replace")  # its naive times are UTC
    private_path = config / "config.private.json"
    private = json.loads("\n".join(line for line in private_path.read_text().splitlines() if not line.startswith("//")))
    private["config"] |= {"event-name": "PyConf 2026", "event-accent": "#0b63c5", "event-timezone": "Europe/Berlin"}
    private_path.write_text(json.dumps(private))
    manage("check_config")
    token = manage("encoder", "add", "--room", "saal-1", "--name", "cam-1").strip()

    with running(env, tmp_path) as site:
        post_heartbeat(site.url, {"room": "saal-1", "encoder": "cam-1", "streams": [stream()]}, token=token)
        wait_for(lambda: now_in(site.url, "saal-1") == "Opening", timeout=20, what="the programme's talk on now")
        home = urllib.request.urlopen(site.url + "/", timeout=5).read().decode()
        with urllib.request.urlopen(site.url + "/tracker/api/rooms", timeout=5) as response:
            rooms = json.load(response)["rooms"]

    assert made.splitlines()[0] == "added saal-1: schedule-key 'Saal 1', 1 talks"
    assert [(room["name"], room["title"], room["live"]) for room in rooms] == [("saal-1", "Saal 1", True)]
    assert "PyConf 2026" in home
    assert 'data-room="saal-1"' in home and 'data-room="example"' not in home
    assert Path(private_path).stat().st_mode & 0o077 == 0  # the secret stays private
