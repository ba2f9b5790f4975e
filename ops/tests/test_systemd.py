"""ops/systemd: `systemd-analyze verify` on the units, plus the promises they make.

verify checks that every command exists, so the release's venv paths are
pointed at stand-ins in a temporary directory; everything else is as shipped.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[1] / "systemd"
NGINX_SITE = Path(__file__).resolve().parents[1] / "nginx" / "streaming.conf"
WEB, WORKER = "streaming-web@.service", "streaming-worker.service"


def read_unit(name: str) -> configparser.ConfigParser:
    # Units repeat no keys here, so configparser reads them (continuations joined).
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str
    parser.read_string((UNITS / name).read_text().replace("\\\n", " "))
    return parser


def test_only_the_web_template_and_the_worker_are_units():
    assert sorted(p.name for p in UNITS.glob("*.service")) == [WEB, WORKER]
    assert not list(UNITS.glob("*.socket")) and not list(UNITS.glob("*.target"))


@pytest.mark.parametrize("name", [WEB, WORKER])
def test_units_run_the_current_release_as_the_run_user_hardened(name: str):
    service = read_unit(name)["Service"]
    assert service["User"] == "streaming"
    assert service["WorkingDirectory"] == "/srv/streaming/current"
    assert service["EnvironmentFile"] == "/etc/streaming/env"
    assert service["Restart"] == "always"  # a dead worker or web process is started again, however it ended
    assert service["ExecStart"].startswith("/srv/streaming/current/venv/bin/")
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert service[key] == value, key
    writable = set(service["ReadWritePaths"].split())
    assert writable <= {"/run/streaming", "/var/lib/streaming"}


def test_web_instances_listen_where_nginx_looks():
    service = read_unit(WEB)["Service"]
    command = service["ExecStart"].split()
    assert command[0].endswith("/daphne")
    assert "--proxy-headers" in command
    # daphne's -u PATH is the endpoint unix:PATH; -e gives it a listen queue for a reconnecting crowd.
    assert command[command.index("-e") + 1] == "unix:/run/streaming/web-%i.sock:backlog=4096"
    assert command[-1] == "project.asgi:application"
    upstream = re.findall(r"server unix:/run/streaming/web-(\d+)\.sock", NGINX_SITE.read_text())
    assert len(upstream) >= 2
    # The directory the sockets live in is made, with nginx's group, by tmpfiles.
    assert re.search(r"^d /run/streaming 0750 streaming www-data -$", (UNITS / "streaming.tmpfiles").read_text(), re.M)


def test_web_instances_leave_the_access_log_to_nginx():
    command = read_unit(WEB)["Service"]["ExecStart"].split()

    assert command[command.index("-v") + 1] == "0"  # daphne writes no line per request


def test_web_instances_may_hold_10000_sockets_with_headroom():
    limit = int(read_unit(WEB)["Service"]["LimitNOFILE"])

    assert limit >= 2 * 10_000


def test_the_worker_runs_manage_py_worker():
    assert read_unit(WORKER)["Service"]["ExecStart"].split()[-2:] == ["manage.py", "worker"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify(tmp_path: Path):
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    for stand_in in ("daphne", "python"):
        (venv_bin / stand_in).write_text("#!/bin/sh\n")
        (venv_bin / stand_in).chmod(0o755)
    units = tmp_path / "units"
    units.mkdir()
    for name in (WEB, WORKER):
        text = (UNITS / name).read_text().replace("/srv/streaming/current/venv/bin/", f"{venv_bin}/")
        (units / name).write_text(text)
    # A template is verified through an instance of it.
    shutil.copy(units / WEB, units / "streaming-web@1.service")

    result = subprocess.run(
        ["systemd-analyze", "verify", "streaming-web@1.service", WORKER],
        cwd=units,
        capture_output=True,
        text=True,
        env={"SYSTEMD_LOG_LEVEL": "notice", "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"},
    )

    # Complaints about the machine's own units are not ours to fix.
    ours = [line for line in (result.stdout + result.stderr).splitlines() if "streaming" in line]
    assert not ours, "\n".join(ours)
    assert result.returncode == 0, result.stderr
