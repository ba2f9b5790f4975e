from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from .consumers import EncoderConsumer, LiveConsumer, OpsConsumer

websocket_application = URLRouter(
    [
        # Browsers' sockets are checked for their Origin; encoders are not
        # browsers and send no Origin, their token is what counts.
        path("ws/live/", AllowedHostsOriginValidator(LiveConsumer.as_asgi())),
        path("ws/ops/", AllowedHostsOriginValidator(AuthMiddlewareStack(OpsConsumer.as_asgi()))),
        path("tracker/ws/encoder/", EncoderConsumer.as_asgi()),
    ]
)
