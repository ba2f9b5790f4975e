"""Real local servers for the agent tests, all on 127.0.0.1 and free ports.

`StatusServer` plays a streaming server's status page or the tracker's HTTP
API (stdlib http.server in a thread); `WebsocketTracker` plays the tracker's
websocket endpoint (websockets' sync server) and can stop and start again on
the same port, as a restarted tracker does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Response
from websockets.sync.server import Server, ServerConnection, serve

RECORDINGS = Path(__file__).parent / "recordings"
TOKEN = "agent-test-token-0123456789"


@dataclass
class RealTracker:
    """The real site (daphne + worker) and a way to get a token for an encoder."""

    url: str
    token_for: Callable[[str, str], str]  # (room, encoder name) -> token
    legacy_secret: str


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


# A route answers a request: a fixed Answer, or a function of the request.
Route = Answer | Callable[[Request], Answer]


def recording(name: str, content_type: str = "application/json") -> Answer:
    return Answer(200, (RECORDINGS / name).read_bytes(), content_type)


def json_answer(status: int, body: Any) -> Answer:
    return Answer(status, json.dumps(body).encode())


class StatusServer:
    """Serves `routes` (path without query -> Route) and records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # as real servers answer; websockets refuses HTTP/1.0

            def handle_one(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(method, self.path, dict(self.headers.items()), self.rfile.read(length))
                server.requests.append(request)
                route = server.routes.get(urlsplit(self.path).path)
                answer = Answer(404, b"not found", "text/plain")
                if route is not None:
                    answer = route(request) if callable(route) else route
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer.body)

            def do_GET(self) -> None:
                self.handle_one("GET")

            def do_POST(self) -> None:
                self.handle_one("POST")

            def log_message(self, *args: Any) -> None:
                pass  # keep test output clean

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def srs_api(request: Request) -> Answer:
    """SRS's /api/v1/streams: the recording, paged by `start` and `count` (default 10, as SRS does)."""
    query = parse_qs(urlsplit(request.path).query)
    start = int(query.get("start", ["0"])[0])
    count = int(query.get("count", ["10"])[0])
    document = json.loads((RECORDINGS / "srs-streams.json").read_bytes())
    document["streams"] = document["streams"][start : start + count]
    return json_answer(200, document)


@dataclass
class WebsocketTracker:
    """The tracker's /tracker/ws/encoder/ endpoint as the lead specified it (issue 3).

    Checks `Authorization: Bearer <token>`: a missing header is refused in the
    handshake, a wrong token accepted and then closed with 4403. Each frame is
    answered by `answer(frame)`; frames are recorded with the request headers.
    """

    token: str
    answer: Callable[[dict[str, Any]], dict[str, Any]] = lambda frame: {"ok": True, "next": 10}
    frames: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    port: int = 0
    server: Server | None = None
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handler(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        self.paths.append(connection.request.path)
        if connection.request.headers.get("Authorization") != f"Bearer {self.token}":
            connection.close(4403, "token not accepted")
            return
        for message in connection:
            frame = json.loads(message)
            self.frames.append(frame)
            connection.send(json.dumps(self.answer(frame)))

    def process_request(self, connection: ServerConnection, request: Any) -> Response | None:
        if request.path != "/tracker/ws/encoder/":
            return connection.respond(404, "no such endpoint\n")
        if "Authorization" not in request.headers:
            return Response(401, "Unauthorized", Headers([("Content-Length", "0")]), b"")
        return None

    def start(self) -> None:
        self.server = serve(self.handler, "127.0.0.1", self.port, process_request=self.process_request)
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop as a restarting tracker does: close the listening socket and every connection."""
        if self.server is not None:
            self.server.shutdown()
            self.server.socket.close()
            assert self.thread is not None
            self.thread.join(timeout=5)
            self.server = None
