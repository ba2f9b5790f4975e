from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.urls import path

from tracker.live.encoder_socket import EncoderConsumer
from tracker.live.viewer_socket import LiveConsumer
from tracker.ops.operator_socket import OpsConsumer


def from_browsers(application, *, also: list[str] | tuple[str, ...] = ()):
    """Accept sockets only from pages of this site's hosts (and `also`)."""
    hosts = settings.ALLOWED_HOSTS or (["localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    return OriginValidator(application, [*hosts, *also])


websocket_application = URLRouter(
    [
        # Viewers' pages may come from the frontend's own origin when it runs
        # on another machine; the operators' dashboard is the tracker's page.
        path("ws/live/", from_browsers(LiveConsumer.as_asgi(), also=settings.TRACKER_ALLOWED_ORIGINS)),
        path("ws/ops/", from_browsers(AuthMiddlewareStack(OpsConsumer.as_asgi()))),
        # Encoders are not browsers and send no Origin: their token is what counts.
        path("tracker/ws/encoder/", EncoderConsumer.as_asgi()),
    ]
)
