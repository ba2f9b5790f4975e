from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from .consumers import LiveConsumer

websocket_application = AllowedHostsOriginValidator(
    URLRouter(
        [
            path("ws/live/", LiveConsumer.as_asgi()),
        ]
    )
)
