from django.apps import AppConfig


class TrackerConfig(AppConfig):
    name = "tracker"

    def ready(self) -> None:
        from django.conf import settings
        from django.contrib import admin

        from common.health import add_readiness_check

        from . import checks  # noqa: F401  (registers the system checks)
        from .control_plane import quiet_layer_outages
        from .operators import ThrottledAuthenticationForm, connect_signals

        connect_signals()
        quiet_layer_outages()
        admin.site.login_form = ThrottledAuthenticationForm
        if "tracker" in settings.SITE_PARTS:
            from .readiness import tracker_readiness

            add_readiness_check(tracker_readiness)
