"""No debug page when the site listens on anything but loopback, whatever DEBUG says."""

import subprocess
import sys
import urllib.error
import urllib.request

from testing.processes import ROOT, running, site_environment

SHOW = "from django.conf import settings; print(settings.DEBUG, settings.SERVE_STATIC, settings.SECURE_SSL_REDIRECT)"


def settings_with(**env: str) -> subprocess.CompletedProcess:
    """The settings a process gets from the environment, with the development defaults the tests' own override."""
    defaults = site_environment("redis://127.0.0.1:1/0", "sqlite:///:memory:")
    for name in ("SERVE_STATIC", "SECURE_SSL_REDIRECT", "SECURE_COOKIES"):
        del defaults[name]
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", SHOW],
        cwd=ROOT,
        env={**defaults, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_debug_turns_off_and_says_so_on_a_public_address():
    public = settings_with(DEBUG="1", WEB_HOST="0.0.0.0")
    loopback = settings_with(DEBUG="1", WEB_HOST="127.0.0.1")
    unset = settings_with(DEBUG="1", WEB_HOST="")

    assert public.stdout.split() == ["False", "True", "False"]  # development conveniences stay
    assert "DEBUG=1 turned off: the site listens on 0.0.0.0" in public.stderr
    assert loopback.stdout.split() == unset.stdout.split() == ["True", "True", "False"]


def test_a_bad_host_gets_no_debug_page_from_a_site_started_for_a_public_address(redis_url, site_database, tmp_path):
    env = site_environment(redis_url, site_database, DEBUG="1", WEB_HOST="0.0.0.0", SECRET_KEY="")
    with running(env, tmp_path, worker=False) as site:
        request = urllib.request.Request(site.url + "/", headers={"Host": "evil.example"})
        try:
            urllib.request.urlopen(request, timeout=10)
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read().decode()

    assert status == 400
    assert "REDIS_URL" not in body and "Traceback" not in body and "DisallowedHost" not in body
