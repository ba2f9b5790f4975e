"""The markers conftest.py gives each test from the fixtures it uses, and that
`pytest -m unit` starts no Redis: read from pytest's own setup plan."""

from __future__ import annotations

import subprocess
import sys

from testing.processes import ROOT

PURE = "common/tests/test_layers.py"  # no fixture of Redis, database or browser: unit without saying so
REDIS = "tracker/encoders/tests/test_outage.py"  # every test asks for redis_client
BROWSER = "tracker/ops/tests/test_dashboard_browser.py"


def setup_plan(*args: str) -> str:
    command = [sys.executable, "-m", "pytest", "--setup-plan", "-q", "-p", "no:cacheprovider", *args]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def selected(plan: str) -> set[str]:
    return {line.split("::")[0].split()[-1] for line in plan.splitlines() if "::" in line}


def test_unit_selects_pure_tests_only_and_starts_no_redis():
    plan = setup_plan("-m", "unit", PURE, REDIS, BROWSER)

    assert selected(plan) == {PURE}
    assert "redis_url" not in plan  # the session fixture that starts redis-server was never set up


def test_integration_follows_the_fixtures_used():
    plan = setup_plan("-m", "integration", PURE, REDIS, BROWSER)

    # Each test gets exactly one marker: the browser test, neither unit nor integration, is browser.
    assert selected(plan) == {REDIS}
    assert "SETUP    S redis_url" in plan
