from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("tracker/admin/", admin.site.urls),
    path("tracker/", include("tracker.urls")),
    path("", include("frontend.urls")),
]
handler404 = "frontend.views.not_found"
