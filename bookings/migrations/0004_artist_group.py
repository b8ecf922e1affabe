"""The "Artist" group (conversations 0007) gets the diary: when they work, days off, sessions.

Sessions and holds come from the booking flow and deposits from Stripe, so those are read (and
sessions cancelled, which is a change), never added or deleted by hand.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Artist"
ARTIST_PERMISSIONS = {
    "availability": ["view", "change"],
    "workinghours": ["view", "add", "change", "delete"],
    "closedday": ["view", "add", "change", "delete"],
    "booking": ["view", "change"],
    "slothold": ["view"],
    "deposit": ["view"],
    "calendarfeed": ["view", "change"],
}


def artist_codenames():
    return [f"{action}_{model}" for model, actions in ARTIST_PERMISSIONS.items() for action in actions]


def grant_the_diary(apps, schema_editor):
    # Permissions are normally created after the last migration; this one needs them now.
    app_config = apps.get_app_config("bookings")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    permissions = Permission.objects.filter(
        content_type__app_label="bookings", codename__in=artist_codenames()
    )
    assert permissions.count() == len(artist_codenames()), "a bookings permission is missing"
    group.permissions.add(*permissions)


def revoke_the_diary(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name=GROUP).first()
    if group is not None:
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="bookings"))


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0003_session_reminders"),
        ("conversations", "0007_artist_group"),
    ]

    operations = [migrations.RunPython(grant_the_diary, revoke_the_diary)]
