from django.urls import path

from . import views

urlpatterns = [
    path("api/heartbeat", views.heartbeat, name="heartbeat"),
    path("endpoint/register", views.legacy_register, name="legacy-register"),
    path("api/rooms", views.room_list, name="room-list"),
    path("api/rooms/<str:name>", views.room_detail, name="room-detail"),
    path("api/rooms/<str:name>/stream", views.room_stream, name="room-stream"),
]
