"""The outbox: outbound Messages queued in the caller's transaction, delivered after commit.

`queue_*` write the row and enqueue its send task in the same transaction, so a rolled-back
flow sends nothing and a committed one is never forgotten. Delivery is the task's job
(conversations/tasks/).
"""

from django.conf import settings
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.compat import normalize_json, task_enqueued
from django_tasks_db.models import DBTaskResult, get_date_max

from conversations import tasks
from conversations.channels.base import normalise_address
from conversations.models import Channel, Client, Direction, Message, MessageStatus
from conversations.tasks import OPT_OUT_CONFIRMATION
from leadbot.logs import current_request_id
from leadbot.postgres import rows

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
    message = rows.insert(
        Message(
            client=client,
            lead=lead,
            channel=client.channel,
            direction=Direction.OUT,
            kind="interactive" if buttons else "text",
            body=body,
            payload=payload,
            status=MessageStatus.QUEUED,
        )
    )
    _enqueue_send(message.pk)
    return message


def _enqueue_send(message_id):
    """`tasks.send_message.enqueue(message_id)`, its task row written by a cached INSERT.

    The row is the one django-tasks-db's DatabaseBackend writes (its `_task_to_db_task`, and
    its pre_save receiver's `run_after`); any other backend enqueues the ordinary way.
    """
    task = tasks.send_message
    backend = task.get_backend()
    if type(backend) is not DatabaseBackend:
        task.enqueue(message_id)
        return
    if (backend.alias, task.module_path) not in _VALIDATED:
        backend.validate_task(task)  # the same task every time: checking it once is enough
        _VALIDATED.add((backend.alias, task.module_path))
    row = rows.insert(
        DBTaskResult(
            id=backend._get_id(),
            args_kwargs=normalize_json({"args": (message_id,), "kwargs": {}}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after or get_date_max(),
            backend_name=backend.alias,
        )
    )
    task_enqueued.send(type(backend), task_result=row.task_result)


_VALIDATED: set[tuple[str, str]] = set()


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
