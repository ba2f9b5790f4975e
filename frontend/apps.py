from django.apps import AppConfig


class FrontendConfig(AppConfig):
    name = "frontend"

    def ready(self) -> None:
        from django.conf import settings

        from common.health import add_readiness_check

        # With its tracker in the same process, the tracker's check covers it.
        if "tracker" not in settings.SITE_PARTS:
            from .readiness import frontend_readiness

            add_readiness_check(frontend_readiness)
