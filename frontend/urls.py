from django.urls import path

from . import views

# "monitor", "graphs" and "programme" are reserved room names, so they never shadow a room.
urlpatterns = [
    path("", views.index, name="index"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("monitor", views.monitor, name="monitor"),
    path("graphs", views.graphs, name="graphs"),
    path("programme", views.whole_programme, name="whole-programme"),
    path("<str:name>/embed", views.embed, name="embed"),
    path("<str:name>/talk/<str:guid>", views.recording, name="recording"),
    path("<str:name>/schedule", views.programme, name="programme"),
    path("<str:name>/schedule.json", views.schedule_json, name="schedule-json"),
    path("<str:name>/rss", views.schedule_rss, name="schedule-rss"),
    path("<str:name>/schedule.ics", views.schedule_ics, name="schedule-ics"),
    path("<str:name>", views.room, name="room"),
]
