from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from tracker.encoders.identities import add_encoder, publish_identity, revoke_encoder, run_with_redis
from tracker.models import Encoder


@admin.register(Encoder)
class EncoderAdmin(admin.ModelAdmin):
    list_display = ("name", "room", "role", "grace", "created")
    list_filter = ("room", "role")
    search_fields = ("name", "room")
    actions = ["revoke"]

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
