"""Staff users with and without the Artist group (conversations/migrations/0007_artist_group)."""

import importlib

from django.contrib.auth.models import Group, Permission, User

artist_migration = importlib.import_module("conversations.migrations.0007_artist_group")


def artist_group():
    """The migration's group; transactional tests flush it, so it is made again when missing."""
    group, created = Group.objects.get_or_create(name=artist_migration.GROUP)
    if created:
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label="conversations",
                codename__in=artist_migration.artist_codenames(),
            )
        )
    return group


def make_staff(username, *, artist, password="a-long-test-password-1"):
    user = User.objects.create_user(username, password=password, is_staff=True)
    if artist:
        user.groups.add(artist_group())
    return user
