"""Question.label and Question.aliases: the summary label and the correction names live on the
question, so one the artist adds gets them too; the default questions get today's values."""

from django.db import migrations, models

from conversations.questions import fill_default_metadata


def fill(apps, schema_editor):
    fill_default_metadata(apps.get_model("conversations", "Question"))


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0007_artist_group"),
    ]

    operations = [
        migrations.AddField(
            model_name="question",
            name="label",
            field=models.CharField(
                blank=True,
                help_text="How the summary names the answer; blank: the key",
                max_length=60,
            ),
        ),
        migrations.AddField(
            model_name="question",
            name="aliases",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text='Other names for the answer in corrections, e.g. ["size", "measurements"]',
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
