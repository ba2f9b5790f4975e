async def test_unexpected_error_is_json_500_without_traceback(async_client, redis_client, settings):
    settings.DEBUG = True  # the debug page must not leak either
    redis_client.set("streaming:version", "not a number")  # no reader expects that: a bug, not bad input

    response = await async_client.get("/tracker/api/rooms/example")

    assert response.status_code == 500
    assert response.json() == {"error": "internal", "message": "internal server error"}
    assert "Traceback" not in response.content.decode()
