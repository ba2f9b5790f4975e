"""The site's ASGI HTTP application on a loopback port, inside the test process.

For browser tests that set what the tracker answers from the test itself
(monkeypatching frontend.tracker_api), so the site cannot run in a daphne
process of its own: a stdlib HTTP server hands each request to the same
application daphne serves (`common.lean.http_application()`, lean path
included), on one event loop of its own, as daphne has.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

from .client import call_application


class ApplicationHandler(BaseHTTPRequestHandler):
    server: ApplicationServer

    def answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path, _, query = self.path.partition("?")
        headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in self.headers.items()]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.0",
            "method": self.command,
            "scheme": "http",
            "path": unquote(path),
            "raw_path": path.encode("latin-1"),
            "query_string": query.encode("latin-1"),
            "root_path": "",
            "headers": headers,
            "client": list(self.client_address[:2]),
            "server": list(self.server.server_address[:2]),
        }
        future = asyncio.run_coroutine_threadsafe(call_application(scope, body), self.server.loop)
        status, answer_headers, content = future.result(timeout=30)
        self.send_response(status)
        for name, value in answer_headers:
            self.send_header(name.decode("latin-1"), value.decode("latin-1"))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    do_GET = do_HEAD = do_POST = answer  # noqa: N815 - the names http.server dispatches to

    def log_message(self, format: str, *args: object) -> None:
        pass  # the application logs what matters


class ApplicationServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ApplicationHandler)
        self.loop = asyncio.new_event_loop()


@contextlib.contextmanager
def serving() -> Iterator[str]:
    """The application at the base URL yielded, until the block ends."""
    server = ApplicationServer()
    threads = [
        threading.Thread(target=server.loop.run_forever, daemon=True),
        threading.Thread(target=server.serve_forever, daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        server.loop.call_soon_threadsafe(server.loop.stop)
        threads[0].join(timeout=5)
        server.loop.close()


class QuietFileHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # a test's media requests are no news


@contextlib.contextmanager
def serving_folder(folder: Path) -> Iterator[str]:
    """The files of `folder` at the base URL yielded (another origin on loopback), until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietFileHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
