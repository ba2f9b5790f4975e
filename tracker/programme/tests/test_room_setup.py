"""An organiser starts from the programme: `manage.py rooms_from_schedule` makes the rooms, keys matched."""

import json
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from testing.processes import TEST_CONFIG_DIR
from testing.server import serving_folder
from tracker.config import load_config
from tracker.programme.room_setup import room_name

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "schedules"


@pytest.fixture
def config_dir(settings, tmp_path: Path) -> Path:
    """config.json with its example rooms, and a private file as init_config writes it."""
    directory = tmp_path / "config"
    directory.mkdir()
    shutil.copy(TEST_CONFIG_DIR / "config.json", directory / "config.json")
    (directory / "config.private.json").write_text('// Local settings\n{"config": {"secret": "0123456789abcdef0"}}\n')
    (directory / "config.private.json").chmod(0o600)
    settings.ROOMS_CONFIG_DIR = directory
    return directory


@pytest.mark.parametrize(
    ("title", "taken", "name"),
    [
        ("Saal 1", set(), "saal-1"),
        ("Hall C (Plenary)", set(), "hall-c-plenary"),
        ("Großer Saal", set(), "groer-saal"),
        ("Salle Éiffel", {"salle-eiffel"}, "salle-eiffel-2"),
        ("Monitor", set(), "monitor-room"),
        ("!!!", set(), "room"),
    ],
)
def test_room_names_are_address_safe_and_unique(title, taken, name):
    assert room_name(title, taken) == name


def test_a_schedule_file_becomes_the_sites_rooms_with_matching_keys(config_dir, capsys):
    schedule = FIXTURES / "schedule2-minimal.json"

    call_command("rooms_from_schedule", str(schedule), "--timezone", "Europe/Berlin", "--replace")

    config = load_config(config_dir)
    assert sorted(config.rooms) == ["saal-1", "saal-2"]  # the examples removed
    assert config.rooms["saal-2"].settings["title"] == "Saal 2"
    assert config.rooms["saal-2"].settings["schedule-key"] == "Saal 2"
    assert config.rooms["saal-2"].settings["schedule"] == str(schedule)
    assert config.rooms["saal-2"].settings["schedule-timezone"] == "Europe/Berlin"
    assert config.secret == "0123456789abcdef0"
    text = (config_dir / "config.private.json").read_text()
    assert text.startswith("// Local settings\n")
    assert (config_dir / "config.private.json").stat().st_mode & 0o077 == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:4] == [
        "added saal-1: schedule-key 'Saal 1', 1 talks",
        "added saal-2: schedule-key 'Saal 2', 1 talks",
        "removed example",
        "removed hall-2",
    ]


def test_a_schedule_url_adds_rooms_and_a_second_run_keeps_them(config_dir, capsys):
    with serving_folder(FIXTURES) as base:
        url = base + "/pretalx-wrong-vtimezone.ics"
        call_command("rooms_from_schedule", url)
        first = json.loads((config_dir / "config.private.json").read_text().split("\n", 1)[1])
        capsys.readouterr()
        call_command("rooms_from_schedule", url)
    second = json.loads((config_dir / "config.private.json").read_text().split("\n", 1)[1])

    config = load_config(config_dir)
    assert {"example", "hall-2", "hall-c-plenary", "hall-e"} <= set(config.rooms)  # examples kept without --replace
    assert config.rooms["hall-c-plenary"].settings["schedule"] == url
    assert config.rooms["hall-c-plenary"].settings["schedule-key"] == "Hall C (Plenary)"
    assert second == first
    assert all(line.startswith("kept ") for line in capsys.readouterr().out.splitlines()[:-1])


def test_dry_run_writes_nothing(config_dir, capsys):
    before = (config_dir / "config.private.json").read_text()

    call_command("rooms_from_schedule", str(FIXTURES / "schedule2-minimal.json"), "--dry-run")

    assert (config_dir / "config.private.json").read_text() == before
    assert capsys.readouterr().out.splitlines()[-1] == "(dry run: config.private.json not changed)"


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("missing.json", r"missing\.json: \[Errno 2\] No such file or directory"),
        ("malformed.json", r"malformed\.json: "),
    ],
)
def test_a_schedule_that_cannot_be_read_is_refused_and_nothing_written(config_dir, source, error):
    before = (config_dir / "config.private.json").read_text()

    with pytest.raises(CommandError, match=error):
        call_command("rooms_from_schedule", str(FIXTURES / source))

    assert (config_dir / "config.private.json").read_text() == before
