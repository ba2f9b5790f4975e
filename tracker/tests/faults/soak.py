"""`make soak`: an hour of a small event going wrong in every ordinary way.

Two daphne processes and a worker on a persisted Redis of their own;
steady encoders, encoders that flap (report, fall silent past their grace,
come back), viewers that keep arriving and leaving on both processes,
pages and API reads, and Redis restarted twice (once killed outright).
Every 30 s it samples each process's resident memory and Redis's memory.

It passes when: no 5xx outside the moments Redis was restarting (heartbeats
are refused with 503 for those), no alert about a steady encoder, and
memory flat (the last third no more than 20 % above the first third,
after a warm-up). Not part of `make test`: `make soak` (SOAK_ARGS="--minutes 10").
It prints the figures and appends them to docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import django
import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django.setup()  # the test helpers below import the tracker's models

from testing.processes import ROOT, TEST_CONFIG_DIR, TEST_SECRET, RedisProcess, free_port, running, site_environment  # noqa: E402
from tracker.ops.tests.test_alerts import Receiver  # noqa: E402

from .clients import Encoder  # noqa: E402

SAMPLE_SECONDS = 30
VIEWERS = 60  # at any moment, give or take the churn
STEADY, FLAPPING = 4, 2


class Flapper(Encoder):
    """Reports for `on` seconds, then is silent for `off` (past interval + grace), again and again."""

    on, off = 20.0, 15.0

    def run(self) -> None:
        while not self.stopped.is_set():
            until = time.monotonic() + self.on
            while time.monotonic() < until and not self.stopped.is_set():
                self.beat()
                self.stopped.wait(self.every)
            self.stopped.wait(self.off)


class Churn:
    """Viewers arriving and leaving on both web processes; counts what they saw."""

    def __init__(self, urls: list[str]) -> None:
        self.urls, self.stopped = urls, threading.Event()
        self.opened = self.snapshots = 0
        self.failed: Counter[str] = Counter()
        self.lock = threading.Lock()

    def viewer(self, url: str, seconds: float) -> None:
        try:
            with connect(url.replace("http", "ws") + "/ws/live/", origin=url, open_timeout=5) as socket:
                with self.lock:
                    self.opened += 1
                tab = f"soak{random.getrandbits(48):012x}"
                socket.send(json.dumps({"type": "watch", "room": "example", "tab": tab}))
                until = time.monotonic() + seconds
                while time.monotonic() < until and not self.stopped.is_set():
                    with contextlib.suppress(TimeoutError):
                        if json.loads(socket.recv(timeout=0.5))["type"] == "snapshot":
                            with self.lock:
                                self.snapshots += 1
        except (OSError, ConnectionClosed) as exc:
            with self.lock:
                code = exc.rcvd.code if isinstance(exc, ConnectionClosed) and exc.rcvd else None
                # 4503: the site stopping at the end tells its viewers to go elsewhere
                self.failed["told to reconnect (4503)" if code == 4503 else type(exc).__name__] += 1

    def run(self) -> None:
        while not self.stopped.is_set():
            url = random.choice(self.urls)
            # Each stays 5-115 s: about VIEWERS at once with one arriving a second.
            threading.Thread(target=self.viewer, args=(url, random.uniform(5, 115)), daemon=True).start()
            self.stopped.wait(60 / VIEWERS)


class Reader:
    """Pages and API reads, a few a second; counts answers by status."""

    PATHS = ("/", "/example", "/tracker/api/rooms", "/tracker/api/rooms/example", "/example/schedule.json")

    def __init__(self, urls: list[str]) -> None:
        self.urls, self.stopped = urls, threading.Event()
        self.statuses: Counter[int] = Counter()
        self.errors: list[tuple[float, str, int]] = []

    def run(self) -> None:
        while not self.stopped.is_set():
            path = random.choice(self.PATHS)
            try:
                with urllib.request.urlopen(random.choice(self.urls) + path, timeout=5) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:
                status = 0
            self.statuses[status] += 1
            if status >= 500 or status == 0:
                self.errors.append((time.monotonic(), path, status))
            self.stopped.wait(0.2)


def resident_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def migrated_database(directory: Path) -> str:
    url = f"sqlite:///{directory / 'db.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url, "ROOMS_CONFIG_DIR": str(TEST_CONFIG_DIR)}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    return url


def config_dir(directory: Path, webhook: str) -> Path:
    config = directory / "config"
    config.mkdir()
    (config / "config.json").write_text((TEST_CONFIG_DIR / "config.json").read_text())
    private = {"config": {"secret": TEST_SECRET, "webhooks": [webhook], "alert-suppress-minutes": 0}}
    (config / "config.private.json").write_text(json.dumps(private))
    return config


def soak(minutes: float, directory: Path) -> dict:
    receiver = Receiver()
    server = RedisProcess(free_port(), directory / "redis")
    server.directory.mkdir()
    server.start()
    env = site_environment(server.url, migrated_database(directory))
    env["ROOMS_CONFIG_DIR"] = str(config_dir(directory, receiver.url))
    duration = minutes * 60
    samples, restarts = [], []
    with running(env, directory) as first, running(env, directory, worker=False) as second:
        urls = [first.url, second.url]
        steady = [
            Encoder(urls[i % 2], first.add_encoder("example", f"steady-{i}"), name=f"steady-{i}", interval=5, every=2)
            for i in range(STEADY)
        ]
        flapping = [
            Flapper(urls[i % 2], first.add_encoder("example", f"flap-{i}"), name=f"flap-{i}", interval=2, every=1)
            for i in range(FLAPPING)
        ]
        churn, reader = Churn(urls), Reader(urls)
        threads = [threading.Thread(target=job.run, daemon=True) for job in (churn, reader)]
        pids = {
            "daphne 1": first.processes[0].pid,
            "daphne 2": second.processes[0].pid,
            "worker": first.processes[1].pid,
        }
        client = redis.Redis.from_url(server.url)
        with contextlib.ExitStack() as stack:
            for encoder in steady + flapping:
                stack.enter_context(encoder)
            for thread in threads:
                thread.start()
            started = time.monotonic()
            restart_at = [duration / 3, 2 * duration / 3]
            next_sample = 0.0
            while (elapsed := time.monotonic() - started) < duration:
                if restart_at and elapsed >= restart_at[0]:
                    restart_at.pop(0)
                    began = time.monotonic()
                    (server.kill if len(restarts) == 0 else server.stop)()  # once killed, once stopped
                    server.start()
                    restarts.append((began, time.monotonic()))
                if elapsed >= next_sample:
                    sample = {name: resident_kb(pid) for name, pid in pids.items()}
                    sample["redis"] = int(client.info("memory")["used_memory"]) // 1024
                    sample["at"] = elapsed
                    samples.append(sample)
                    print(json.dumps(sample), flush=True)
                    next_sample += SAMPLE_SECONDS
                time.sleep(1)
            churn.stopped.set()
            reader.stopped.set()
        client.close()
    server.stop()
    receiver.server.shutdown()

    def during_restart(at: float) -> bool:
        return any(began - 1 <= at <= ended + 3 for began, ended in restarts)

    refused = Counter(s for e in steady + flapping for at, s in e.answers if s != 200 and not during_restart(at))
    steady_alerts = [a for a in receiver.encoders if a["name"].startswith("steady")]
    return {
        "minutes": minutes,
        "samples": samples,
        "restarts": [round(ended - began, 2) for began, ended in restarts],
        "reads": dict(reader.statuses),
        "5xx outside restarts": [e for e in reader.errors if not during_restart(e[0])],
        "heartbeats refused outside restarts": dict(refused),
        "heartbeats": sum(len(e.answers) for e in steady + flapping),
        "viewers opened": churn.opened,
        "viewer snapshots": churn.snapshots,
        "viewer connect failures": dict(churn.failed),
        "alerts": Counter(f"{a['name'].split('-')[0]} {a['new']}" for a in receiver.encoders),
        "steady alerts": steady_alerts,
    }


def growth(samples: list[dict], name: str) -> float:
    """The last third's mean over the first third's (after the first sample, a warm-up)."""
    values = [s[name] for s in samples[1:]]
    third = max(1, len(values) // 3)
    first, last = values[:third], values[-third:]
    return (sum(last) / len(last)) / (sum(first) / len(first))


def record(result: dict) -> tuple[str, bool]:
    names = ["daphne 1", "daphne 2", "worker", "redis"]
    growths = {name: growth(result["samples"], name) for name in names}
    passed = (
        not result["5xx outside restarts"]
        and not result["heartbeats refused outside restarts"]
        and not result["steady alerts"]
        and all(g <= 1.2 for g in growths.values())
    )
    first, last = result["samples"][1], result["samples"][-1]
    rows = "\n".join(f"| {name} | {first[name]:,} KB | {last[name]:,} KB | {growths[name]:.2f}x |" for name in names)
    text = f"""
### {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())} — `make soak` ({result["minutes"]:g} minutes)

{STEADY} steady encoders, {FLAPPING} flapping (20 s on, 15 s off), about {VIEWERS} viewers churning over
two daphne processes ({result["viewers opened"]:,} sockets opened; closed early:
{result["viewer connect failures"] or 0}),
{sum(result["reads"].values()):,} page and API reads, {result["heartbeats"]:,} heartbeats; Redis killed once and
stopped once (back in {", ".join(f"{s} s" for s in result["restarts"])}).

| process | resident after warm-up | at the end | last third / first third |
|---|---|---|---|
{rows}

Reads by status: {result["reads"]}. 5xx outside the restarts: {len(result["5xx outside restarts"])}.
Heartbeats refused outside the restarts: {result["heartbeats refused outside restarts"] or 0}.
Alerts: {dict(result["alerts"])} (steady encoders: {len(result["steady alerts"])}).
Verdict: {"passed" if passed else "**failed**"}.
"""
    return text, passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--no-record", action="store_true", help="print only, don't append to docs/performance.md")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="soak-") as directory:
        result = soak(options.minutes, Path(directory))
    text, passed = record(result)
    print(text)
    if not options.no_record:
        with (ROOT / "docs" / "performance.md").open("a") as performance:
            performance.write(text)
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
