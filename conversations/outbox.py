"""The outbox: outbound Messages queued in the caller's transaction, delivered after commit.

`queue_*` write the row and enqueue its send task in the same transaction, so a rolled-back
flow sends nothing and a committed one is never forgotten. Delivery is the task's job
(conversations/tasks/).
"""

from django.conf import settings

from conversations import tasks
from conversations.channels.base import normalise_address
from conversations.models import Channel, Client, Direction, Message, MessageStatus
from conversations.tasks import OPT_OUT_CONFIRMATION
from leadbot.logs import current_request_id

__all__ = ["OPT_OUT_CONFIRMATION", "OptedOut", "queue_artist_note", "queue_message"]


class OptedOut(Exception):
    """The client opted out: nothing but the opt-out confirmation may go to them."""


def queue_message(
    client,
    body,
    *,
    lead=None,
    purpose="bot",
    buttons=None,
    template=None,
    actor="bot",
):
    """Queue one outbound message in the caller's transaction and enqueue its send task."""
    if client.is_opted_out and purpose != OPT_OUT_CONFIRMATION:
        raise OptedOut(f"{client} opted out; not queuing {purpose}")
    payload = {"purpose": purpose, "actor": actor}
    if buttons:
        payload["buttons"] = [list(button) for button in buttons]
    if template:
        payload["template"] = template
    if request_id := current_request_id():
        # The worker logs each send attempt under the request that queued it.
        payload[tasks.REQUEST_ID] = request_id
    message = Message.objects.create(
        client=client,
        lead=lead,
        channel=client.channel,
        direction=Direction.OUT,
        kind="interactive" if buttons else "text",
        body=body,
        payload=payload,
        status=MessageStatus.QUEUED,
    )
    tasks.send_message.enqueue(message.pk)
    return message


def queue_artist_note(body, *, lead=None):
    """Queue a WhatsApp note to the artist's own phone, when ARTIST_PHONE is set."""
    if not settings.ARTIST_PHONE:
        return None
    artist, _ = Client.objects.get_or_create(
        channel=Channel.WHATSAPP,
        address=normalise_address(settings.ARTIST_PHONE),
        defaults={"display_name": "Artist"},
    )
    template = None
    if settings.ARTIST_NOTIFICATION_TEMPLATE:
        # Outside the 24-hour window (the artist rarely writes to their own bot) only an
        # approved template reaches them; its one body parameter carries the note.
        template = {
            "name": settings.ARTIST_NOTIFICATION_TEMPLATE,
            "components": [{"type": "body", "parameters": [{"type": "text", "text": body[:1000]}]}],
        }
    return queue_message(artist, body, purpose="artist_notification", template=template)
