"""Re-create the dashboard screenshots in this directory, and measure the page at 100 encoders.

    .venv/bin/python docs/screenshots/take.py            # screenshots
    .venv/bin/python docs/screenshots/take.py --measure  # main-thread time per message, 100 encoders

A whole site on loopback (embedded Redis, daphne, worker), fake encoders
posting heartbeats, and Debian's Chromium; everything stops at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from testing.browser import CHROMIUM_ARGS  # noqa: E402
from testing.factories import post_heartbeat  # noqa: E402
from testing.processes import (  # noqa: E402
    TEST_CONFIG_DIR,
    TEST_SECRET,
    RedisProcess,
    free_port,
    site_environment,
    wait_for,
)

OUT = Path(__file__).resolve().parent
PASSWORD = "screenshot-password"
LAPTOP = {"width": 1366, "height": 768}


def shoot(page: Page, name: str) -> None:
    """A screenshot, and a warning when the page is wider than its screen (it scrolls sideways)."""
    page.screenshot(path=str(OUT / name))
    wide, screen = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if wide > (page.viewport_size or {}).get("width", screen):
        print(f"{name}: the page is {wide} px wide on a {page.viewport_size['width']} px screen", file=sys.stderr)


class Scene:
    """A site with the given rooms and encoders sending heartbeats every 2 s until told to stop."""

    def __init__(
        self, directory: Path, rooms: dict[str, str], encoders: list[tuple[str, str, str]], *, interval: int = 5
    ):
        self.directory = directory
        self.interval = interval  # what the encoders promise: a silence longer than this turns them late
        config = directory / "rooms"
        config.mkdir()
        lines = (TEST_CONFIG_DIR / "config.json").read_text().splitlines()
        main = json.loads("\n".join(line for line in lines if not line.lstrip().startswith("//")))
        main = {"config": {"grace": 3}, "default": main["default"], **{n: {"title": t} for n, t in rooms.items()}}
        (config / "config.json").write_text(json.dumps(main))
        (config / "config.private.json").write_text(json.dumps({"config": {"secret": TEST_SECRET}}))
        self.redis = RedisProcess(free_port(), directory)
        self.redis.start()
        self.env = site_environment(self.redis.url, f"sqlite:///{directory}/db.sqlite3", ROOMS_CONFIG_DIR=str(config))
        self.manage("migrate", "--noinput")
        self.manage(
            "shell",
            "-c",
            "from django.contrib.auth.models import User; "
            f"User.objects.create_user('anna', password={PASSWORD!r}, is_staff=True)",
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.web = self.start_web()
        self.worker = subprocess.Popen(
            [sys.executable, "manage.py", "worker"],
            cwd=ROOT,
            env=self.env,
            stdout=(directory / "worker.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        wait_for(
            lambda: urllib.request.urlopen(self.url + "/readyz", timeout=1).status == 200, timeout=30, what="daphne"
        )
        code = (
            "import json; from tracker.encoders.identities import add_encoder; "
            f"print(json.dumps([add_encoder(room=r, name=n, role=role)[1] for r, n, role in {encoders!r}]))"
        )
        tokens = json.loads(self.manage("shell", "--no-imports", "-c", code))
        self.encoders = {name: (room, role, token) for (room, name, role), token in zip(encoders, tokens, strict=True)}
        self.stopped: set[str] = set()
        self.extra: dict[str, dict] = {}  # encoder -> metrics to send besides the usual
        self.running = True
        self.thread = threading.Thread(target=self.beat_forever, daemon=True)
        self.thread.start()

    def manage(self, *args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True, capture_output=True, text=True
        ).stdout.strip()

    def start_web(self) -> subprocess.Popen:
        log = (self.directory / "web.log").open("a")
        return subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "project.asgi:application"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def beat(self, name: str) -> None:
        room, role, token = self.encoders[name]
        if role == "collector":
            streams = [
                {
                    "format": "hls",
                    "quality": "1080p",
                    "url": f"https://cdn.example/{room}/hd.m3u8",
                    "clients": 41,
                    "bitrate": 4_500_000,
                },
                {
                    "format": "hls",
                    "quality": "480p",
                    "url": f"https://cdn.example/{room}/sd.m3u8",
                    "clients": 12,
                    "bitrate": 1_200_000,
                },
                {
                    "format": "audio",
                    "quality": "opus",
                    "url": f"https://cdn.example/{room}/a.mp3",
                    "clients": 3,
                    "bitrate": 128_000,
                },
            ]
        else:
            streams = [
                {
                    "format": "webm",
                    "quality": name.rsplit("-", 1)[-1],
                    "url": f"https://cdn.example/{room}/{name}.webm",
                    "clients": 7,
                    "bitrate": 2_800_000,
                }
            ]
        metrics = {"cpu": 37.5, "memory": 41, "uptime": 5400, "audio_level": -18, **self.extra.get(name, {})}
        post_heartbeat(
            self.url,
            {"room": room, "encoder": name, "interval": self.interval, "streams": streams, "metrics": metrics},
            token=token,
        )

    def beat_forever(self) -> None:
        while self.running:
            for name in self.encoders:
                if name not in self.stopped:
                    with contextlib.suppress(OSError):  # daphne is away for the "disconnected" picture
                        self.beat(name)
            time.sleep(2)

    def log_in(self, page: Page) -> None:
        page.goto(self.url + "/tracker/dashboard/")
        page.fill("input[name=username]", "anna")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("tr.encoder")

    def close(self) -> None:
        self.running = False
        self.thread.join()
        for process in (self.web, self.worker):
            process.terminate()
            process.wait()
        self.redis.stop()


ROOMS = {"hall-1": "Hall 1", "hall-2": "Hall 2", "saal-3": "Saal 3", "workshop": "Workshop"}


def screenshots(directory: Path) -> None:
    encoders = [
        (room, f"{room}-{kind}", "collector" if kind == "collector" else "encoder")
        for room in ROOMS
        for kind in ("collector", "hd", "sd")
    ]
    scene = Scene(directory, ROOMS, encoders)
    viewers = []
    sockets = contextlib.ExitStack()
    try:
        for i in range(5):  # viewers of Hall 1 with their playback states
            viewer = sockets.enter_context(connect(scene.url.replace("http", "ws") + "/ws/live/", origin=scene.url))
            viewer.recv()
            viewer.send(json.dumps({"type": "watch", "room": "hall-1", "tab": f"tab-screenshot-{i}"}))
            viewer.send(json.dumps({"type": "health", "state": "buffering" if i == 4 else "playing"}))
            viewers.append(viewer)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=LAPTOP)
            scene.log_in(page)
            page.check("#compact")
            page.wait_for_timeout(4000)
            shoot(page, "dashboard-all-up.png")

            scene.stopped.add("saal-3-hd")
            scene.extra["hall-2-collector"] = {
                "errors": [{"source": "480p", "reason": "icecast mount /hall-2/sd not found"}]
            }
            page.locator('tbody[data-room="workshop"] .room-head select').select_option("60")  # a rehearsal
            viewers[4].send(
                json.dumps(
                    {
                        "type": "report",
                        "room": "hall-1",
                        "tab": "tab-screenshot-4",
                        "format": "hls",
                        "endpoint": "https://cdn.example/hall-1/hd.m3u8",
                        "error": "bufferStalledError",
                        "browser": "Firefox 133",
                        "text": "picture freezes every minute",
                    }
                )
            )
            page.wait_for_selector('tr[data-encoder="saal-3-hd"].state-down', timeout=30000)
            page.locator('tr[data-encoder="saal-3-hd"] .ack-button').click()
            page.once("dialog", lambda dialog: dialog.accept("battery swap, back in 5 min"))
            page.locator('tr[data-encoder="saal-3-hd"] .note-button').click()
            page.locator('tbody[data-room="hall-1"] .reports-box summary').click()
            page.wait_for_timeout(2500)
            shoot(page, "dashboard-one-down.png")

            phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
            phone.context.add_cookies(page.context.cookies())
            phone.goto(scene.url + "/tracker/dashboard/")
            phone.wait_for_selector("tr.encoder")
            phone.wait_for_timeout(2000)
            shoot(phone, "dashboard-phone.png")

            scene.web.kill()  # the server goes away mid-event
            scene.web.wait()
            page.wait_for_timeout(4000)
            shoot(page, "dashboard-disconnected.png")
            scene.web = scene.start_web()
            browser.close()
    finally:
        sockets.close()
        scene.close()


METRICS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")


def metrics(cdp) -> dict[str, float]:
    """Chromium's main-thread time counters of a page, in seconds."""
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"] if m["name"] in METRICS}


def measure(directory: Path, *, messages: int = 300, idle_seconds: int = 5) -> None:
    """Main-thread time of the page with 100 encoders: the first render, per heartbeat, and idle."""
    rooms = {f"r{i}": f"Room {i}" for i in range(10)}
    encoders = [(room, f"{room}-e{j}", "encoder") for room in rooms for j in range(10)]
    # A long interval: no encoder turns late while the page is measured idle.
    scene = Scene(directory, rooms, encoders, interval=120)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=LAPTOP)
            scene.log_in(page)
            page.wait_for_function("document.querySelectorAll('tr.encoder').length === 100", timeout=30000)
            scene.running = False
            scene.thread.join()
            # The first render: a fresh page of the same browser, from navigation to 100 rows.
            cookies = page.context.cookies()
            page.close()
            page = browser.new_page(viewport=LAPTOP)
            page.context.add_cookies(cookies)
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            page.goto(scene.url + "/tracker/dashboard/")
            page.wait_for_function("document.querySelectorAll('tr.encoder').length === 100", timeout=30000)
            first = metrics(cdp)
            page.wait_for_timeout(1500)
            quiet = metrics(cdp)
            page.wait_for_timeout(idle_seconds * 1000)  # no message: only the clocks ticking
            idle = metrics(cdp)
            names = list(scene.encoders)
            started = time.monotonic()
            for i in range(messages):
                scene.beat(names[i % len(names)])
            elapsed = time.monotonic() - started
            page.wait_for_timeout(1000)
            busy = metrics(cdp)
            browser.close()
    finally:
        scene.close()

    print(f"100 encoders; {messages} heartbeats in {elapsed:.1f} s; idle for {idle_seconds} s")
    print(f"  {'':20} {'first render':>13} {'idle':>10} {'per heartbeat':>14}")
    for name in METRICS:
        idle_per_second = (idle[name] - quiet[name]) / idle_seconds
        spent = busy[name] - idle[name] - idle_per_second * (elapsed + 1)
        print(
            f"  {name:20} {first[name] * 1000:10.0f} ms {idle_per_second * 1000:7.1f} ms/s"
            f" {spent / messages * 1000:11.2f} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        (measure if args.measure else screenshots)(Path(tmp))
