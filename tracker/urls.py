from django.contrib.auth import views as auth_views
from django.urls import path

from tracker import views
from tracker.ops import pages as ops_pages
from tracker.ops.accounts import ThrottledAuthenticationForm
from tracker.programme import views as schedule_views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("history/<str:room>/", ops_pages.history_page, name="history-room"),
    path("history/<str:room>/<str:encoder>/", ops_pages.history_page, name="history-encoder"),
    path("maintenance/", ops_pages.maintenance_page, name="maintenance"),
    path("api/maintenance", ops_pages.maintenance_list, name="maintenance-list"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="tracker/login.html", authentication_form=ThrottledAuthenticationForm
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/history", views.history_series, name="history"),
    path("metrics", views.prometheus_metrics, name="metrics"),
    path("api/heartbeat", views.heartbeat, name="heartbeat"),
    path("endpoint/register", views.legacy_register, name="legacy-register"),
    path("api/rooms", views.room_list, name="room-list"),
    path("api/venue", views.venue, name="venue"),
    path("api/rooms/<str:name>", views.room_detail, name="room-detail"),
    path("api/rooms/<str:name>/stream", views.room_stream, name="room-stream"),
    path("api/rooms/<str:name>/schedule.json", schedule_views.schedule_json_view, name="room-schedule"),
    path("api/rooms/<str:name>/schedule.rss", schedule_views.schedule_rss_view, name="room-schedule-rss"),
    path("api/rooms/<str:name>/schedule.ics", schedule_views.schedule_ics_view, name="room-schedule-ics"),
    path("api/rooms/<str:name>/talks/<str:guid>.json", schedule_views.talk_view, name="room-talk"),
]
