from django.urls import path

from . import views

# "monitor" is a reserved room name, so it never shadows a room.
urlpatterns = [
    path("", views.index, name="index"),
    path("monitor", views.monitor, name="monitor"),
    path("<str:name>/embed", views.embed, name="embed"),
    path("<str:name>", views.room, name="room"),
]
