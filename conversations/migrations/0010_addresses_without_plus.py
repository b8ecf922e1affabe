"""Phone-number addresses stored as E.164 digits without the '+', as the channels now parse them.

Twilio sends SMS senders as "+447700900123", which used to be stored as given; the channels
now normalise every address (channels.base.normalise_address), so an existing SMS client must
be found under "447700900123" when they write again. A client already stored both ways keeps
its two rows (merging leads is the artist's call, not a migration's).
"""

from django.db import migrations

PLUS_AND_DIGITS = r"^\+[0-9]+$"
DIGITS = r"^[0-9]+$"


def drop_the_plus(apps, schema_editor):
    Client = apps.get_model("conversations", "Client")
    for client in Client.objects.filter(address__regex=PLUS_AND_DIGITS).only("channel", "address"):
        digits = client.address[1:]
        if not Client.objects.filter(channel=client.channel, address=digits).exists():
            Client.objects.filter(pk=client.pk).update(address=digits)


def put_the_plus_back(apps, schema_editor):
    """Only SMS: the previous code stored Twilio's senders with their '+'."""
    Client = apps.get_model("conversations", "Client")
    for client in Client.objects.filter(channel="sms", address__regex=DIGITS).only("address"):
        plus = f"+{client.address}"
        if not Client.objects.filter(channel="sms", address=plus).exists():
            Client.objects.filter(pk=client.pk).update(address=plus)


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0009_sweeps_and_reminders"),
    ]

    operations = [migrations.RunPython(drop_the_plus, put_the_plus_back)]
