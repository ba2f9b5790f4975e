"""ops/deploy.sh against a temporary /srv/streaming and a tiny fake project.

The fake project is a git repository whose manage.py records every command it
gets (and fails or dawdles on request); pip, the restart and the venv's pip
are replaced through the script's STREAMING_* variables, so nothing is
downloaded and no service is touched.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[1] / "deploy.sh"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

FAKE_MANAGE = """\
import json, os, pathlib, sys, time

here = pathlib.Path(__file__).resolve().parent
argv = sys.argv[1:]
umask = os.umask(0)
os.umask(umask)
record = {
    "argv": argv,
    "cwd": os.getcwd(),
    "release": here.name,
    "umask": oct(umask),
    "env": {key: os.environ.get(key) for key in ("SECRET_KEY", "ROOMS_CONFIG_DIR", "QUOTED")},
}
with open(os.environ["FAKE_MANAGE_LOG"], "a") as log:
    log.write(json.dumps(record) + "\\n")
if argv[:1] == [os.environ.get("FAKE_MANAGE_FAIL")]:
    sys.exit(1)
if argv[:1] == ["collectstatic"]:
    time.sleep(float(os.environ.get("FAKE_MANAGE_SLEEP", "0")))
    static = here / "staticfiles"
    static.mkdir(exist_ok=True)
    version = (here / "VERSION").read_text().strip()
    (static / f"app.{version:0>12}.js").write_text("// built\\n")
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=test", "-c", "user.email=test@example.org", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


class Site:
    """A temporary deployment: the repository, the root, the logs."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.root = tmp / "srv"
        self.repo = tmp / "repo"
        self.manage_log = tmp / "manage.log"
        self.pip_log = tmp / "pip.log"
        self.restart_log = tmp / "restart.log"
        self.env_file = tmp / "env"
        self.env_file.write_text(
            "# the services' environment\n"
            "DEBUG=0\n"
            "SECRET_KEY=a$b'c\"d`e f\\g\n"
            "ROOMS_CONFIG_DIR=/etc/streaming\n"
            "\n"
            'QUOTED="two words"\n'
        )
        pip = tmp / "fake-pip"
        pip.write_text(f'#!/bin/sh\necho "$@" >> {self.pip_log}\n')
        pip.chmod(0o755)
        self.repo.mkdir()
        git(self.repo, "init", "-q", "-b", "main")
        (self.repo / "manage.py").write_text(FAKE_MANAGE)
        (self.repo / "requirements.txt").write_text("Django==5.2\n")
        (self.repo / "project").mkdir()
        (self.repo / "project" / "__init__.py").write_text("")
        self.env = {
            **os.environ,
            "STREAMING_ROOT": str(self.root),
            "STREAMING_REPO": str(self.repo),
            "STREAMING_ENV_FILE": str(self.env_file),
            "STREAMING_FETCH": "0",
            "STREAMING_PYTHON": sys.executable,
            # No pip inside the venv, and a recorder instead of pip: nothing
            # is downloaded, a venv takes milliseconds.
            "STREAMING_VENV_OPTS": "--without-pip",
            "STREAMING_PIP": str(pip),
            "STREAMING_RESTART": f"echo restarted >> {self.restart_log}",
            "STREAMING_DEPLOY_USER": getpass.getuser(),
            "FAKE_MANAGE_LOG": str(self.manage_log),
        }

    def commit(self, version: str) -> str:
        (self.repo / "VERSION").write_text(version + "\n")
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-q", "-m", f"version {version}")
        git(self.repo, "tag", f"v{version}")
        return git(self.repo, "rev-parse", "HEAD")

    def run(self, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            ["bash", str(DEPLOY), *args], env={**self.env, **env}, capture_output=True, text=True, timeout=120
        )
        if check:
            assert result.returncode == 0, f"deploy.sh {' '.join(args)} failed:\n{result.stderr}"
        return result

    def popen(self, *args: str, **env: str) -> subprocess.Popen:
        return subprocess.Popen(
            ["bash", str(DEPLOY), *args],
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def link(self, name: str) -> str | None:
        path = self.root / name
        if not path.is_symlink():
            return None
        return os.readlink(path)

    def version(self, name: str = "current") -> str:
        return (self.root / name / "VERSION").read_text().strip()

    def releases(self) -> list[str]:
        releases = self.root / "releases"
        return sorted(p.name for p in releases.iterdir()) if releases.exists() else []

    def manage_calls(self) -> list[dict]:
        if not self.manage_log.exists():
            return []
        return [json.loads(line) for line in self.manage_log.read_text().splitlines()]

    def restarts(self) -> int:
        return len(self.restart_log.read_text().splitlines()) if self.restart_log.exists() else 0


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path)


def test_install_builds_a_release_and_switches_current(site: Site):
    commit = site.commit("1")

    site.run("install", "main")

    [release] = site.releases()
    assert release.endswith("-" + commit[:12])
    assert site.link("current") == f"releases/{release}"
    assert site.link("previous") is None  # nothing was replaced
    assert site.version() == "1"
    current = site.root / "current"
    assert (current / ".release").read_text().startswith("source main\n")
    assert (current / "venv" / "bin" / "python").exists()
    assert (current / "staticfiles" / "app.000000000001.js").exists()
    # compiled ahead: the services cannot write __pycache__ into the release
    assert list((current / "project" / "__pycache__").glob("__init__.*.pyc"))
    assert site.pip_log.read_text().split() == [
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--require-hashes",
        "-r",
        str(site.root / "releases" / release / "requirements.txt"),
    ]
    calls = site.manage_calls()
    assert [call["argv"] for call in calls] == [
        ["check"],
        ["check_config"],
        ["migrate", "--noinput"],
        ["collectstatic", "--noinput"],
    ]
    assert {call["release"] for call in calls} == {release}
    # The services' environment, taken literally; quotes stripped as systemd does.
    assert calls[0]["env"] == {
        "SECRET_KEY": "a$b'c\"d`e f\\g",
        "ROOMS_CONFIG_DIR": "/etc/streaming",
        "QUOTED": "two words",
    }
    # Only database writes get the group-writable umask; release files stay readable.
    assert {call["argv"][0]: call["umask"] for call in calls} == {
        "check": "0o22",
        "check_config": "0o22",
        "migrate": "0o7",
        "collectstatic": "0o22",
    }
    assert site.restarts() == 1


def test_second_install_switches_again_and_remembers_previous(site: Site):
    site.commit("1")
    site.run("install", "main")
    first = site.link("current")
    site.commit("2")

    site.run("install", "main")

    assert len(site.releases()) == 2
    assert site.link("current") != first
    assert site.version() == "2"
    assert site.link("previous") == first
    assert site.restarts() == 2


def test_install_by_tag_and_by_tarball(site: Site, tmp_path: Path):
    site.commit("1")
    site.commit("2")
    site.run("install", "v1")
    assert site.version() == "1"

    # A tarball with one top directory, as `git archive --prefix` makes them.
    tree = tmp_path / "export" / "streaming-3"
    tree.mkdir(parents=True)
    for name in ("manage.py", "requirements.txt"):
        shutil.copy(site.repo / name, tree / name)
    (tree / "VERSION").write_text("3\n")
    tarball = tmp_path / "streaming-3.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(tree, arcname="streaming-3")

    site.run("install", str(tarball))

    assert site.version() == "3"
    assert site.link("current").endswith("-streaming-3")


def test_rollback_points_current_at_the_release_before(site: Site):
    site.commit("1")
    site.run("install", "main")
    site.commit("2")
    site.run("install", "main")
    site.commit("3")
    site.run("install", "main")
    releases = site.releases()

    site.run("rollback")
    assert site.version() == "2"
    assert site.link("previous") == f"releases/{releases[2]}"  # its static files stay reachable
    site.run("rollback")
    assert site.version() == "1"
    assert site.restarts() == 5

    result = site.run("rollback", check=False)
    assert result.returncode != 0
    assert "no release older than" in result.stderr
    assert site.version() == "1"
    assert site.restarts() == 5

    # A later install is newer than everything, whatever current was.
    site.commit("4")
    site.run("install", "main")
    assert site.version() == "4"
    assert site.link("previous") == f"releases/{releases[0]}"


@pytest.mark.parametrize("failing", ["pip", "check", "check_config", "migrate", "collectstatic"])
def test_a_failing_step_leaves_current_alone(site: Site, failing: str):
    site.commit("1")
    site.run("install", "main")
    before = site.link("current")
    site.commit("2")

    env = {"STREAMING_PIP": "false"} if failing == "pip" else {"FAKE_MANAGE_FAIL": failing}
    result = site.run("install", "main", check=False, **env)

    assert result.returncode != 0
    assert "current is unchanged" in result.stderr
    assert site.link("current") == before
    assert site.version() == "1"
    # the half-built release is gone, and nothing was restarted
    assert site.releases() == [before.removeprefix("releases/")]
    assert not list((site.root / "releases").glob(".export.*"))
    assert site.restarts() == 1


def test_an_unknown_revision_changes_nothing(site: Site):
    site.commit("1")
    site.run("install", "main")
    before = site.releases()

    result = site.run("install", "no-such-branch", check=False)

    assert result.returncode != 0
    assert "unknown revision: no-such-branch" in result.stderr
    assert site.releases() == before
    assert not list((site.root / "releases").glob(".export.*"))


def test_only_the_newest_releases_are_kept(site: Site):
    for version in "12345":
        site.commit(version)
        site.run("install", "main", STREAMING_KEEP="2")

    releases = site.releases()
    assert len(releases) == 2
    assert site.link("current") == f"releases/{releases[1]}"
    assert site.link("previous") == f"releases/{releases[0]}"
    assert (site.root / "releases" / releases[0] / "VERSION").read_text().strip() == "4"

    # current and previous survive pruning even when they are not the newest
    site.run("rollback")
    site.commit("6")
    site.run("install", "main", STREAMING_KEEP="1")
    kept = [(site.root / "releases" / name / "VERSION").read_text().strip() for name in site.releases()]
    assert kept == ["4", "6"]
    assert site.version("previous") == "4"


def test_current_always_points_at_a_complete_release(site: Site):
    """Watch the symlink during a slow install: never missing, never half-built."""
    site.commit("1")
    site.run("install", "main")
    old = site.link("current")
    site.commit("2")

    current = site.root / "current"
    seen: set[str] = set()
    saw_half_built = False
    process = site.popen("install", "main", FAKE_MANAGE_SLEEP="1")
    while process.poll() is None:
        assert current.is_symlink(), "current was missing or not a symlink"
        target = os.readlink(current)
        # Resolve once: the marker must be in the directory it pointed at then.
        resolved = current.resolve(strict=True)
        assert (resolved / ".release").exists(), f"current -> {target}, which is not complete"
        seen.add(target)
        building = [p for p in (site.root / "releases").iterdir() if not (p / ".release").exists()]
        saw_half_built = saw_half_built or bool(building)
    stderr = process.stderr.read()
    assert process.returncode == 0, stderr

    assert saw_half_built, "never saw the release being built; the check proved nothing"
    assert seen == {old} or seen == {old, site.link("current")}
    assert site.link("current") != old
    assert site.version() == "2"


def test_the_switch_renames_a_new_symlink_over_the_old_one():
    """The property the test above samples, stated: rename(2) of a symlink."""
    text = DEPLOY.read_text()
    assert 'ln -sfn "releases/$release" "$ROOT/.$name.new"' in text
    assert 'mv -T "$ROOT/.$name.new" "$ROOT/$name"' in text


def test_refuses_the_wrong_user_before_touching_anything(site: Site):
    site.commit("1")

    result = site.run("install", "main", check=False, STREAMING_DEPLOY_USER="streaming-deploy-elsewhere")

    assert result.returncode != 0
    assert "run this as streaming-deploy-elsewhere" in result.stderr
    assert not site.root.exists()
    assert site.run("rollback", check=False, STREAMING_DEPLOY_USER="nobody-here").returncode != 0


def test_list_and_manage(site: Site):
    site.commit("1")
    site.run("install", "main")
    site.commit("2")
    site.run("install", "main")
    first, second = site.releases()

    assert site.run("list").stdout.splitlines() == [f"{first} (previous)", f"{second} (current)"]

    site.run("manage", "encoder", "add", "--room", "main-hall", "--name", "cam-1")
    call = site.manage_calls()[-1]
    assert call["argv"] == ["encoder", "add", "--room", "main-hall", "--name", "cam-1"]
    assert call["release"] == second
    assert call["env"]["ROOMS_CONFIG_DIR"] == "/etc/streaming"
    assert call["umask"] == "0o7"


FAKE_SYSTEMCTL = """\
#!/bin/sh
# list-units: the running web instances; restart: record, and for a web
# instance bind its socket the way daphne would (unless told it hangs).
echo "$*" >> "$FAKE_SYSTEMCTL_LOG"
case "$1" in
  list-units)
    for i in 1 2 3; do echo "streaming-web@$i.service loaded active running Streaming website, web process $i"; done ;;
  restart)
    case "$2" in
      streaming-web@*)
        n=${2#streaming-web@}; n=${n%.service}
        [ "$n" = "$FAKE_HANGING_INSTANCE" ] && exit 0
        rm -f "$STREAMING_SOCKET_DIR/web-$n.sock"
        "$FAKE_PYTHON" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \\
            "$STREAMING_SOCKET_DIR/web-$n.sock" ;;
    esac ;;
esac
"""


@pytest.fixture
def fake_systemd(site: Site, tmp_path: Path) -> Path:
    """systemctl (and sudo, for a non-root run) replaced on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "systemctl").write_text(FAKE_SYSTEMCTL)
    (bin_dir / "sudo").write_text('#!/bin/sh\n[ "$1" = -n ] && shift\nexec "$@"\n')
    for tool in ("systemctl", "sudo"):
        (bin_dir / tool).chmod(0o755)
    sockets = tmp_path / "run"
    sockets.mkdir()
    log = tmp_path / "systemctl.log"
    del site.env["STREAMING_RESTART"]
    site.env.update(
        PATH=f"{bin_dir}:{os.environ['PATH']}",
        STREAMING_SOCKET_DIR=str(sockets),
        FAKE_SYSTEMCTL_LOG=str(log),
        FAKE_PYTHON=sys.executable,
    )
    return log


def test_default_restart_is_rolling_web_first_then_worker(site: Site, fake_systemd: Path):
    site.commit("1")
    site.run("install", "main")

    restarts = [line for line in fake_systemd.read_text().splitlines() if line.startswith("restart")]
    assert restarts == [
        "restart streaming-web@1.service",
        "restart streaming-web@2.service",
        "restart streaming-web@3.service",
        "restart streaming-worker.service",
    ]


def test_rolling_restart_stops_at_an_instance_that_does_not_come_up(site: Site, fake_systemd: Path):
    site.commit("1")
    started = time.monotonic()

    result = site.run("install", "main", check=False, FAKE_HANGING_INSTANCE="2", STREAMING_RESTART_WAIT="1")

    assert result.returncode != 0
    assert time.monotonic() - started < 30
    assert "streaming-web@2.service did not come up within 1 s" in result.stderr
    restarts = [line for line in fake_systemd.read_text().splitlines() if line.startswith("restart")]
    assert restarts == ["restart streaming-web@1.service", "restart streaming-web@2.service"]
