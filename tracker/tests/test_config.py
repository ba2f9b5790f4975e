import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tracker.config import ConfigError, load_config, parse_config

SECRET = "a-long-enough-random-secret"


def write(directory: Path, main: str, private: str | None = None) -> Path:
    (directory / "config.json").write_text(main)
    if private is not None:
        (directory / "config.private.json").write_text(private)
    return directory


def site(**rooms) -> str:
    return json.dumps({"config": {"secret": SECRET}, "default": {"title": "", "link": ""}, **rooms})


def test_config_rooms_inherit_defaults(tmp_path):
    config = load_config(write(tmp_path, site(main={"title": "Main"}, side={})))

    assert list(config.rooms) == ["main", "side"]
    assert config.rooms["main"].settings == {"title": "Main", "link": ""}
    assert config.rooms["side"].title == "side"


def test_config_comment_lines_are_ignored(tmp_path):
    main = "\n".join(
        [
            "// rooms",
            "{",
            "  // the secret",
            f'  "config": {{"secret": "{SECRET}"}},',
            '  "default": {"link": "http://x//y"},',
            '  "main": {}',
            "}",
        ]
    )

    config = load_config(write(tmp_path, main))

    assert config.rooms["main"].settings["link"] == "http://x//y"


def test_config_private_file_is_deep_merged(tmp_path):
    main = json.dumps({"config": {"secret": "", "grace": 7}, "default": {"title": ""}, "main": {"title": "A"}})
    private = json.dumps({"config": {"secret": SECRET}, "main": {"title": "B"}})

    config = load_config(write(tmp_path, main, private))

    assert (config.secret, config.grace, config.rooms["main"].title) == (SECRET, 7, "B")


@pytest.mark.parametrize(
    "main, private, message",
    [
        (site(main={"titel": "x"}), None, "config.json: room 'main': key 'titel': is not in 'default'"),
        (
            site(main={}),
            '{"main": {"colour": 1}}',
            "config.private.json: room 'main': key 'colour': is not in 'default'",
        ),
        (site(**{"main hall": {}}), None, "config.json: room 'main hall': room names use letters"),
        (site(tracker={}), None, "config.json: room 'tracker': this name is used by the site itself"),
        (site(main={"title": 3}), None, "config.json: room 'main': key 'title': must be a string, not a number"),
        (site(main=[]), None, "config.json: room 'main': must be an object"),
        (site(), None, "config.json: no rooms configured"),
        (
            json.dumps(
                {
                    "config": {"secret": SECRET},
                    "default": {"legacy-streams": {}},
                    "main": {"legacy-streams": {"flv_high": "http://{address}/x.flv"}},
                }
            ),
            None,
            "room 'main': key 'legacy-streams': 'flv_high' is not a playable original name (FLV: no current browser",
        ),
        (
            json.dumps(
                {
                    "config": {"secret": SECRET},
                    "default": {"legacy-streams": {"webm_high": "http://{host}/h.webm"}},
                    "main": {},
                }
            ),
            None,
            "key 'legacy-streams': webm_high: the only placeholder is {address}",
        ),
        (
            json.dumps(
                {
                    "config": {"secret": SECRET},
                    "default": {"legacy-streams": {"mp3_high": "rtmp://{address}/a"}},
                    "main": {},
                }
            ),
            None,
            "key 'legacy-streams': mp3_high: must make an http or https URL",
        ),
        (
            json.dumps(
                {
                    "config": {"secret": SECRET},
                    "default": {"legacy-streams": {"mp3_high": "http://{address}:8080/a"}, "legacy-public-host": ""},
                    "main": {"legacy-public-host": "cdn.example.org/x"},
                }
            ),
            None,
            "room 'main': key 'legacy-public-host': 'cdn.example.org/x' must be a host name or address, without",
        ),
        (
            site(main={}),
            '{"config": {"secret": "CHANGE-ME"}}',
            "config.private.json: room 'config': key 'secret': is a placeholder",
        ),
        (site(main={}), '{"config": {"secret": "short"}}', "key 'secret': is shorter than 16 characters"),
        (site(main={}), '{"config": {"grace": 0}}', "key 'grace': must be a whole number from 1 to 600"),
        (
            site(main={}),
            '{"config": {"secrett": "x"}}',
            "config.private.json: room 'config': key 'secrett': unknown global",
        ),
        (site(main={}), '{"config": {"webhooks": ["ftp://x"]}}', "key 'webhooks': entry 0 must be an http(s) URL"),
        (
            site(main={}),
            '{"config": {"event-logo": "javascript:alert(1)"}}',
            "key 'event-logo': must be an absolute http(s) URL or empty",
        ),
        (site(main={}), '{"config": {"event-favicon": "data:x"}}', "key 'event-favicon': must be an absolute http(s)"),
        (site(main={}), '{"config": {"metrics-allow": ["not-an-ip"]}}', "key 'metrics-allow': entry 0 must be an"),
        ('{"config": {', None, "config.json: line 1: invalid JSON"),
        (site(main={}), "[]", "config.private.json: the top level must be an object"),
    ],
)
def test_config_errors_name_file_room_and_key(tmp_path, main, private, message):
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, main, private))

    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_config_missing_main_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"config\.json: not found"):
        load_config(tmp_path)


def test_check_config_prints_merged_rooms(capsys):
    call_command("check_config")

    out = capsys.readouterr().out
    assert 'example: {"hashtag": "", "irc": "", "irclog": "", "legacy-allow-http": false, ' in out
    assert '"title": "Example Room"' in out
    assert "test-secret" not in out


def test_check_config_prints_webhooks_by_host_only(use_config, capsys):
    use_config({"webhooks": ["https://hooks.chat.example/services/T0/B0/s3cr3t-path?token=t0ken"]})
    call_command("check_config")

    out = capsys.readouterr().out
    assert '"webhooks": ["https://hooks.chat.example/(hidden)"]' in out
    assert "s3cr3t" not in out and "t0ken" not in out


def test_check_config_fails_with_one_line(settings, tmp_path):
    settings.ROOMS_CONFIG_DIR = write(tmp_path, site(main={"nope": 1}))

    with pytest.raises(CommandError, match="room 'main': key 'nope'"):
        call_command("check_config")


def test_config_empty_secret_turns_the_legacy_endpoint_off(tmp_path):
    config = load_config(write(tmp_path, json.dumps({"default": {}, "main": {}})))

    assert config.secret == ""


def legacy_site(tmp_path, secret: str = SECRET, **room) -> Path:
    webm = {"webm_high": "http://{address}:8080/webcast-high.webm", "mp3_high": "https://{address}/a.mp3"}
    default = {"legacy-streams": webm, "legacy-public-host": "", "legacy-allow-http": False}
    return write(tmp_path, json.dumps({"config": {"secret": secret}, "default": default, "main": room}))


def test_check_config_refuses_http_legacy_urls_on_an_https_site(settings, tmp_path):
    settings.ROOMS_CONFIG_DIR = legacy_site(tmp_path)
    settings.SECURE_SSL_REDIRECT = True

    with pytest.raises(CommandError, match=r"room 'main': legacy-streams webm_high are http:// URLs.*mixed content"):
        call_command("check_config")


@pytest.mark.parametrize(
    "https, secret, room",
    [
        (False, SECRET, {}),  # a plain-HTTP site: nothing is mixed
        (True, SECRET, {"legacy-allow-http": True}),  # the operator said so
        (True, SECRET, {"legacy-streams": {"webm_high": "https://{address}/h.webm"}}),
        (True, "", {}),  # no secret: the legacy endpoint is off
    ],
)
def test_check_config_accepts_legacy_urls_that_are_not_mixed_content(settings, tmp_path, https, secret, room):
    settings.ROOMS_CONFIG_DIR = legacy_site(tmp_path, secret, **room)
    settings.SECURE_SSL_REDIRECT = https

    call_command("check_config")


def test_init_config_creates_private_file_once(settings, tmp_path):
    settings.ROOMS_CONFIG_DIR = write(tmp_path, site(main={}).replace(SECRET, ""))

    call_command("init_config")
    first = (tmp_path / "config.private.json").read_text()
    call_command("init_config")

    assert (tmp_path / "config.private.json").read_text() == first
    assert (tmp_path / "config.private.json").stat().st_mode & 0o077 == 0
    assert len(load_config(tmp_path).secret) >= 32


def test_shipped_config_and_example_are_valid_together(tmp_path):
    root = Path(__file__).resolve().parents[2]
    write(tmp_path, (root / "config.json").read_text())
    example = (root / "config.private.json.example").read_text()

    with pytest.raises(ConfigError, match="is a placeholder"):
        load_config(write(tmp_path, (root / "config.json").read_text(), example))
    config = load_config(write(tmp_path, (root / "config.json").read_text(), example.replace("CHANGE-ME", SECRET)))
    assert "example" in config.rooms


@pytest.mark.parametrize("title", ["Main\nHall", "Main\x00", "Main\ud800"])
def test_config_strings_no_page_or_feed_can_carry_are_refused(title):
    with pytest.raises(ConfigError, match=r"config.json: room 'main': key 'title': must not contain the character U\+"):
        parse_config({"default": {"title": ""}, "main": {"title": title}}, {"config": {"secret": SECRET}})


def test_a_room_may_set_when_its_viewers_are_failing_within_the_sites_ranges(tmp_path):
    main = {
        "config": {"secret": SECRET},
        "default": {"title": "", "viewers-failing-clients": 3},
        "main": {"viewers-failing-clients": 10},
        "side": {},
    }
    config = load_config(write(tmp_path, json.dumps(main)))
    assert config.rooms["main"].setting("viewers-failing-clients", config.settings) == 10
    assert config.rooms["side"].setting("viewers-failing-percent", config.settings) == 50

    main["main"] = {"viewers-failing-clients": 0}
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, json.dumps(main)))
    assert "room 'main': key 'viewers-failing-clients': must be a whole number from 1 to 100000" in str(error.value)


def test_the_shipped_config_passes_check_config_in_production_mode(tmp_path, redis):
    """As the README says to run it: init_config, then check_config, DEBUG unset (so an HTTPS site)."""
    root = Path(__file__).resolve().parents[2]
    (tmp_path / "config.json").write_text((root / "config.json").read_text())
    env = {key: value for key, value in os.environ.items() if key != "DEBUG"}
    env |= {"ROOMS_CONFIG_DIR": str(tmp_path), "SECRET_KEY": "production-like", "REDIS_URL": redis}

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=root, env=env, capture_output=True, text=True, timeout=60
        )

    created = manage("init_config")
    checked = manage("check_config")

    assert created.returncode == 0, created.stderr
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr == ""
    assert load_config(tmp_path).secret  # the legacy endpoint is on, and still no http:// template is offered


@pytest.mark.parametrize("removal", [None, {"enabled": False}, {"enabled": False, "title": "Kept aside"}])
def test_the_private_file_removes_or_disables_a_room_of_config_json(tmp_path, removal):
    main = site(main={"title": "Main"}, side={"title": "Side"})

    config = load_config(write(tmp_path, main, json.dumps({"side": removal})))

    assert list(config.rooms) == ["main"]


def test_enabled_must_be_a_boolean_and_true_keeps_the_room(tmp_path):
    main = site(main={}, side={})

    assert list(load_config(write(tmp_path, main, json.dumps({"side": {"enabled": True}}))).rooms) == ["main", "side"]
    with pytest.raises(ConfigError, match=r"config\.private\.json: room 'side': key 'enabled': must be a boolean"):
        load_config(write(tmp_path, main, json.dumps({"side": {"enabled": "no"}})))


def test_a_room_disabled_in_the_private_file_disappears_everywhere(use_config, client, admin_client):
    use_config(**{"hall-2": {"enabled": False}})

    home, monitor = client.get("/").content.decode(), client.get("/monitor").content.decode()
    listed = [room["name"] for room in client.get("/tracker/api/rooms").json()["rooms"]]

    assert 'data-room="example"' in home and 'data-room="example"' in monitor
    assert "hall-2" not in home and "hall-2" not in monitor
    assert listed == ["example"]
    assert client.get("/hall-2").status_code == 404
    assert client.get("/tracker/api/rooms/hall-2").status_code == 404
    assert client.get("/tracker/api/rooms/hall-2/schedule.json").status_code == 404
    assert "hall-2" not in admin_client.get("/tracker/dashboard/").content.decode()


def test_the_event_timezone_is_checked_and_defaults_to_the_first_scheduled_rooms(tmp_path):
    main = json.dumps({"default": {"schedule": "", "schedule-timezone": "UTC"}, "main": {}, "side": {}})
    rooms = {"side": {"schedule": "/srv/programme.xml", "schedule-timezone": "Europe/Berlin"}}  # the first scheduled

    assert load_config(write(tmp_path, main, json.dumps(rooms))).timezone == "Europe/Berlin"
    chosen = {"config": {"event-timezone": "America/Toronto"}, **rooms}
    assert load_config(write(tmp_path, main, json.dumps(chosen))).timezone == "America/Toronto"
    with pytest.raises(ConfigError, match=r"key 'event-timezone': unknown time zone 'Mars/Base'"):
        load_config(write(tmp_path, main, json.dumps({"config": {"event-timezone": "Mars/Base"}})))
