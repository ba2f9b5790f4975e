"""A stand-in encoder: heartbeats like a real one so a new site shows live rooms."""

import json
import random
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tracker.config import ConfigError, get_config
from tracker.identities import IdentityError, add_encoder, revoke_encoder
from tracker.models import Encoder, Role

# Public test streams that browsers can play, so the example room shows video.
TEST_STREAMS = [
    {"format": "hls", "quality": "hd", "url": "https://test-streams.mux.dev/x36xhzz/x36xhzz.m3u8"},
    {
        "format": "mp4",
        "quality": "hd",
        "url": "https://commondatastorage.googleapis.com/gtv-videos-bucket/sample/BigBuckBunny.mp4",
    },
]


class Command(BaseCommand):
    help = "Send heartbeats for a room like a real encoder, one line per heartbeat."

    def add_arguments(self, parser):
        parser.add_argument("--room", default="example")
        parser.add_argument("--encoder", help="encoder name (default: fake-<room>)")
        parser.add_argument("--interval", type=int, default=10, help="seconds between heartbeats")
        parser.add_argument("--tracker", default="http://127.0.0.1:8000", help="the tracker's base URL")
        parser.add_argument("--count", type=int, default=0, help="stop after this many heartbeats (0: never)")
        parser.add_argument("--ws", action="store_true", help="send heartbeats over the websocket, not HTTP")
        parser.add_argument(
            "--token-file",
            help="file holding the encoder's token; without it the command (re)creates its own encoder identity",
        )

    def handle(self, *args, room, encoder, interval, tracker, count, token_file, ws, **options):
        encoder = encoder or f"fake-{room}"
        try:
            get_config()
            token = Path(token_file).read_text().strip() if token_file else fresh_token(room, encoder)
        except (ConfigError, IdentityError, OSError) as exc:
            raise CommandError(str(exc)) from None
        send = WebsocketSender(tracker, token) if ws else HttpSender(tracker, token)
        sent = 0
        while count == 0 or sent < count:
            body = {
                "room": room,
                "encoder": encoder,
                "interval": interval,
                "streams": [{**s, "clients": random.randint(0, 50), "bitrate": 2_500_000} for s in TEST_STREAMS],
            }
            result = send(body)
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            self.stdout.write(f"Registered {room} at {stamp} result {result}")
            self.stdout.flush()
            sent += 1
            if count == 0 or sent < count:
                time.sleep(interval)


def fresh_token(room: str, name: str) -> str:
    """A development convenience: replace this fake encoder's identity with a new one."""
    if Encoder.objects.filter(name=name).exists():
        revoke_encoder(name)
    return add_encoder(room=room, name=name, role=Role.ENCODER)[1]


class HttpSender:
    """POSTs heartbeats; each call returns "OK" or "ERROR <why>"."""

    def __init__(self, tracker: str, token: str):
        self.url, self.token = tracker.rstrip("/") + "/tracker/api/heartbeat", token

    def __call__(self, body: dict) -> str:
        request = urllib.request.Request(
            self.url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5):
                return "OK"
        except urllib.error.HTTPError as exc:
            return f"ERROR {exc.code} {exc.read(500).decode(errors='replace')}"
        except OSError as exc:
            return f"ERROR {getattr(exc, 'reason', exc)}"


class WebsocketSender:
    """The reference websocket client: one socket, a frame per heartbeat, an ack per frame.

    The token goes in the Authorization header, never in the URL.
    """

    def __init__(self, tracker: str, token: str):
        self.url = tracker.rstrip("/").replace("http", "ws", 1) + "/tracker/ws/encoder/"
        self.token = token
        self.socket = None

    def __call__(self, body: dict) -> str:
        from websockets.exceptions import WebSocketException
        from websockets.sync.client import connect

        try:
            if self.socket is None:
                self.socket = connect(self.url, additional_headers={"Authorization": f"Bearer {self.token}"})
            self.socket.send(json.dumps(body))
            ack = json.loads(self.socket.recv(timeout=5))
        except (OSError, TimeoutError, WebSocketException) as exc:
            self.socket = None  # reconnect with the next heartbeat
            return f"ERROR {exc}"
        return "OK" if ack.get("ok") else f"ERROR {ack.get('field')}: {ack.get('message')}"
