from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from tracker.config import get_config
from tracker.encoders.identities import add_encoder, publish_identity, revoke_encoder, run_with_redis
from tracker.models import Encoder

ROLE_HELP = (
    "Where the machine sits in the video pipeline; the dashboard lists a room's machines in this order. "
    "Collector: captures a source (camera, slides, audio) and reports no stream viewers play. "
    "Mixer: mixes the sources into the programme; reports no viewer stream either. "
    "Encoder: encodes the programme and reports the streams viewers play; degraded when its heartbeats "
    "carry no playable stream for a while. "
    "Endpoint: a streaming server or relay that serves viewers (Icecast, nginx-rtmp, a CDN edge); "
    "expected to report playable streams too."
)


def room_choices() -> list[tuple[str, str]]:
    """The configured rooms, as the config has them now (a reload adds or removes some)."""
    return [("", "---------")] + [(name, f"{room.title} ({name})") for name, room in get_config().rooms.items()]


@admin.register(Encoder)
class EncoderAdmin(admin.ModelAdmin):
    list_display = ("name", "room", "role", "grace", "created")
    list_filter = ("room", "role")
    search_fields = ("name", "room")
    actions = ["revoke"]

    def formfield_for_dbfield(self, db_field: models.Field, request: HttpRequest, **kwargs):
        if db_field.name == "room":  # one of the configured rooms, never a typo
            return forms.ChoiceField(
                choices=room_choices, label="Room", help_text="A room of config.json and config.private.json."
            )
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "role" and field is not None:
            field.help_text = ROLE_HELP
        return field

    def get_readonly_fields(self, request: HttpRequest, obj: Encoder | None = None):
        # A token is bound to its encoder and room: to move one, revoke and add.
        return ("name", "room", "role", "created") if obj else ("created",)

    def save_model(self, request: HttpRequest, obj: Encoder, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            run_with_redis(lambda redis: publish_identity(redis, obj))  # a new grace applies at once
            return
        # The form has validated the fields (Encoder.clean checks the room).
        encoder, token = add_encoder(room=obj.room, name=obj.name, role=obj.role, grace=obj.grace)
        obj.pk = encoder.pk
        request.new_encoder_token = token  # for response_add, this response only

    def response_add(self, request: HttpRequest, obj: Encoder, post_url_continue: str | None = None) -> HttpResponse:
        """The new token, in this page only: never in a message (a cookie or the session) or a URL."""
        response = TemplateResponse(
            request,
            "tracker/encoder_token.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "encoder": obj,
                "token": request.new_encoder_token,
            },
        )
        add_never_cache_headers(response)
        return response

    def delete_model(self, request: HttpRequest, obj: Encoder) -> None:
        revoke_encoder(obj.name)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for encoder in queryset:
            revoke_encoder(encoder.name)

    @admin.action(description="Revoke the selected encoders (tokens stop working at once)")
    def revoke(self, request: HttpRequest, queryset) -> None:
        self.delete_queryset(request, queryset)
