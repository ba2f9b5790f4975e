"""Options, environment and config file, merged; and the command line's exit codes."""

from __future__ import annotations

import json

import pytest

from tracker.agent.cli import main
from tracker.agent.config import TOKEN_ENV, resolve
from tracker.agent.sources import ConfigError


def write_config(tmp_path, **values):
    path = tmp_path / "agent.json"
    path.write_text("// the agent's config\n" + json.dumps(values))
    path.chmod(0o600)
    return path


def test_config_file_with_options_over_it(tmp_path):
    token = tmp_path / "token"
    token.write_text("file-token\n")
    path = write_config(
        tmp_path,
        tracker="https://tracker.example.org/",
        token_file=str(token),
        room="main",
        interval=20,
        sources=[{"type": "srs", "url": "http://127.0.0.1:1985"}],
    )

    config = resolve({"config": str(path), "room": "hall-2", "source": ["icecast=http://127.0.0.1:8000/s"]}, {})

    assert config.tracker == "https://tracker.example.org"
    assert config.token == "file-token"
    assert (config.room, config.interval, config.transport) == ("hall-2", 20, "auto")
    assert [s["type"] for s in config.sources] == ["srs", "icecast"]
    assert "file-token" not in repr(config)


def test_config_token_from_environment_over_file(tmp_path):
    path = write_config(tmp_path, tracker="http://127.0.0.1:8000", token="in-file", room="main")

    assert resolve({"config": str(path)}, {TOKEN_ENV: "from-env"}).token == "from-env"
    assert resolve({"config": str(path), "legacy": True}, {}).transport == "legacy"


def test_config_warns_when_token_file_is_readable_by_others(tmp_path, caplog):
    token = tmp_path / "token"
    token.write_text("t")
    token.chmod(0o644)

    resolve({"tracker": "http://127.0.0.1:8000", "room": "r", "token_file": str(token)}, {})

    assert "readable by other users" in caplog.text


@pytest.mark.parametrize(
    "options, message",
    [
        ({"tracker": "https://user:pw@tracker.example.org"}, "must not carry credentials"),
        ({"tracker": "https://tracker.example.org/?token=x"}, "must not carry credentials"),
        ({"tracker": "tracker.example.org"}, "must be an http or https URL"),
        ({"room": None}, "room: required"),
        ({"interval": 0}, "interval: must be"),
        ({"encoder": "cam 1"}, "encoder: must be"),
        ({"transport": "carrier-pigeon"}, "transport: must be one of"),
        ({"source": ["shoutcast=http://x/"]}, "use TYPE=URL"),
    ],
)
def test_config_errors_name_the_setting(options, message):
    given = {"tracker": "http://127.0.0.1:8000", "room": "example", **options}
    with pytest.raises(ConfigError, match=message):
        resolve(given, {TOKEN_ENV: "t"})


def test_config_without_token_is_an_error():
    with pytest.raises(ConfigError, match="token: required"):
        resolve({"tracker": "http://127.0.0.1:8000", "room": "example"}, {})


def test_cli_config_error_exits_2_with_one_line(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text('{"tracker": "http://127.0.0.1:1", "tokn": "x"}')

    assert main(["-c", str(path)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("config error: ") and "unknown key 'tokn' (known: encoder, interval, room," in line


def test_cli_dry_run_prints_the_heartbeat(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "t")
    path = write_config(
        tmp_path,
        sources=[
            {"type": "static", "streams": [{"format": "audio", "url": "https://a.example/x.mp3", "bitrate": 128000}]}
        ],
    )

    code = main(
        ["-c", str(path), "--tracker", "http://127.0.0.1:1", "--room", "example", "--encoder", "e1", "--dry-run"]
    )

    assert code == 0
    assert json.loads(capsys.readouterr().out) == {
        "room": "example",
        "encoder": "e1",
        "interval": 10,
        "streams": [{"format": "audio", "url": "https://a.example/x.mp3", "clients": 0, "bitrate": 128000}],
        "metrics": {"errors": []},
    }
