from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from common import health

urlpatterns = [path("healthz", health.healthz), path("readyz", health.readyz)]
if "tracker" in settings.SITE_PARTS:
    urlpatterns += [path("tracker/admin/", admin.site.urls), path("tracker/", include("tracker.urls"))]
if "frontend" in settings.SITE_PARTS:
    urlpatterns += [path("", include("frontend.urls"))]
handler404 = "frontend.views.not_found"
