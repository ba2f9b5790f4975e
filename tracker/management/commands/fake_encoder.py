"""A stand-in encoder: heartbeats like a real one so a new site shows live rooms.

It sends through the encoder agent's own transports (tracker/agent/transports),
so development exercises the client real encoders run, over the websocket,
HTTP or the previous generation's register endpoint.
"""

import random
import time
from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tracker.agent.transports import MODES, Transport, TransportError, build_transport
from tracker.config import ConfigError, get_config
from tracker.encoders.identities import IdentityError, add_encoder, revoke_encoder
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
        parser.add_argument(
            "--transport",
            choices=MODES,
            default="auto",
            help="as the encoder agent: auto (websocket, HTTP when it fails), websocket, http, "
            "or legacy (the previous generation's register endpoint, with the site's secret)",
        )
        parser.add_argument(
            "--token-file",
            help="file holding the encoder's token; without it the command (re)creates its own encoder identity",
        )

    def handle(self, *args, room, encoder, interval, tracker, count, token_file, transport, **options):
        encoder = encoder or f"fake-{room}"
        try:
            config = get_config()
            if transport == "legacy":
                token = config.secret  # the original protocol knows one shared secret, not encoder tokens
            else:
                token = Path(token_file).read_text().strip() if token_file else fresh_token(room, encoder)
        except (ConfigError, IdentityError, OSError) as exc:
            raise CommandError(str(exc)) from None
        sender = build_transport(transport, tracker, token, timeout=5)
        sent = 0
        try:
            while count == 0 or sent < count:
                result = send(sender, heartbeat(room, encoder, interval))
                stamp = datetime.now(UTC).isoformat(timespec="seconds")
                self.stdout.write(f"Registered {room} at {stamp} result {result}")
                self.stdout.flush()
                sent += 1
                if count == 0 or sent < count:
                    time.sleep(interval)
        finally:
            sender.close()  # a websocket closed at the end: operators see the encoder gone at once


def heartbeat(room: str, encoder: str, interval: int) -> dict:
    streams = [{**s, "clients": random.randint(0, 50), "bitrate": 2_500_000} for s in TEST_STREAMS]
    return {"room": room, "encoder": encoder, "interval": interval, "streams": streams}


def send(sender: Transport, body: dict) -> str:
    """ "OK", or "ERROR <why>" as the agent's transports say it."""
    try:
        sender.send(body)
    except TransportError as exc:
        return f"ERROR {exc.reason}"
    return "OK"


def fresh_token(room: str, name: str) -> str:
    """A development convenience: replace this fake encoder's identity with a new one."""
    if Encoder.objects.filter(name=name).exists():
        revoke_encoder(name)
    return add_encoder(room=room, name=name, role=Role.ENCODER)[1]
