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

from testing.client import Client
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


def log_in(client, username: str, password: str, address: str, path: str = "/tracker/login/"):
    """A login from a browser at `address` (each address its own browser)."""
    return Client(address=address).post(path, {"username": username, "password": password})


def test_failures_for_a_username_make_that_client_wait_not_the_owner(client, db, redis_client):
    get_user_model().objects.create_user("op", password="right-password", is_staff=True)
    for _ in range(accounts.FAILURES_PER_USERNAME):
        response = log_in(client, "op", "wrong", "203.0.113.9")
        assert b"Wrong username or password." in response.content

    refused = log_in(client, "op", "right-password", "203.0.113.9")
    admin = log_in(client, "OP", "right-password", "203.0.113.9", "/tracker/admin/login/")
    assert re.search(rb"Too many failed logins from here: try again in (29|30|31) s\.", refused.content)
    assert b"Too many failed logins" in admin.content
    assert all("op" not in key.split(":")[-1] for key in redis_client.keys("*login:*"))

    # The owner, elsewhere, gets in while the attacker's address waits.
    owner = log_in(client, "op", "right-password", "198.51.100.7")
    assert owner.status_code == 302


def test_each_further_failure_doubles_the_wait(client, db, redis_client):
    waits = [accounts.wait_seconds(failures, 5) for failures in range(4, 12)]
    assert waits == [0, 30, 60, 120, 240, 480, 900, 900]


def test_one_ipv6_client_is_one_address_for_the_throttle(client, db):
    get_user_model().objects.create_user("op", password="right-password", is_staff=True)
    for number in range(accounts.FAILURES_PER_ADDRESS):
        log_in(client, f"guess-{number}", "wrong", f"2001:db8:1:2::{number + 1:x}")

    refused = log_in(client, "op", "right-password", "2001:db8:1:2:ffff::1")  # the same /64
    assert b"Too many failed logins" in refused.content
    owner = log_in(client, "op", "right-password", "2001:db8:1:3::1")  # another network
    assert owner.status_code == 302


def test_an_admin_clears_a_wait_with_a_command(client, db):
    from django.core.management import call_command

    get_user_model().objects.create_user("op", password="right-password", is_staff=True)
    for _ in range(accounts.FAILURES_PER_USERNAME):
        log_in(client, "op", "wrong", "203.0.113.9")
    assert b"Too many failed logins" in log_in(client, "op", "right-password", "203.0.113.9").content

    call_command("clear_login_throttle", "--username", "op")

    assert log_in(client, "op", "right-password", "203.0.113.9").status_code == 302
