"""Settings that fail loudly: nonsense on/off values stop start-up naming the
variable, and secrets may come from the file NAME_FILE names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from common.environment import env_bool, env_count, env_secret

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("TRUE", True), (" yes ", True), ("on", True), ("0", False), ("False", False), ("off", False)],
)
def test_on_and_off_in_their_usual_spellings(value: str, expected: bool):
    assert env_bool("SECURE_COOKIES", not expected, {"SECURE_COOKIES": value}) is expected


@pytest.mark.parametrize("environ", [{}, {"SECURE_COOKIES": ""}])
def test_unset_or_empty_is_the_default(environ: dict[str, str]):
    assert env_bool("SECURE_COOKIES", True, environ) is True
    assert env_bool("SECURE_COOKIES", False, environ) is False


@pytest.mark.parametrize("value", ["ture", "enabled", "2", "y"])
def test_anything_else_is_refused_naming_the_variable(value: str):
    with pytest.raises(ImproperlyConfigured, match=f"SECURE_SSL_REDIRECT='{value}' is neither on nor off"):
        env_bool("SECURE_SSL_REDIRECT", False, {"SECURE_SSL_REDIRECT": value})


@pytest.mark.parametrize(("environ", "expected"), [({}, 5), ({"N": ""}, 5), ({"N": "1"}, 1), ({"N": " 12 "}, 12)])
def test_a_count_is_a_whole_number_or_the_default(environ: dict[str, str], expected: int):
    assert env_count("N", 5, environ) == expected


@pytest.mark.parametrize("value", ["0", "-1", "five", "2.5"])
def test_anything_but_a_count_of_one_or_more_is_refused_naming_the_variable(value: str):
    with pytest.raises(ImproperlyConfigured, match=f"DAPHNE_SWEEP_EVERY={value!r}"):
        env_count("DAPHNE_SWEEP_EVERY", 5, {"DAPHNE_SWEEP_EVERY": value})


def test_a_typo_stops_the_site_at_start_naming_the_variable():
    environ = {**os.environ, "SECURE_SSL_REDIRECT": "ture"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )

    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT='ture' is neither on nor off" in result.stderr


def test_a_secret_from_its_variable_or_the_default():
    assert env_secret("SECRET_KEY", "fallback", {"SECRET_KEY": "from-env"}) == "from-env"
    assert env_secret("SECRET_KEY", "fallback", {}) == "fallback"


def test_a_secret_from_the_file_named_without_its_newline(tmp_path: Path):
    (tmp_path / "secret_key").write_text("from-a-file\n")

    assert env_secret("SECRET_KEY", "fallback", {"SECRET_KEY_FILE": str(tmp_path / "secret_key")}) == "from-a-file"


@pytest.mark.parametrize(
    ("contents", "environ", "error"),
    [
        (None, {}, "SECRET_KEY_FILE=.* No such file"),
        ("", {}, "SECRET_KEY_FILE=.* is empty"),
        ("s3cret", {"SECRET_KEY": "also"}, "SECRET_KEY and SECRET_KEY_FILE are both set"),
    ],
)
def test_a_secret_file_that_cannot_be_used_is_refused(tmp_path: Path, contents, environ, error):
    path = tmp_path / "secret_key"
    if contents is not None:
        path.write_text(contents)

    with pytest.raises(ImproperlyConfigured, match=error):
        env_secret("SECRET_KEY", "fallback", {**environ, "SECRET_KEY_FILE": str(path)})


@pytest.mark.parametrize("name", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL"])
def test_the_sites_secrets_are_read_from_files(tmp_path: Path, name: str):
    values = {
        "SECRET_KEY": "a-secret-key-from-a-file",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'from-file.sqlite3'}",
        "REDIS_URL": "redis://:pass@127.0.0.1:6399/3",
    }
    (tmp_path / name).write_text(values[name] + "\n")
    environ = {key: value for key, value in os.environ.items() if key != name}
    shown = {
        "SECRET_KEY": "settings.SECRET_KEY",
        "DATABASE_URL": "settings.DATABASES['default']['NAME']",
        "REDIS_URL": "settings.REDIS_URL",
    }
    probe = f"import django; django.setup(); from django.conf import settings; print({shown[name]})"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**environ, f"{name}_FILE": str(tmp_path / name), "DJANGO_SETTINGS_MODULE": "project.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    expected = str(tmp_path / "from-file.sqlite3") if name == "DATABASE_URL" else values[name]
    assert result.stdout.strip() == expected


@pytest.mark.parametrize(
    ("command", "daphne"), [("runserver", True), ("worker", False), ("encoder", False), ("migrate", False)]
)
def test_runserver_alone_installs_daphne_and_the_other_commands_start_without_twisted(command: str, daphne: bool):
    """`runserver` stays daphne's (websockets included); the worker and every other command skip Twisted."""
    probe = (
        "import sys; import django; django.setup(); from django.apps import apps; "
        "from django.core.management import get_commands; "
        "print(apps.is_installed('daphne'), get_commands()['runserver'], 'twisted' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.argv = ['manage.py', {command!r}]; {probe}"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.stdout.split() == [str(daphne), "daphne" if daphne else "django.contrib.staticfiles", str(daphne)]
