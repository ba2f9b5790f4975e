import os
import re
import subprocess
import sys

from conftest import ROOT, TEST_CONFIG_DIR


def test_fake_encoder_registers_and_prints_one_line_per_heartbeat(site_url, redis_url):
    env = {**os.environ, "ROOMS_CONFIG_DIR": str(TEST_CONFIG_DIR), "REDIS_URL": redis_url}

    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "fake_encoder",
            "--room",
            "example",
            "--interval",
            "1",
            "--count",
            "2",
            "--tracker",
            site_url,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )

    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert re.fullmatch(r"Registered example at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 result OK", line)


def test_fake_encoder_reports_errors_on_its_line(site_url, redis_url):
    env = {**os.environ, "ROOMS_CONFIG_DIR": str(TEST_CONFIG_DIR), "REDIS_URL": redis_url}

    result = subprocess.run(
        [sys.executable, "manage.py", "fake_encoder", "--room", "nowhere", "--count", "1", "--tracker", site_url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.stdout.startswith("Registered nowhere at ")
    assert "result ERROR 404" in result.stdout


def test_daphne_refuses_to_start_with_a_broken_config(tmp_path):
    (tmp_path / "config.json").write_text('{"config": {"secret": "0123456789abcdef0"}, "default": {}, "bad room": {}}')
    env = {**os.environ, "ROOMS_CONFIG_DIR": str(tmp_path), "SECRET_KEY": "x", "DEBUG": "0"}

    result = subprocess.run(
        [sys.executable, "-c", "import project.asgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 1
    assert result.stderr.strip() == (
        "config error: config.json: room 'bad room': room names use letters, digits, '_' and '-' only"
    )


def test_daphne_refuses_development_secret_key_without_debug():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update({"ROOMS_CONFIG_DIR": str(TEST_CONFIG_DIR), "DEBUG": "0"})

    result = subprocess.run(
        [sys.executable, "-c", "import project.asgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 1
    assert "set SECRET_KEY" in result.stderr
