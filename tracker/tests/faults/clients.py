"""The fault suite's clients: encoders that keep reporting the way real ones do,
viewers that record every message they get, and the transitions a room logged."""

from __future__ import annotations

import json
import threading
import time
import urllib.error

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from testing.factories import post_heartbeat, stream
from testing.processes import wait_for

STREAM = stream("https://cdn.example/a.webm", format="webm", clients=0)


class Encoder:
    """Heartbeats every `every` seconds in a thread, as a real encoder does, whatever the answers."""

    def __init__(self, url: str, token: str, *, name: str, interval: int, every: float) -> None:
        self.url, self.token, self.every = url, token, every
        self.body = {"room": "example", "encoder": name, "interval": interval, "streams": [STREAM]}
        self.answers: list[tuple[float, int]] = []  # (monotonic time, HTTP status or 0 for no answer)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stopped.is_set():
            self.beat()
            self.stopped.wait(self.every)

    def beat(self) -> None:
        try:
            post_heartbeat(self.url, self.body, token=self.token)
            status = 200
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = 0
        self.answers.append((time.monotonic(), status))

    def first_accepted_after(self, moment: float) -> float | None:
        return next((at for at, status in self.answers if at > moment and status == 200), None)

    def __enter__(self) -> Encoder:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)


class Viewer:
    """A /ws/live/ client in a thread that records every message, reconnecting like a browser."""

    def __init__(self, url: str) -> None:
        self.url = url.replace("http", "ws") + "/ws/live/"
        self.origin = url
        self.messages: list[tuple[float, dict]] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                with connect(self.url, origin=self.origin, open_timeout=2) as socket:
                    while not self.stopped.is_set():
                        try:
                            text = socket.recv(timeout=0.2)
                        except TimeoutError:
                            continue
                        self.messages.append((time.monotonic(), json.loads(text)))
            except (OSError, ConnectionClosed):
                self.stopped.wait(0.5)

    def example_live(self) -> list[tuple[float, bool]]:
        """Every state of room "example" this viewer was shown, with when."""
        shown = []
        for at, message in self.messages:
            if message["type"] == "snapshot":
                shown += [(at, room["live"]) for room in message["rooms"] if room["name"] == "example"]
            elif message["type"] == "room" and message["room"]["name"] == "example":
                shown.append((at, message["room"]["live"]))
        return shown

    def __enter__(self) -> Viewer:
        self.thread.start()
        # In the room before the test's fault comes: a viewer still connecting then sees none of it
        # (a CI run froze Redis before the first socket to a new daphne was open).
        try:
            wait_for(lambda: any(m["type"] == "snapshot" for _, m in self.messages), timeout=10, what="a snapshot")
        except TimeoutError:
            self.stopped.set()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)


def transitions(redis_url: str, room: str = "example") -> list[tuple[str, str | None, str]]:
    """(encoder, old, new) of every transition in a room's log."""
    import redis

    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        entries = client.xrange(f"streaming:log:{room}")
    # The log holds the room's own changes of state and operators' actions too: encoders' transitions only.
    encoders = (json.loads(fields["transition"]) for _, fields in entries if "transition" in fields)
    return [(t["name"], t["old"], t["new"]) for t in encoders]
