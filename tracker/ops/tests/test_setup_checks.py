"""Setup mistakes found before they bite: check_config, Django's system checks, daphne's start-up."""

import asyncio
import json
import re
import subprocess
import sys

import pytest
from django.core.checks import run_checks
from django.core.management import CommandError, call_command

from testing.processes import ROOT, site_environment
from tracker.config import get_config
from tracker.encoders import store
from tracker.ops.setup_checks import config_problems
from tracker.programme import sync as schedule_sync


def test_relative_preview_and_schedule_paths_are_problems(use_config, tmp_path):
    schedule = tmp_path / "schedule.xml"
    schedule.write_text("<schedule/>")
    use_config(
        example={"preview": "preview/example.jpg", "schedule": "schedules/example.xml"},
        **{"hall-2": {"preview": "https://cdn.example/hall-2.jpg", "schedule": str(tmp_path / "missing.xml")}},
    )

    problems = config_problems(get_config())

    assert problems == [
        "room 'example': key 'preview': 'preview/example.jpg' is not an absolute http(s) URL, so it shows nothing",
        "room 'example': key 'schedule': 'schedules/example.xml' is neither an http(s) URL nor an absolute file "
        "path (a relative path depends on the directory the worker starts in)",
        f"room 'hall-2': key 'schedule': file '{tmp_path / 'missing.xml'}' does not exist",
    ]


def test_django_system_check_warns_about_a_relative_preview(use_config):
    use_config(example={"preview": "/preview.jpg"})

    messages = [(m.id, m.msg) for m in run_checks(tags=["tracker"])]

    assert messages == [
        (
            "tracker.W001",
            "room 'example': key 'preview': '/preview.jpg' is not an absolute http(s) URL, so it shows nothing",
        )
    ]


def test_check_config_fails_on_a_relative_preview(use_config, capsys):
    use_config(example={"preview": "example.jpg"})

    with pytest.raises(CommandError, match="1 setup problem, listed above"):
        call_command("check_config")

    assert "room 'example': key 'preview': 'example.jpg'" in capsys.readouterr().err


@pytest.mark.usefixtures("redis")
async def test_check_config_names_the_rooms_of_a_schedule_whose_key_matched_nothing(use_config, tmp_path, capsys):
    schedule = tmp_path / "schedule.json"
    schedule.write_text(
        '[{"Id": 1, "Title": "Opening", "Room Name": "Saal 1", "Start": "2026-12-27 10:00:00",'
        ' "End": "2026-12-27 10:30:00", "URL": "https://c.example/1"}]'
    )
    use_config(example={"schedule": str(schedule), "schedule-key": "Hall One"})
    await schedule_sync.sync(store.get_redis())

    with pytest.raises(CommandError, match="1 setup problem"):
        await asyncio.to_thread(call_command, "check_config")  # it runs its own event loop

    assert (
        "room 'example': key 'schedule-key': 'Hall One' matches no room of the schedule at the last sync; "
        "its rooms are 'Saal 1'" in capsys.readouterr().err
    )


def test_production_without_collectstatic_says_so_at_start_up(redis_url, tmp_path):
    env = site_environment(redis_url, f"sqlite:///{tmp_path}/db.sqlite3", SERVE_STATIC="0", STATIC_ROOT=str(tmp_path))

    started = subprocess.run(
        [sys.executable, "-c", "import project.asgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert started.returncode == 1
    assert started.stderr.strip() == (
        f"settings error: static files are not collected in {tmp_path}: run `manage.py collectstatic --noinput`"
    )


def test_production_with_stale_collectstatic_names_the_missing_files(redis_url, tmp_path):
    env = site_environment(redis_url, f"sqlite:///{tmp_path}/db.sqlite3", SERVE_STATIC="0", STATIC_ROOT=str(tmp_path))
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "collectstatic", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
    # As if dashboard-model.js came with an upgrade after the last collectstatic.
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())
    del manifest["paths"]["tracker/dashboard-model.js"]
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))

    started = subprocess.run(
        [sys.executable, "-c", "import project.asgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    deploy_check = subprocess.run(
        [*manage, "check", "--deploy", "--tag", "staticfiles"], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert (started.returncode, started.stderr.strip()) == (
        1,
        "settings error: static files changed since the last collectstatic (tracker/dashboard-model.js): "
        "run `manage.py collectstatic --noinput`",
    )
    assert deploy_check.returncode == 1
    assert "(tracker.E001) static files changed since the last collectstatic" in deploy_check.stderr


def test_collected_dashboard_modules_import_the_hashed_files_of_the_same_release(redis_url, tmp_path):
    env = site_environment(redis_url, f"sqlite:///{tmp_path}/db.sqlite3", SERVE_STATIC="0", STATIC_ROOT=str(tmp_path))
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput"], cwd=ROOT, env=env, check=True)
    paths = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    dashboard = tmp_path / paths["tracker/dashboard.js"]

    imported = re.findall(r'from "([^"]+)"', dashboard.read_text())

    assert sorted(name.rsplit("/", 1)[-1] for name in imported) == sorted(
        paths[f"{where}.js"].rsplit("/", 1)[-1]
        for where in ("common/clock", "common/dom", "tracker/dashboard-model", "tracker/feed")
    )
    assert all((dashboard.parent / name).resolve().is_file() for name in imported)
