"""The frontend and the tracker as two separate sites, as on two machines:
the page comes from one origin, its live socket and stream choice from the other."""

from playwright.sync_api import Page, expect

from testing.factories import post_heartbeat
from testing.processes import free_port, running


def test_page_from_the_frontend_goes_live_from_the_tracker(site_env, tmp_path, page: Page):
    frontend_port = free_port()
    frontend_origin = f"http://localhost:{frontend_port}"  # another host and port than the tracker's
    tracker_env = {**site_env, "SITE_PARTS": "tracker", "TRACKER_ALLOWED_ORIGINS": frontend_origin}
    with running(tracker_env, tmp_path) as tracker:
        frontend_env = {
            **site_env,
            "SITE_PARTS": "frontend",
            "TRACKER_URL": tracker.url,
            "TRACKER_PUBLIC_URL": tracker.url,
            "ALLOWED_HOSTS": "localhost,127.0.0.1",
            "REDIS_URL": "redis://127.0.0.1:9/0",  # the frontend has no Redis
        }
        with running(frontend_env, tmp_path, worker=False, port=frontend_port):
            token = tracker.add_encoder("example", "cam-1")
            page.goto(frontend_origin + "/example")
            expect(page.locator("[data-state=example]").first).to_have_text("Offline")

            stream = {"format": "webm", "url": "http://127.0.0.1:9/none.webm", "clients": 0, "bitrate": 1}
            body = {"room": "example", "encoder": "cam-1", "interval": 30, "streams": [stream]}
            # The player asks the tracker's stream API, across origins, as the room goes live.
            with page.expect_response(lambda response: "/stream" in response.url, timeout=10000) as asked:
                post_heartbeat(tracker.url, body, token=token)
                expect(page.locator("[data-state=example]").first).to_have_text("Live", timeout=5000)

            answer = asked.value
            assert answer.url.startswith(tracker.url + "/tracker/api/rooms/example/stream")
            assert answer.status == 200
            assert answer.headers["access-control-allow-origin"] == frontend_origin
            assert answer.json()["url"] == "http://127.0.0.1:9/none.webm"
