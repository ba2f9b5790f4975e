"""The admin shows a new encoder's token once, in the page that created it, and nowhere else."""

from django.contrib.auth import get_user_model

from tracker.encoders.identities import hash_token
from tracker.models import Encoder


def test_new_encoder_token_is_in_the_creating_response_only(client, transactional_db, redis_client):
    client.force_login(get_user_model().objects.create_superuser("admin", password="pw"))

    response = client.post(
        "/tracker/admin/tracker/encoder/add/", {"name": "cam-9", "room": "example", "role": "encoder"}
    )

    token = response.context["token"]
    assert response.status_code == 200
    assert token in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert Encoder.objects.get(name="cam-9").token_hash == hash_token(token)
    assert all(token not in morsel.value for morsel in response.cookies.values())
    assert all(token not in str(value) for value in client.session.values())
    later = client.get("/tracker/admin/tracker/encoder/")
    assert token not in later.content.decode()


def test_the_encoder_room_is_chosen_from_the_configured_rooms_and_roles_are_explained(
    client, transactional_db, redis_client, use_config
):
    use_config(**{"hall-2": {"title": "Hall Two"}})
    client.force_login(get_user_model().objects.create_superuser("admin", password="pw"))

    form = client.get("/tracker/admin/tracker/encoder/add/").content.decode()
    refused = client.post("/tracker/admin/tracker/encoder/add/", {"name": "cam-8", "room": "hall-9", "role": "encoder"})

    assert '<select name="room"' in form
    assert '<option value="hall-2">Hall Two (hall-2)</option>' in form
    assert '<option value="example">' in form
    assert "Mixer: mixes the sources" in form and "Endpoint: a streaming server" in form
    assert refused.status_code == 200  # the form again, with the error
    assert "Select a valid choice. hall-9 is not one of the available choices." in refused.content.decode()
    assert not Encoder.objects.filter(name="cam-8").exists()
