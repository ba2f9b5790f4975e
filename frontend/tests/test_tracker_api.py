"""The frontend's reading of the tracker: one room list per second, however many pages."""

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from frontend import tracker_api


@pytest.fixture
def tracker(settings):
    """A stand-in tracker over HTTP that counts what it is asked."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            body = json.dumps({"version": len(asked), "rooms": [{"name": "example", "live": True}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.TRACKER_URL = f"http://127.0.0.1:{server.server_port}"
    yield asked
    server.shutdown()


async def test_room_list_is_fetched_once_per_second_for_many_pages(tracker, monkeypatch):
    monkeypatch.setattr(tracker_api, "ROOM_LIST_SECONDS", 0.3)

    crowd = await asyncio.gather(*(tracker_api.room_list() for _ in range(20)))
    await asyncio.sleep(0.35)
    later = await tracker_api.room_list()

    assert tracker == ["/tracker/api/rooms", "/tracker/api/rooms"]
    assert all(rooms == crowd[0] for rooms in crowd)
    assert later[0]["name"] == "example"
