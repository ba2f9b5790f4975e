import json
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
        (json.dumps({"default": {}, "main": {}}), None, "config.json: room 'config': key 'secret': is empty"),
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
    assert 'example: {"hashtag": "", "irc": "", "irclog": "", "legacy-stream-url": ' in out
    assert '"title": "Example Room"' in out
    assert "test-secret" not in out


def test_check_config_fails_with_one_line(settings, tmp_path):
    settings.ROOMS_CONFIG_DIR = write(tmp_path, site(main={"nope": 1}))

    with pytest.raises(CommandError, match="room 'main': key 'nope'"):
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
