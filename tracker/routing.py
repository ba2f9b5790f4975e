from typing import Any
from urllib.parse import urlsplit

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.urls import path

from tracker.live.encoder_socket import EncoderConsumer
from tracker.live.viewer_socket import LiveConsumer
from tracker.ops.operator_socket import OpsConsumer


def from_browsers(application, *, also: list[str] | tuple[str, ...] = ()):
    """Accept sockets only from pages of this site's hosts (and `also`)."""
    return OriginValidator(application, [*allowed_hosts(), *also])


def allowed_hosts() -> list[str]:
    return settings.ALLOWED_HOSTS or (["localhost", "127.0.0.1", "[::1]"] if settings.DEVELOPMENT else [])


class SameOrigin:
    """Accept a socket only from a page of the origin it connects to: scheme, host and port exactly.

    Channels' OriginValidator matches hosts, any port and scheme: a page on
    another port of the same host (another service, a test server) could
    open an operator's socket with their cookies. The socket's own origin is
    its Host header (one of ALLOWED_HOSTS) with http, or https when it came
    over TLS (wss, or the proxy's X-Forwarded-Proto as Django reads it);
    TRACKER_PUBLIC_URL's origin is accepted too.
    """

    def __init__(self, application: Any) -> None:
        self.application = application

    @staticmethod
    def own_origins(scope: dict[str, Any]) -> set[str]:
        headers = {name: value.decode("latin-1") for name, value in scope.get("headers", [])}
        host = headers.get(b"host", "")
        origins = set()
        if host and validate_host(split_domain_port(host)[0], allowed_hosts()):
            proxy_header, secure_value = settings.SECURE_PROXY_SSL_HEADER
            forwarded = headers.get(proxy_header.removeprefix("HTTP_").lower().replace("_", "-").encode(), "")
            secure = scope.get("scheme") == "wss" or forwarded == secure_value
            origins.add(f"{'https' if secure else 'http'}://{host}".lower())
        if settings.TRACKER_PUBLIC_URL:
            public = urlsplit(settings.TRACKER_PUBLIC_URL)
            origins.add(f"{public.scheme}://{public.netloc}".lower())
        return origins

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        origin = next((value.decode("latin-1") for name, value in scope["headers"] if name == b"origin"), "")
        if origin.lower() not in self.own_origins(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)


websocket_application = URLRouter(
    [
        # Viewers' pages may come from the frontend's own origin when it runs
        # on another machine; the operators' dashboard is the tracker's page.
        path("ws/live/", from_browsers(LiveConsumer.as_asgi(), also=settings.TRACKER_ALLOWED_ORIGINS)),
        path("ws/ops/", SameOrigin(AuthMiddlewareStack(OpsConsumer.as_asgi()))),
        # Encoders are not browsers and send no Origin: their token is what counts.
        path("tracker/ws/encoder/", EncoderConsumer.as_asgi()),
    ]
)
