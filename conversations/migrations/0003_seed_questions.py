"""Seed the default consultation script (DESIGN.md §8); running it twice changes nothing."""

from django.db import migrations

from conversations.questions import seed_default_script, unseed_default_script


def seed(apps, schema_editor):
    seed_default_script(apps.get_model("conversations", "Question"))


def unseed(apps, schema_editor):
    unseed_default_script(apps.get_model("conversations", "Question"))


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0002_studio_settings"),
    ]

    operations = [
        migrations.RunPython(seed, unseed),
    ]
