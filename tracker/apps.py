from django.apps import AppConfig


class TrackerConfig(AppConfig):
    name = "tracker"

    def ready(self) -> None:
        from django.conf import settings
        from django.contrib import admin

        from common.health import add_readiness_check
        from tracker.ops import system_checks as checks  # noqa: F401  (registers the system checks)
        from tracker.ops.accounts import ThrottledAuthenticationForm, connect_signals
        from tracker.socket_orders import quiet_layer_outages

        connect_signals()
        quiet_layer_outages()
        admin.site.login_form = ThrottledAuthenticationForm
        if "tracker" in settings.SITE_PARTS:
            from tracker.ops.readiness import tracker_readiness

            add_readiness_check(tracker_readiness)
