import json
import os
import re
import subprocess
import sys
import urllib.request

import redis

from testing.processes import ROOT, TEST_CONFIG_DIR, wait_for
from tracker.encoders import store


def test_fake_encoder_registers_and_prints_one_line_per_heartbeat(site):
    args = ["fake_encoder", "--room", "example", "--interval", "1", "--count", "2", "--tracker", site.url]

    lines = site.manage(*args).splitlines()

    assert len(lines) == 2
    for line in lines:
        assert re.fullmatch(r"Registered example at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 result OK", line)


def test_fake_encoder_over_the_websocket(site):
    args = ["fake_encoder", "--transport", "websocket", "--room", "hall-2", "--interval", "1", "--count", "2"]
    args += ["--tracker", site.url]

    lines = site.manage(*args).splitlines()

    assert [line.endswith("result OK") for line in lines] == [True, True]

    # It closed its socket when it stopped: the tracker saw it go (disconnected)
    # rather than waiting for a heartbeat to be missed (late). The room's log
    # says so whatever the test's own pace: the 1 s grace may already have
    # turned it down by the time this line runs on a busy machine. The server
    # writes the disconnect once the close handshake is over, so the log may
    # lag the command's end by a moment.
    def states() -> list[str]:
        with redis.Redis.from_url(site.env["REDIS_URL"], decode_responses=True) as client:
            entries = client.xrange(store.key("log", "hall-2"))
        return [json.loads(fields["transition"])["new"] for _, fields in entries if "transition" in fields]

    wait_for(lambda: len(states()) >= 2, timeout=5, what="a second transition in hall-2's log")
    assert states()[:2] == ["up", "disconnected"], states()


def test_fake_encoder_reports_errors_on_its_line(site, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(site.add_encoder("hall-2", "fake-example"))

    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "fake_encoder",
            "--transport",
            "http",
            "--count",
            "1",
            "--tracker",
            site.url,
            "--token-file",
            str(token_file),
        ],
        cwd=ROOT,
        env=site.env,
        capture_output=True,
        text=True,
        timeout=30,
    )

    # The token is for another room: the tracker refuses and the line says so.
    assert result.stdout.startswith("Registered example at ")
    assert "result ERROR HTTP 403 forbidden room: this token is for room 'hall-2'" in result.stdout


def test_fake_encoder_speaks_the_previous_generations_protocol_with_the_sites_secret(site):
    args = ["fake_encoder", "--transport", "legacy", "--interval", "1", "--count", "1", "--tracker", site.url]

    lines = site.manage(*args).splitlines()
    room = json.load(urllib.request.urlopen(site.url + "/tracker/api/rooms/example", timeout=5))

    assert [line.endswith("result OK") for line in lines] == [True]
    # One endpoint per sender address, as the original tracker kept them.
    assert [(e["encoder"], e["state"]) for e in room["endpoints"]] == [("legacy-127.0.0.1", "up")]


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
