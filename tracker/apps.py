from django.apps import AppConfig


class TrackerConfig(AppConfig):
    name = "tracker"

    def ready(self) -> None:
        from django.contrib import admin

        from . import checks  # noqa: F401  (registers the system checks)
        from .operators import ThrottledAuthenticationForm, connect_signals

        connect_signals()
        admin.site.login_form = ThrottledAuthenticationForm
