from django.core.management.base import BaseCommand, CommandError

from tracker.encoders.identities import IdentityError, add_encoder, revoke_encoder
from tracker.models import Encoder, Role


class Command(BaseCommand):
    help = "Manage encoder identities: add (prints the token once), list, revoke."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="create an encoder and print its token")
        add.add_argument("--room", required=True)
        add.add_argument("--name", required=True)
        add.add_argument("--role", default=Role.ENCODER, choices=Role.values)
        add.add_argument("--grace", type=int, help="seconds past the interval before 'down'")
        actions.add_parser("list", help="list encoders (never their tokens)")
        revoke = actions.add_parser("revoke", help="revoke an encoder's token at once")
        revoke.add_argument("name")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"handle_{action}")(**options)
        except IdentityError as exc:
            raise CommandError(str(exc)) from None

    def handle_add(self, *, room, name, role, grace, **options):
        encoder, token = add_encoder(room=room, name=name, role=role, grace=grace)
        self.stderr.write(f"added {encoder}; its token, shown only now:")
        self.stdout.write(token)

    def handle_list(self, **options):
        for encoder in Encoder.objects.all():
            grace = f"{encoder.grace}s" if encoder.grace else "default"
            self.stdout.write(
                f"{encoder.room}\t{encoder.name}\t{encoder.role}\tgrace {grace}\tadded {encoder.created:%Y-%m-%d}"
            )

    def handle_revoke(self, *, name, **options):
        revoke_encoder(name)
        self.stdout.write(f"revoked {name}")
