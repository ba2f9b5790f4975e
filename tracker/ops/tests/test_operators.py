"""Operators are staff; an ended session ends its sockets in every process; logins are throttled."""

import http.cookiejar
import re
import urllib.parse
import urllib.request
import uuid

import pytest
from django.contrib.auth import get_user_model
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from testing.processes import Site, running
from tracker.ops import accounts


class Browser:
    """A cookie jar and the site's login form: one person's browser, without the rendering."""

    def __init__(self, site: Site) -> None:
        self.site, self.jar = site, http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def csrf(self, path: str) -> str:
        page = self.opener.open(self.site.url + path, timeout=10).read().decode()
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]

    def post(self, path: str, fields: dict[str, str]):
        data = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(self.site.url + path, data=data, headers={"Referer": self.site.url + path})
        return self.opener.open(request, timeout=10)

    def log_in(self, username: str, password: str) -> None:
        self.post(
            "/tracker/login/",
            {"username": username, "password": password, "csrfmiddlewaretoken": self.csrf("/tracker/login/")},
        )

    def log_out(self) -> None:
        token = next(cookie.value for cookie in self.jar if cookie.name == "csrftoken")
        self.post("/tracker/logout/", {"csrfmiddlewaretoken": token})

    def ops_socket(self, site: Site | None = None):
        site = site or self.site
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.jar)
        return connect(
            site.url.replace("http", "ws") + "/ws/ops/",
            origin=site.url,
            additional_headers={"Cookie": cookie},
            open_timeout=5,
        )


def close_code(socket) -> int:
    try:
        while True:
            socket.recv(timeout=5)
    except ConnectionClosed as closed:
        return closed.rcvd.code


def users(site: Site, code: str) -> None:
    """Run Python with Django's User model in the site's own database."""
    site.manage("shell", "-c", "from django.contrib.auth.models import User\n" + code)


def make_operator(site: Site, **fields: bool) -> tuple[str, str]:
    username, password = f"op-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    flags = ", ".join(f"{name}={value}" for name, value in {"is_staff": True, **fields}.items())
    users(site, f"User.objects.create_user({username!r}, password={password!r}, {flags})")
    return username, password


def test_logging_out_in_another_browser_closes_the_operator_socket_in_another_process(site_env, tmp_path):
    with running(site_env, tmp_path) as first, running(site_env, tmp_path, worker=False) as second:
        username, password = make_operator(first)
        dashboard, other = Browser(first), Browser(second)
        dashboard.log_in(username, password)
        other.log_in(username, password)
        with dashboard.ops_socket() as socket:
            assert '"type": "snapshot"' in socket.recv(timeout=5)

            other.log_out()

            assert close_code(socket) == 4401
        with other.ops_socket() as refused:  # its session is gone
            assert close_code(refused) == 4401


@pytest.mark.parametrize("change", ["user.is_active = False", "user.set_password('new-one')", "user.is_staff = False"])
def test_deactivating_demoting_or_a_new_password_closes_the_operator_socket(site, change):
    username, password = make_operator(site)
    browser = Browser(site)
    browser.log_in(username, password)
    with browser.ops_socket() as socket:
        socket.recv(timeout=5)

        users(site, f"user = User.objects.get(username={username!r}); {change}; user.save()")

        assert close_code(socket) == 4401


def test_an_unrelated_save_keeps_the_socket_open(site):
    username, password = make_operator(site)
    browser = Browser(site)
    browser.log_in(username, password)
    with browser.ops_socket() as socket:
        socket.recv(timeout=5)

        users(site, f"user = User.objects.get(username={username!r}); user.first_name = 'Ada'; user.save()")
        socket.send('{"type": "snapshot"}')

        assert '"type": "snapshot"' in socket.recv(timeout=5)


def test_logins_are_throttled_per_username_then_refused_with_a_clear_message(client, db, redis_client):
    get_user_model().objects.create_user("op", password="right-password", is_staff=True)
    for _ in range(accounts.FAILURES_PER_USERNAME):
        response = client.post("/tracker/login/", {"username": "op", "password": "wrong"})
        assert b"Wrong username or password." in response.content

    refused = client.post("/tracker/login/", {"username": "op", "password": "right-password"})
    admin = client.post("/tracker/admin/login/", {"username": "OP", "password": "right-password"})

    assert b"Too many failed logins" in refused.content
    assert "_auth_user_id" not in client.session
    assert b"Too many failed logins" in admin.content
    assert all(":login:user:" in key and "op" not in key.split(":")[-1] for key in redis_client.keys("*login:user*"))


def test_logins_are_throttled_per_address_across_usernames(client, db):
    get_user_model().objects.create_user("op", password="right-password", is_staff=True)
    for number in range(accounts.FAILURES_PER_ADDRESS):
        client.post("/tracker/login/", {"username": f"guess-{number}", "password": "wrong"})

    refused = client.post("/tracker/login/", {"username": "op", "password": "right-password"})

    assert b"Too many failed logins" in refused.content
