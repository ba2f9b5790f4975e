"""What ops/ ships, turned into what a bench runs, at run time: a change to
the shipped files is what gets measured.

* `unit_flags()`: daphne's options from the web unit's ExecStart, without
  its unix socket and its application (the bench gives an address, a port
  and the app), and the socket's endpoint options (its listen backlog).
* `site_config()`: the nginx site with the smallest mechanical change:
  plain HTTP on loopback ports instead of 80 and 443 with TLS (the ssl_*
  lines go, the IPv6 listeners go), each upstream's unix sockets replaced by
  the given addresses (each keeping the parameters of the upstream's first
  server: the control process's upstream balances over them too), and
  /srv/streaming and the ACME webroot moved into a directory of the bench.
  Everything else (balancing, timeouts, headers, locations) is as shipped.
* `Nginx`: a real nginx process on such a site (`nginx -p DIR -c FILE -g
  'daemon off;'`), its pid file, error log, access log and temp paths in DIR.
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

from .common import Started, raise_open_files, wait_for

OPS = Path(__file__).resolve().parent.parent / "ops"
WEB_UNIT = OPS / "systemd" / "streaming-web@.service"
SITE = OPS / "nginx" / "streaming.conf"
UPSTREAM = re.compile(r"^upstream \w+ \{\n.*?^\}", re.M | re.S)
SOCKET_SERVER = re.compile(r"^([ \t]*)server unix:/run/streaming/web-[^ ;]+\.sock([^;]*);[ \t]*\n", re.M)


def unit_flags(unit: Path = WEB_UNIT) -> tuple[list[str], str]:
    """daphne's options in the unit's ExecStart less its unix socket and the application, and the
    socket's endpoint options ("backlog=1024" of `-e unix:PATH:backlog=1024`; "" for `-u PATH`)."""
    text = unit.read_text().replace("\\\n", " ")
    [line] = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    argv = shlex.split(line.removeprefix("ExecStart="))
    if not argv[0].endswith("/daphne"):
        raise ValueError(f"{unit.name}: ExecStart is no longer daphne: {line}")
    for at, (flag, value) in enumerate(itertools.pairwise(argv)):
        if flag == "-u":
            return argv[1:at] + argv[at + 2 : -1], ""
        if flag == "-e" and value.startswith("unix:"):
            return argv[1:at] + argv[at + 2 : -1], value.removeprefix("unix:").partition(":")[2]
    raise ValueError(f"{unit.name}: daphne no longer listens on a unix socket: {line}")


def _replace(text: str, old: str, new: str, *, count: int | None = None) -> str:
    found = text.count(old)
    if not found or (count is not None and found != count):
        raise ValueError(f"the shipped nginx site changed: expected {count or 'some'} of {old!r}, found {found}")
    return text.replace(old, new)


def _balanced_over(block: str, upstreams: Sequence[str]) -> str:
    """An upstream block with its unix sockets replaced by `upstreams`, each with the first socket's parameters."""
    servers = SOCKET_SERVER.findall(block)
    if not servers:
        return block
    indent, parameters = servers[0]
    lines = "".join(f"{indent}server {address}{parameters};\n" for address in upstreams)
    first = SOCKET_SERVER.search(block)
    assert first is not None
    return block[: first.start()] + lines + SOCKET_SERVER.sub("", block[first.start() :])


def site_config(text: str, *, port: int, redirect_port: int, upstreams: Sequence[str], root: Path) -> str:
    """The shipped site (`text`) as plain HTTP on 127.0.0.1:`port`, balancing over `upstreams` (host:port)."""
    if not any(SOCKET_SERVER.search(block[0]) for block in UPSTREAM.finditer(text)):
        raise ValueError("the shipped nginx site changed: no `server unix:/run/streaming/...sock` line in its upstream")
    text = UPSTREAM.sub(lambda block: _balanced_over(block[0], upstreams), text)
    text = _replace(text, "listen 443 ssl http2;", f"listen 127.0.0.1:{port};", count=1)
    text = _replace(text, "listen 80;", f"listen 127.0.0.1:{redirect_port};", count=1)
    text, ipv6 = re.subn(r"^[ \t]*listen \[::\]:(?:80|443)\b[^;]*;[ \t]*\n", "", text, flags=re.M)
    text, ssl_lines = re.subn(r"^[ \t]*ssl_\w+[^;]*;[ \t]*\n", "", text, flags=re.M)
    if ipv6 != 2 or not ssl_lines:
        raise ValueError("the shipped nginx site changed: expected IPv6 listeners on 80 and 443, and ssl_* lines")
    text = _replace(text, "/srv/streaming", str(root / "srv"))
    return _replace(text, "/var/www/letsencrypt", str(root / "letsencrypt"))


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(path, os.X_OK)), None
    )


class Nginx(Started):
    """nginx on the shipped site, in front of `upstreams`, listening on 127.0.0.1:`port`."""

    def __init__(self, directory: Path, upstreams: Sequence[str], port: int, redirect_port: int) -> None:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed (Debian: apt-get install nginx-light)")
        self.binary, self.dir, self.port = binary, directory, port
        self.dir.mkdir(parents=True, exist_ok=True)
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi", "srv", "letsencrypt"):
            (self.dir / name).mkdir(exist_ok=True)
        (self.dir / "site.conf").write_text(
            site_config(SITE.read_text(), port=port, redirect_port=redirect_port, upstreams=upstreams, root=self.dir)
        )
        # Every socket is two connections here (the viewer's and the one to its host): each
        # worker may hold as many as its open-file limit allows.
        files = raise_open_files()
        mime = "include /etc/nginx/mime.types;\n" if Path("/etc/nginx/mime.types").exists() else ""
        # Root starts workers as "nobody", who cannot use a private temp directory.
        user = "user root;\n" if os.geteuid() == 0 else ""
        d = self.dir
        self.conf = d / "nginx.conf"
        self.conf.write_text(
            f"{user}worker_processes auto;\nworker_rlimit_nofile {files};\npid {d}/nginx.pid;\n"
            f"error_log {d}/error.log;\nevents {{ worker_connections {max(1024, files - 100)}; }}\n"
            "http {\n"
            f"  {mime}  default_type application/octet-stream;\n"
            f"  access_log {d}/access.log;\n"
            f"  client_body_temp_path {d}/client_body;\n  proxy_temp_path {d}/proxy;\n"
            f"  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n"
            f"  include {d}/site.conf;\n"
            "}\n"
        )
        self.process: subprocess.Popen | None = None

    def command(self, *args: str) -> list[str]:
        return [self.binary, "-p", str(self.dir), "-c", str(self.conf), "-e", str(self.dir / "error.log"), *args]

    def _start(self) -> None:
        check = subprocess.run(self.command("-t"), capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t refused the derived site:\n{check.stderr}")
        log = (self.dir / "nginx.out").open("w")
        self.process = subprocess.Popen(self.command("-g", "daemon off;"), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_for(
            lambda: (
                self.process is not None
                and self.process.poll() is None
                and socket.create_connection(("127.0.0.1", self.port), timeout=1).close() is None
            ),
            timeout=10,
            what=f"nginx on port {self.port} (log in {self.dir})",
        )

    def pids(self) -> list[int]:
        """The master's and its workers' pids."""
        if self.process is None or self.process.poll() is not None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [self.process.pid, *(int(pid) for pid in children.read_text().split())]

    def errors(self) -> list[str]:
        """Lines of nginx's error log (connections refused, timed out, ...)."""
        path = self.dir / "error.log"
        return path.read_text(errors="replace").splitlines() if path.exists() else []

    def close(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # SIGQUIT would wait for every websocket to end; SIGTERM ends them now.
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
