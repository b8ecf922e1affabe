"""The "Artist" group: exactly what the artist needs in the admin and the API, nothing more.

Leads come from the bot and keep their audit trail, so they are viewed and changed (through
transitions) but never added or deleted; the transcript, answers, history and provider events
are read-only, except that a reply adds an outbound message; the consultation script, studio
settings and tour stops are the artist's to edit.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Artist"
ARTIST_PERMISSIONS = {
    "lead": ["view", "change"],
    "client": ["view", "change"],
    "message": ["view", "add"],
    "answer": ["view"],
    "statuschange": ["view"],
    "webhookevent": ["view"],
    "question": ["view", "add", "change", "delete"],
    "studiosettings": ["view", "change"],
    "tourstop": ["view", "add", "change", "delete"],
}


def artist_codenames():
    return [f"{action}_{model}" for model, actions in ARTIST_PERMISSIONS.items() for action in actions]


def create_artist_group(apps, schema_editor):
    # Permissions are normally created after the last migration; this one needs them now.
    app_config = apps.get_app_config("conversations")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    permissions = Permission.objects.filter(
        content_type__app_label="conversations", codename__in=artist_codenames()
    )
    assert permissions.count() == len(artist_codenames()), "a conversations permission is missing"
    group.permissions.set(permissions)


def delete_artist_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0006_message_status_unknown"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_artist_group, delete_artist_group)]
