"""Encoder identities: the only thing the tracker keeps in its database."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from tracker.encoders.heartbeat import ENCODER_NAME


class Role(models.TextChoices):
    # The video pipeline in order: capture -> mix -> encode -> distribute.
    COLLECTOR = "collector"
    MIXER = "mixer"
    ENCODER = "encoder"
    ENDPOINT = "endpoint"


class Encoder(models.Model):
    name = models.CharField(max_length=64, unique=True, validators=[RegexValidator(ENCODER_NAME)])
    room = models.CharField(max_length=64)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ENCODER)
    # SHA-256 of the token. Tokens are 256 random bits, so a fast hash is
    # enough; the token itself is shown once and never stored.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    grace = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds past the interval before 'down'; empty: the site's default."
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["room", "name"]

    def clean(self) -> None:
        from tracker.config import get_config

        if self.room not in get_config().rooms:
            raise ValidationError({"room": f"no room named {self.room!r} in the config"})

    def __str__(self) -> str:
        return f"{self.name} ({self.role} in {self.room})"
