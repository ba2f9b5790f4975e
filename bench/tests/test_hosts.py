"""bench.hosts' set-up and tear-down: the simulated machines (network
namespaces on a bridge) are reachable and gone at exit, whatever happened,
and nginx runs the shipped site with only its upstream, listeners, TLS and
paths changed. Needs root and `ip netns` (and nginx); skipped elsewhere,
except under CI=true, where the machine is root and a skip would hide a
broken bench."""

from __future__ import annotations

import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.common import free_port
from bench.netns import Network
from bench.shipped import SITE, Nginx, nginx_binary, site_config, unit_flags


def netns_works() -> bool:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return False
    probe = f"streaming-probe-{os.getpid():x}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode == 0
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return made


IN_CI = os.environ.get("CI") == "true"
needs_netns = pytest.mark.skipif(not IN_CI and not netns_works(), reason="needs root and `ip netns`")
needs_nginx = pytest.mark.skipif(not IN_CI and nginx_binary() is None, reason="nginx is not installed")


@pytest.fixture
def network() -> Iterator[Network]:
    with Network(2) as net:
        yield net


@needs_netns
def test_each_host_has_its_own_address_reached_from_the_root_namespace(network: Network):
    # A listener inside host 2, at its address, answers a connection from here.
    script = "import socket,sys; s=socket.create_server((sys.argv[1], 8000)); print('up', flush=True); s.accept()"
    listener = subprocess.Popen(
        [*network.exec_prefix(2), sys.executable, "-c", script, network.address(2)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert listener.stdout is not None and listener.stdout.readline() == "up\n"
        socket.create_connection((network.address(2), 8000), timeout=5).close()
        assert listener.wait(timeout=5) == 0
    finally:
        listener.kill()
    # Host 1 reaches what listens on the gateway (the bench's Redis lives there).
    with socket.create_server((network.gateway, 0)) as server:
        port = server.getsockname()[1]
        reach = f"import socket; socket.create_connection(('{network.gateway}', {port}), timeout=5)"
        assert subprocess.run([*network.exec_prefix(1), sys.executable, "-c", reach], timeout=20).returncode == 0
    assert network.address(1) != network.address(2)


@needs_netns
def test_namespaces_and_links_are_removed_at_exit_even_after_an_error():
    with pytest.raises(RuntimeError, match="mid-run"), Network(2) as net:
        assert len(net.leftovers()) == 5  # two namespaces, two veths, the bridge
        raise RuntimeError("mid-run")
    assert net.leftovers() == []
    assert net.namespace(1) not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


@needs_netns
def test_a_killed_runs_leftovers_are_swept_by_the_next_run():
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = f"streaming-h1-{gone.pid:x}"
    subprocess.run(["ip", "netns", "add", stale], check=True)
    try:
        with Network(1) as net:
            assert stale not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
            assert net.leftovers()
    finally:
        subprocess.run(["ip", "netns", "del", stale], capture_output=True)


def test_the_site_is_the_shipped_one_with_its_upstream_listeners_tls_and_paths_replaced(tmp_path: Path):
    shipped = SITE.read_text()
    text = site_config(
        shipped, port=8081, redirect_port=8080, upstreams=["10.9.9.11:9000", "10.9.9.12:9000"], root=tmp_path
    )

    # Each upstream (the viewers' processes, the control process) over the given hosts, with its first server's
    # parameters.
    firsts = re.findall(
        r"^upstream \w+ \{\n(?:\s*(?:zone|least_conn)\b[^\n]*\n)*\s*server unix:[^ ;]+([^;]*);", shipped, re.M
    )
    assert len(firsts) == 2
    assert re.findall(r"^\s*server ([^\s{]+)([^;{]*);", text, re.M) == [
        (host, parameters) for parameters in firsts for host in ("10.9.9.11:9000", "10.9.9.12:9000")
    ]
    assert "unix:" not in text and "ssl" not in text.replace("ssl_certificate", "")
    assert not re.search(r"^\s*ssl_", text, re.M)
    assert re.findall(r"^\s*listen ([^;]+);", text, re.M) == ["127.0.0.1:8080", "127.0.0.1:8081"]
    assert "/srv/streaming" not in text and str(tmp_path / "srv") in text
    # Every other line is the shipped one.
    ours, theirs = text.splitlines(), shipped.splitlines()
    changed = [line for line in theirs if line not in ours] + [line for line in ours if line not in theirs]
    expected = re.compile(
        rf"\s*(server |listen |ssl_)|.*(/srv/streaming|/var/www/letsencrypt|{re.escape(str(tmp_path))})"
    )
    assert [line for line in changed if not expected.match(line)] == []


def test_a_shipped_site_without_socket_upstreams_is_refused(tmp_path: Path):
    changed = re.sub(r"server unix:[^;]+;", "server 127.0.0.1:8000;", SITE.read_text())
    with pytest.raises(ValueError, match="shipped nginx site changed"):
        site_config(changed, port=1, redirect_port=2, upstreams=["10.9.9.11:9000"], root=tmp_path)


def test_daphne_gets_the_web_units_flags_but_its_socket():
    flags, listen = unit_flags()
    assert "--proxy-headers" in flags and "--ping-interval" in flags
    assert "-u" not in flags and "-e" not in flags
    assert not any(flag.endswith(".sock") or flag.endswith(":application") for flag in flags)
    assert "unix" not in listen


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"{self.headers['X-Forwarded-For']} {self.headers['Host']}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[tuple[Nginx, int]]:
    """nginx on the derived site in front of one small upstream; yields it and its port."""
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = free_port()
    try:
        with Nginx(tmp_path, [f"127.0.0.1:{upstream.server_port}"], port, free_port()) as server:
            yield server, port
    finally:
        upstream.shutdown()
        upstream.server_close()


@needs_nginx
def test_nginx_proxies_plain_http_to_the_given_hosts_and_stops(nginx: tuple[Nginx, int]):
    server, port = nginx
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(b"GET /example HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = b"".join(iter(lambda: client.recv(4096), b""))
    assert answer.startswith(b"HTTP/1.1 200")
    assert answer.endswith(b"127.0.0.1 127.0.0.1")  # X-Forwarded-For and Host, as the shipped site sets them

    server.close()
    assert server.process is not None and server.process.poll() is not None
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
