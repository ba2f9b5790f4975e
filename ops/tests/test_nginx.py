"""ops/nginx/streaming.conf: `nginx -t`, then a real nginx in front of an echo upstream.

The site is wrapped in a minimal nginx.conf with everything that would touch
the system moved into a temporary directory: self-signed certificates made
with openssl, the daphne sockets, the releases root, the ACME webroot, and
the ports (80 and 443 become free high ports).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import socketserver
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parents[1] / "nginx" / "streaming.conf"
HOST = "stream.example.org"
NGINX = shutil.which("nginx") or next(
    (path for path in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(path, os.X_OK)), None
)

pytestmark = [
    pytest.mark.skipif(
        NGINX is None, reason="nginx is not installed (Debian: apt-get install nginx-light); config not checked"
    ),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed for a test certificate"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Paths:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.cert = tmp / "fullchain.pem"
        self.key = tmp / "privkey.pem"
        self.socket = tmp / "web.sock"  # every viewers' process
        self.control_socket = tmp / "control.sock"  # the encoders' and operators' process
        self.srv = tmp / "srv"
        self.webroot = tmp / "letsencrypt"
        self.http_port = free_port()
        self.https_port = free_port()


def site_for_test(paths: Paths) -> str:
    text = SITE.read_text()
    replacements = {
        f"/etc/letsencrypt/live/{HOST}/fullchain.pem": str(paths.cert),
        f"/etc/letsencrypt/live/{HOST}/privkey.pem": str(paths.key),
        "/srv/streaming": str(paths.srv),
        "/var/www/letsencrypt": str(paths.webroot),
    }
    for old, new in replacements.items():
        assert old in text, f"the site no longer mentions {old}; update this test"
        text = text.replace(old, new)
    text, control = re.subn(r"unix:/run/streaming/web-control\.sock", f"unix:{paths.control_socket}", text)
    assert control == 1, "expected the control process's socket in its upstream"
    text, sockets = re.subn(r"unix:/run/streaming/web-\d+\.sock", f"unix:{paths.socket}", text)
    assert sockets >= 2, "expected several daphne sockets in the upstream"
    text, n80 = re.subn(
        r"listen (\[::\]:)?80;", lambda m: f"listen {'[::1]' if m[1] else '127.0.0.1'}:{paths.http_port};", text
    )
    text, n443 = re.subn(
        r"listen (\[::\]:)?443 ", lambda m: f"listen {'[::1]' if m[1] else '127.0.0.1'}:{paths.https_port} ", text
    )
    assert (n80, n443) == (2, 2), "expected IPv4 and IPv6 listeners on 80 and 443"
    if not socket.has_ipv6 or not ipv6_loopback():
        text = re.sub(r"\s*listen \[::1\]:\d+[^;]*;", "", text)
    return text


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def write_nginx_conf(paths: Paths) -> Path:
    tmp = paths.tmp
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            f"/CN={HOST}",
            "-keyout",
            str(paths.key),
            "-out",
            str(paths.cert),
        ],
        check=True,
        capture_output=True,
    )
    (tmp / "site.conf").write_text(site_for_test(paths))
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / name).mkdir()
    # Root starts workers as "nobody", who cannot read pytest's private tmp.
    user = "user root;\n" if os.geteuid() == 0 else ""
    mime = "include /etc/nginx/mime.types;\n" if Path("/etc/nginx/mime.types").exists() else ""
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        f"  {mime}  default_type application/octet-stream;\n"
        f"  access_log {tmp}/access.log;\n"
        f"  client_body_temp_path {tmp}/client_body;\n  proxy_temp_path {tmp}/proxy;\n"
        f"  fastcgi_temp_path {tmp}/fastcgi;\n  uwsgi_temp_path {tmp}/uwsgi;\n  scgi_temp_path {tmp}/scgi;\n"
        f"  include {tmp}/site.conf;\n"
        "}\n"
    )
    return conf


def nginx_command(paths: Paths, conf: Path, *args: str) -> list[str]:
    return [NGINX, "-p", str(paths.tmp), "-c", str(conf), "-e", str(paths.tmp / "error.log"), *args]


def test_every_upstream_shares_its_state_among_nginx_workers():
    """A zone per upstream: least_conn counts and failure marks for the whole nginx, not per worker."""
    upstreams = re.findall(r"^upstream (\w+) \{(.*?)^\}", SITE.read_text(), re.M | re.S)

    assert {name for name, _ in upstreams} == {"streaming_web", "streaming_control"}
    for name, block in upstreams:
        assert re.search(rf"^\s*zone {name} \d+k;", block, re.M), f"{name} has no zone"


def test_nginx_accepts_the_site(tmp_path: Path):
    paths = Paths(tmp_path)
    conf = write_nginx_conf(paths)

    result = subprocess.run(nginx_command(paths, conf, "-t"), capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
    assert "[warn]" not in result.stderr, result.stderr


class Echo(BaseHTTPRequestHandler):
    """Plays daphne: answers with what it was sent."""

    protocol_version = "HTTP/1.1"

    def answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.dumps(
            {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body_length": len(self.rfile.read(length)),
                "process": Path(self.server.server_address).stem,  # type: ignore[arg-type]
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.answer()

    def do_POST(self) -> None:
        self.answer()

    def address_string(self) -> str:
        return "unix"

    def log_message(self, format: str, *args) -> None:
        pass


class EchoServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Paths]:
    paths = Paths(tmp_path)
    conf = write_nginx_conf(paths)
    # Two releases: `previous` holds a page's old hashed file, `current` the new ones.
    for release, files in {
        "a": {"old.aaaaaaaaaaaa.js": "old"},
        "b": {"app.0123456789ab.js": "new", "plain.css": "css", "frontend/live.0123456789ab.js": "live"},
    }.items():
        for name, content in files.items():
            path = paths.srv / "releases" / release / "staticfiles" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
    (paths.srv / "current").symlink_to("releases/b")
    (paths.srv / "previous").symlink_to("releases/a")
    (paths.webroot / ".well-known" / "acme-challenge").mkdir(parents=True)
    (paths.webroot / ".well-known" / "acme-challenge" / "token123").write_text("token123.proof")

    upstreams = [EchoServer(str(path), Echo) for path in (paths.socket, paths.control_socket)]
    for upstream in upstreams:
        threading.Thread(target=upstream.serve_forever, daemon=True).start()
    process = subprocess.Popen(
        nginx_command(paths, conf, "-g", "daemon off;"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", paths.https_port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nginx did not start: {process.stderr.read() if process.poll() is not None else ''}")
                time.sleep(0.05)
        yield paths
    finally:
        process.terminate()
        process.wait(timeout=10)
        for upstream in upstreams:
            upstream.shutdown()
            upstream.server_close()


def request(
    paths: Paths, method: str, path: str, *, tls: bool = True, headers: dict | None = None, body: bytes | None = None
) -> tuple[http.client.HTTPResponse, bytes]:
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection("127.0.0.1", paths.https_port, context=context, timeout=10)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", paths.http_port, timeout=10)
    connection.request(method, path, body=body, headers={"Host": HOST, **(headers or {})})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response, data


def test_plain_http_redirects_to_https_except_acme_challenges(nginx: Paths):
    response, _ = request(nginx, "GET", "/main-hall?x=1", tls=False)
    assert response.status == 301
    assert response.getheader("Location") == f"https://{HOST}/main-hall?x=1"

    response, data = request(nginx, "GET", "/.well-known/acme-challenge/token123", tls=False)
    assert response.status == 200
    assert data == b"token123.proof"


def test_pages_are_proxied_with_forwarded_headers_and_no_server_version(nginx: Paths):
    response, data = request(nginx, "GET", "/main-hall", headers={"X-Forwarded-For": "203.0.113.9"})

    assert response.status == 200
    assert response.getheader("Server") == "nginx"  # no version
    seen = json.loads(data)
    assert seen["path"] == "/main-hall"
    assert seen["headers"]["host"] == HOST
    assert seen["headers"]["x-forwarded-proto"] == "https"
    # nginx replaces what the client claimed with the address it saw: daphne
    # believes the left-most entry, so a client must not be able to write it.
    assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert len(seen["headers"]["x-request-id"]) == 32
    assert "upgrade" not in seen["headers"]
    assert seen["headers"].get("connection", "") in ("", "keep-alive")


@pytest.mark.parametrize("path", ["/ws/live/", "/ws/ops/", "/tracker/ws/encoder/"])
def test_websockets_are_upgraded(nginx: Paths, path: str):
    _, data = request(
        nginx,
        "GET",
        path,
        headers={"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13"},
    )

    seen = json.loads(data)
    assert seen["path"] == path
    assert seen["process"] == ("web" if path == "/ws/live/" else "control")
    assert seen["headers"]["upgrade"] == "websocket"
    assert seen["headers"]["connection"] == "upgrade"
    assert seen["headers"]["x-forwarded-proto"] == "https"
    assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert seen["headers"]["host"] == HOST


@pytest.mark.parametrize(
    ("path", "process"),
    [
        ("/tracker/api/heartbeat", "control"),
        ("/tracker/endpoint/register", "control"),
        ("/tracker/api/rooms/main/stream", "web"),
        ("/tracker/api/heartbeats", "web"),
        ("/main-hall", "web"),
        ("/tracker/dashboard/", "web"),
    ],
)
def test_encoders_and_operators_reach_the_control_process_viewers_the_others(nginx: Paths, path: str, process: str):
    _, data = request(nginx, "POST" if "heartbeat" in path or "endpoint" in path else "GET", path, body=b"{}")

    assert json.loads(data)["process"] == process


def test_api_bodies_are_limited_to_64k_with_a_json_answer(nginx: Paths):
    headers = {"Content-Type": "application/json"}
    response, data = request(nginx, "POST", "/tracker/api/heartbeat", headers=headers, body=b"x" * 1000)
    assert response.status == 200
    assert json.loads(data)["body_length"] == 1000

    response, data = request(nginx, "POST", "/tracker/api/heartbeat", headers=headers, body=b"x" * (65 * 1024))
    assert response.status == 413
    assert response.getheader("Content-Type") == "application/json"
    assert json.loads(data)["error"] == "too_big"

    response, _ = request(nginx, "POST", "/tracker/endpoint/register", body=b"x" * (65 * 1024))
    assert response.status == 413


def test_static_files_come_from_disk_with_long_cache_for_hashed_names(nginx: Paths):
    response, data = request(nginx, "GET", "/static/app.0123456789ab.js")
    assert (response.status, data) == (200, b"new")
    assert response.getheader("Cache-Control") == "public, max-age=31536000, immutable"

    response, data = request(nginx, "GET", "/static/frontend/live.0123456789ab.js")
    assert (response.status, data) == (200, b"live")

    response, data = request(nginx, "GET", "/static/plain.css")
    assert (response.status, data) == (200, b"css")
    assert response.getheader("Cache-Control") == "public, max-age=300"

    # A page the previous release rendered still gets its files.
    response, data = request(nginx, "GET", "/static/old.aaaaaaaaaaaa.js")
    assert (response.status, data) == (200, b"old")

    response, _ = request(nginx, "GET", "/static/missing.0123456789ab.js")
    assert response.status == 404
    assert response.getheader("Cache-Control") is None  # a 404 is not cached for a year

    response, _ = request(nginx, "GET", "/static/../../etc/passwd")
    assert response.status in (400, 404)
