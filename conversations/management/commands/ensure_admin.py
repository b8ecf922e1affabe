"""Create the artist's superuser on first run; print its random password once, store it nowhere."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class Command(BaseCommand):
    help = (
        "Create a superuser (default name: $DJANGO_ADMIN_USER or 'admin') with a random password "
        "printed once, unless a superuser already exists."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--username",
            default=os.environ.get("DJANGO_ADMIN_USER") or "admin",
            help="Username of the superuser to create (default: $DJANGO_ADMIN_USER or 'admin').",
        )

    def handle(self, *args, username, **options):
        User = get_user_model()
        with transaction.atomic():
            existing = User.objects.filter(is_superuser=True).order_by("pk").first()
            if existing is not None:
                self.stdout.write(
                    f'Admin user "{existing.get_username()}" exists; nothing changed.'
                )
                return
            if User.objects.filter(**{User.USERNAME_FIELD: username}).exists():
                raise CommandError(
                    f'User "{username}" exists but is not a superuser: make it one, or pass '
                    "--username NAME to create another."
                )
            password = secrets.token_urlsafe(18)
            fields = {User.USERNAME_FIELD: username}
            if "email" in User.REQUIRED_FIELDS:
                fields["email"] = ""
            User.objects.create_superuser(**fields, password=password)
        # Shown once: only its hash is stored.
        self.stdout.write(f'Admin user "{username}" created; password: {password}')
