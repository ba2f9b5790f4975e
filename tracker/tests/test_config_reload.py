"""Rooms change without a restart: reload in-process, by order over Redis, refused when bad."""

import json
import logging

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.management import CommandError, call_command

from tracker.config import get_config
from tracker.encoders import store
from tracker.live import config_reload as reload
from tracker.routing import websocket_application

HEADERS = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


def edit_private(change) -> None:
    path = settings.ROOMS_CONFIG_DIR / "config.private.json"
    private = json.loads(path.read_text())
    change(private)
    path.write_text(json.dumps(private))


def test_reload_applies_new_changed_and_removed_rooms(use_config, caplog):
    use_config(example={"title": "Before"})
    get_config()

    def change(private):
        private["example"] = {"title": "After"}
        private["annex"] = {"title": "Annex"}

    edit_private(change)
    with caplog.at_level(logging.INFO, logger="tracker.live.config_reload"):
        reloaded = reload.reload_now(why="test")

    assert reloaded
    assert get_config().rooms["example"].title == "After"
    assert get_config().rooms["annex"].title == "Annex"
    assert caplog.records[-1].getMessage() == "config reloaded (test): added annex; changed example"


def test_reload_refuses_a_bad_edit_and_keeps_the_running_config(use_config, caplog):
    use_config(example={"title": "Running"})
    get_config()

    edit_private(lambda private: private.update(annex={"colour": "red"}))
    with caplog.at_level(logging.ERROR, logger="tracker.live.config_reload"):
        reloaded = reload.reload_now(why="SIGHUP")

    assert not reloaded
    assert get_config().rooms["example"].title == "Running"
    assert "annex" not in get_config().rooms
    assert caplog.records[-1].getMessage() == (
        "config not reloaded (SIGHUP), still running the previous one: "
        "config.private.json: room 'annex': key 'colour': is not in 'default'"
    )


def test_reload_config_command_refuses_a_bad_edit_with_the_one_line_error(use_config):
    use_config()
    edit_private(lambda private: private.update({"bad room!": {}}))

    with pytest.raises(CommandError) as refused:
        call_command("reload_config")

    assert (
        str(refused.value) == "config.private.json: room 'bad room!': room names use letters, digits, '_' and '-' only"
    )


@pytest.mark.usefixtures("redis")
async def test_reload_order_gives_viewers_a_snapshot_with_the_new_room(use_config):
    use_config()
    viewer = WebsocketCommunicator(websocket_application, "/ws/live/", headers=HEADERS)
    assert (await viewer.connect())[0]
    before = json.loads(await viewer.receive_from(timeout=3))

    edit_private(lambda private: private.update(annex={"title": "Annex"}))
    listening = await reload.order_reload(store.get_redis())
    after = json.loads(await viewer.receive_from(timeout=3))

    assert listening >= 1
    assert "annex" not in [room["name"] for room in before["rooms"]]
    assert after["type"] == "snapshot"
    assert "annex" in [room["name"] for room in after["rooms"]]
    await viewer.disconnect()
