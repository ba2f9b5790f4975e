"""Several web processes on one Redis; the frontend and the tracker on separate processes."""

import json
import urllib.error
import urllib.request

from websockets.sync.client import connect

from testing.factories import post_heartbeat, stream
from testing.processes import running

STREAM = stream("https://cdn.example/a.webm", format="webm", clients=0)


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def live_socket(base_url: str):
    origin = base_url  # a page of the site itself
    return connect(base_url.replace("http", "ws") + "/ws/live/", origin=origin, open_timeout=5)


def test_heartbeat_to_one_process_reaches_viewers_of_another(site_env, tmp_path):
    with running(site_env, tmp_path) as a, running(site_env, tmp_path, worker=False) as b:
        token = a.add_encoder("example", "cam-1")
        with live_socket(b.url) as viewer:
            snapshot = json.loads(viewer.recv(timeout=5))

            post_heartbeat(a.url, {"room": "example", "encoder": "cam-1", "streams": [STREAM]}, token=token)
            change = json.loads(viewer.recv(timeout=5))

    assert snapshot["type"] == "snapshot"
    assert (change["type"], change["version"]) == ("room", snapshot["version"] + 1)
    assert change["room"]["live"] is True


def test_frontend_alone_needs_no_redis_and_reads_the_tracker(site_env, tmp_path):
    with running(site_env, tmp_path) as tracker:
        token = tracker.add_encoder("hall-2", "cam-2")
        post_heartbeat(tracker.url, {"room": "hall-2", "encoder": "cam-2", "streams": [STREAM]}, token=token)
        frontend_env = {
            **site_env,
            "SITE_PARTS": "frontend",
            "TRACKER_URL": tracker.url,
            "REDIS_URL": "redis://127.0.0.1:9/0",
            "ROOMS_CONFIG_DIR": str(tmp_path),
        }  # neither exists
        with running(frontend_env, tmp_path, worker=False) as frontend:
            page = urllib.request.urlopen(frontend.url + "/", timeout=5).read().decode()
            api = status_of(frontend.url + "/tracker/api/rooms")

    assert 'data-room="hall-2"' in page
    assert api == 404  # a frontend alone serves no tracker API
