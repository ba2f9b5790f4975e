"""Alerts through Apprise, to a real HTTP receiver on loopback (Apprise's json:// URLs), and maintenance windows."""

import asyncio
import time
from collections.abc import Iterator

import pytest
from django.core.management import CommandError, call_command

from testing.factories import report
from tracker.config import ConfigError, reset_cache
from tracker.encoders import ingest, store
from tracker.ops import alerts, maintenance, notify
from tracker.ops.actions import Refused
from tracker.ops.tests.test_alerts import STREAM, Receiver, go_down_and_back, run_worker_once, wait_until


def apprise_url(receiver: Receiver) -> str:
    return receiver.url.replace("http://", "json://")


@pytest.fixture
def chat(use_config) -> Iterator[Receiver]:
    """A chat service's endpoint that gets every room's alerts through Apprise (and no webhook)."""
    receiver = Receiver()
    use_config({"notify": [apprise_url(receiver)], "alert-suppress-minutes": 10})
    yield receiver
    receiver.stop()


def messages(receiver: Receiver) -> list[tuple[str, str]]:
    """What Apprise's JSON notifications said: (type, message)."""
    return [(body["type"], body["message"]) for body in receiver.received]


@pytest.mark.usefixtures("redis")
async def test_apprise_gets_down_and_recovery_once_each(chat):
    await alerts.ensure_groups(store.get_redis())
    await go_down_and_back(at=1000.0)

    delivered = await run_worker_once(now=1021.0)
    again = await run_worker_once(now=1100.0)  # nothing left to send

    assert (delivered, again) == (2, 0)
    assert messages(chat) == [
        ("failure", "DOWN: cam in Example Room — no heartbeat for 11 s"),
        ("success", "RECOVERED: cam in Example Room is up again"),
    ]
    assert chat.received[0]["title"] == "DOWN: cam in Example Room"


@pytest.mark.usefixtures("redis")
async def test_apprise_gets_degraded_and_its_recovery_once_each(chat):
    await alerts.ensure_groups(store.get_redis())
    failed = {"errors": [{"source": "icecast", "reason": "expected mount /main.mp3 has no source"}]}
    await report("example", "cam", STREAM, now=1000.0)
    await report("example", "cam", STREAM, now=1005.0, metrics=failed)
    await report("example", "cam", STREAM, now=1010.0, metrics=failed)  # still degraded: no second alert
    await report("example", "cam", STREAM, now=1015.0)

    assert await run_worker_once(now=1016.0) == 2
    [(kind, text), recovered] = messages(chat)
    assert kind == "warning" and text.startswith("DEGRADED: cam in Example Room — ")
    assert recovered == ("success", "RECOVERED: cam in Example Room is up again")


@pytest.mark.usefixtures("redis")
async def test_apprise_alerts_of_a_flapping_encoder_are_suppressed_like_webhooks(chat):
    await alerts.ensure_groups(store.get_redis())
    for at in (1000.0, 1100.0):  # down again within 10 minutes: suppressed, and so its recovery
        await go_down_and_back(at=at)
        await run_worker_once(now=at + 21)

    assert [kind for kind, _ in messages(chat)] == ["failure", "success"]


@pytest.mark.usefixtures("redis")
async def test_a_rooms_own_apprise_url_gets_that_rooms_alerts_only(use_config):
    site, hall = Receiver(), Receiver()
    try:
        use_config(
            {"notify": [apprise_url(site)], "webhooks": []},
            **{"hall-2": {"notify": [apprise_url(hall), apprise_url(site)]}},  # the site's URL once, not twice
        )
        redis = store.get_redis()
        await alerts.ensure_groups(redis)
        await report("example", "cam", STREAM, now=1000.0)
        await report("hall-2", "cam", STREAM, now=1000.0)
        await ingest.sweep(redis, now=1010.5)
        await ingest.sweep(redis, now=1011.0)

        await run_worker_once(now=1012.0)

        assert sorted(text for _, text in messages(site)) == [
            "DOWN: cam in Example Room — no heartbeat for 11 s",
            "DOWN: cam in hall-2 — no heartbeat for 11 s",
        ]
        assert messages(hall) == [("failure", "DOWN: cam in hall-2 — no heartbeat for 11 s")]
    finally:
        site.stop()
        hall.stop()


@pytest.mark.usefixtures("redis")
async def test_a_failed_apprise_delivery_is_retried_and_sent_once(chat):
    await alerts.ensure_groups(store.get_redis())
    chat.fail = 1
    redis = store.get_redis()
    await report("example", "cam", STREAM, now=1000.0)
    await ingest.sweep(redis, now=1010.5)
    await ingest.sweep(redis, now=1011.0)

    first = await run_worker_once(now=1012.0)  # the service answers 500: retry in 5 s
    second = await alerts.deliver_due(redis, now=1017.0)
    third = await alerts.deliver_due(redis, now=1100.0)

    assert (first, second, third) == (0, 1, 0)
    assert [kind for kind, _ in messages(chat)] == ["failure"]


@pytest.mark.usefixtures("redis")
async def test_a_hanging_apprise_service_is_given_up_on_at_the_deadline_off_the_event_loop(chat, monkeypatch):
    monkeypatch.setattr(notify, "SEND_DEADLINE_SECONDS", 1)
    chat.hold.set()  # receives, never answers
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    ticking = asyncio.create_task(tick())
    started = time.monotonic()
    with pytest.raises(OSError):
        await notify.deliver({"kind": "apprise", "url": apprise_url(chat), "payload": {"text": "x"}})
    took = time.monotonic() - started
    ticking.cancel()

    assert chat.arrivals  # it did reach the service
    assert took < 1 + 2 + 2  # the deadline and its margin, with slack for a busy machine
    assert ticks >= took / 0.05 / 4  # the loop kept running meanwhile


@pytest.mark.usefixtures("redis")
async def test_no_apprise_alert_inside_a_configured_maintenance_window_and_again_after_it(chat, use_config):
    # 1970-01-01 00:15 to 00:20 UTC: epoch 900 to 1200 (the test's transitions are near epoch 1000).
    window = {"room": "example", "from": "1970-01-01T00:15", "to": "1970-01-01T00:20", "reason": "nights"}
    use_config({"notify": [apprise_url(chat)], "maintenance": [window]})
    await alerts.ensure_groups(store.get_redis())

    await go_down_and_back(at=1000.0)
    during = await run_worker_once(now=1021.0)
    await go_down_and_back(at=1300.0)  # the window ended at 1200
    after = await run_worker_once(now=1321.0)

    assert (during, after) == (0, 2)
    assert [kind for kind, _ in messages(chat)] == ["failure", "success"]


@pytest.mark.usefixtures("redis")
async def test_a_planned_window_for_one_encoder_silences_it_ahead_of_time_and_not_the_others(chat):
    redis = store.get_redis()
    await alerts.ensure_groups(redis)
    planned = {"room": "example", "encoder": "cam", "from": "1970-01-01T00:16", "to": "1970-01-01T01:00"}
    await maintenance.plan(redis, planned, by="op", now=500.0)  # planned before it starts
    await report("example", "other", STREAM, now=1000.0)

    await go_down_and_back(at=1000.0)
    await ingest.sweep(redis, now=1011.0)  # "other" is down too
    await run_worker_once(now=1021.0)

    assert messages(chat) == [("failure", "DOWN: other in Example Room — no heartbeat for 11 s")]


@pytest.mark.usefixtures("redis")
async def test_planned_windows_are_checked_listed_and_removed(chat):
    redis = store.get_redis()
    good = {"room": "example", "from": "2030-01-01T22:00", "to": "2030-01-02T08:00", "reason": "night"}
    refusals = {
        "room": {**good, "room": "nowhere"},
        "from": {**good, "from": "tonight"},
        "to": {**good, "to": "2029-12-31T00:00"},
        "encoder": {**good, "encoder": "no spaces"},
    }
    for field, request in refusals.items():
        with pytest.raises(Refused, match=f"^{field}: "):
            await maintenance.plan(redis, request, by="op", now=1000.0)

    window = await maintenance.plan(redis, good, by="op", now=1000.0)
    listed = await maintenance.windows(redis, now=1000.0)
    await maintenance.cancel(redis, window["id"])

    assert [(w["room"], w["encoder"], w["by"], w["reason"]) for w in listed] == [("example", None, "op", "night")]
    assert listed[0]["to"] - listed[0]["from"] == 10 * 3600
    assert await maintenance.windows(redis, now=1000.0) == []


def test_test_alert_command_reaches_apprise_and_webhooks(chat, use_config, capsys):
    hook = Receiver()
    try:
        use_config({"notify": [apprise_url(chat)], "webhooks": [hook.url]})
        call_command("test_alert", "--room", "hall-2")
    finally:
        hook.stop()

    assert capsys.readouterr().out.splitlines() == ["webhook 127.0.0.1: sent", "apprise json://…: sent"]
    assert messages(chat) == [("failure", "DOWN: test-encoder in hall-2 — this is a test alert")]
    assert hook.received[0]["room"] == "hall-2"


def test_test_alert_command_names_the_failing_service_never_its_url(chat, use_config, capsys):
    use_config({"notify": ["json://secret-user:secret-pass@127.0.0.1:9/hook"]})  # nothing listens on port 9

    with pytest.raises(CommandError, match="1 of 1 alert targets failed"):
        call_command("test_alert")
    out = capsys.readouterr().out
    assert out.startswith("apprise json://…: failed")
    assert "secret" not in out


def test_an_unknown_apprise_url_is_refused_at_load_without_showing_it(use_config):
    with pytest.raises(ConfigError, match=r"room 'hall-2': key 'notify': entry 0 is not an Apprise URL") as refused:
        use_config(**{"hall-2": {"notify": ["nosuchservice://secret-token@x"]}})
        from tracker.config import get_config

        get_config()
    assert "secret-token" not in str(refused.value)
    reset_cache()


def test_a_test_alert_from_the_operators_page_reaches_the_rooms_targets(chat, admin_client):
    page = admin_client.post("/tracker/maintenance/", {"action": "test", "room": "example"}).content.decode()

    assert "apprise json://…: sent" in page
    assert messages(chat) == [("failure", "DOWN: test-encoder in Example Room — this is a test alert")]


def test_a_planned_window_is_added_and_removed_on_the_operators_page(chat, admin_client):
    form = {"action": "plan", "room": "example", "encoder": "cam", "from": "2030-01-01T22:00", "to": "2030-01-02T06:00"}

    added = admin_client.post("/tracker/maintenance/", form)
    [window] = admin_client.get("/tracker/api/maintenance").json()["windows"]
    refused = admin_client.post("/tracker/maintenance/", {**form, "to": "yesterday"})
    admin_client.post("/tracker/maintenance/", {"action": "cancel", "id": window["id"]})

    assert added.status_code == 302
    assert (window["room"], window["encoder"], window["from_text"]) == ("example", "cam", "Tue 01 Jan 22:00")
    assert refused.status_code == 400 and "to: a date and time like" in refused.content.decode()
    assert admin_client.get("/tracker/api/maintenance").json() == {"windows": []}


@pytest.mark.usefixtures("redis")
async def test_a_hanging_service_holds_up_no_other_target(chat, use_config, monkeypatch):
    hook = Receiver()
    try:
        use_config({"notify": [apprise_url(chat)], "webhooks": [hook.url]})
        monkeypatch.setattr(notify, "SEND_DEADLINE_SECONDS", 4)
        redis = store.get_redis()
        await alerts.ensure_groups(redis)
        await report("example", "cam", STREAM, now=1000.0)
        await ingest.sweep(redis, now=1010.5)
        await ingest.sweep(redis, now=1011.0)
        await alerts.take_transitions(redis, consumer="test", now=1012.0)
        chat.hold.set()  # the chat service takes the alert and never answers

        started = time.monotonic()
        sending = asyncio.create_task(alerts.deliver_due(redis, now=1012.0))
        await asyncio.to_thread(lambda: wait_until(lambda: hook.received, timeout=10))
        hook_waited = time.monotonic() - started
        delivered = await sending
    finally:
        hook.stop()

    assert chat.arrivals  # the chat's alert was out, and hung, meanwhile
    assert hook_waited < 2  # not the chat's 4 s deadline: (the chat's alert is queued first)
    assert delivered == 1  # the webhook; the chat's alert is queued again
    assert [body["new"] for body in hook.received] == ["down"]
