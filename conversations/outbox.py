"""The outbox: outbound Messages queued in the caller's transaction, delivered after commit.

`queue_*` write the row and enqueue its send task in the same transaction (one statement), so
a rolled-back flow sends nothing and a committed one is never forgotten. Delivery is the task's job
(conversations/tasks/).
"""

import logging
from logging import DEBUG

from django.conf import settings
from django.db import connection
from django.utils import timezone
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
    message = Message(
        client=client,
        lead=lead,
        channel=client.channel,
        direction=Direction.OUT,
        kind="interactive" if buttons else "text",
        body=body,
        payload=payload,
        status=MessageStatus.QUEUED,
    )
    task = tasks.send_message
    backend = task.get_backend()
    if type(backend) is not DatabaseBackend:
        rows.insert(message)
        task.enqueue(message.pk)
        return message
    send = _SEND_TASKS.get((backend.alias, task.module_path))
    if send is None:
        backend.validate_task(task)  # the same task every time: checking it once is enough
        send = _SEND_TASKS[(backend.alias, task.module_path)] = _SendTask(backend, task)
    task_id, enqueued_at = backend._get_id(), timezone.now()
    rows.insert_with(message, send.sql, send.params(task_id, enqueued_at))
    if _anyone_listens(type(backend)):
        task_enqueued.send(type(backend), task_result=send.result(task_id, enqueued_at, message))
    return message


def _anyone_listens(sender):
    """Whether a `task_enqueued` receiver would do anything with the signal.

    django-tasks' own receiver only logs at DEBUG; building the TaskResult it is sent with
    costs a reply a third of a million instructions (issue 13), so it is built for a real use.
    """
    sync, asynchronous = task_enqueued._live_receivers(sender)
    return any(
        getattr(receiver, "__name__", "") != "log_task_enqueued" or _TASKS_LOG.isEnabledFor(DEBUG)
        for receiver in (*sync, *asynchronous)
    )


_TASKS_LOG = logging.getLogger("django_tasks")  # log_task_enqueued's logger


# normalize_json({"args": (message_id,), "kwargs": {}}), built by PostgreSQL from the new row
ARGS_OF_NEW_ROW = "jsonb_build_object('args', jsonb_build_array(new_row.id), 'kwargs', '{}'::jsonb)"


class _SendTask:
    """The row `tasks.send_message.enqueue(message_id)` writes, as the tail of the message INSERT.

    The row is the one django-tasks-db's DatabaseBackend writes (its `_task_to_db_task`, and
    its pre_save receiver's `run_after`), its constant columns prepped once per process; it
    names the new message by `new_row.id` (leadbot.postgres.rows.insert_with), so a reply is
    one statement, not two (issue 13: this, not an outbox the worker polls, keeps the
    library's retries and leases at the same statement count).
    """

    PER_ROW = ("id", "enqueued_at")

    def __init__(self, backend, task):
        self.backend, self.task = backend, task
        self.template = {
            "priority": task.priority,
            "task_path": task.module_path,
            "queue_name": task.queue_name,
            "run_after": task.run_after or get_date_max(),
            "backend_name": backend.alias,
        }
        row = DBTaskResult(args_kwargs={}, **self.template)
        columns, values, self.slots = [], [], []
        for field in DBTaskResult._meta.concrete_fields:
            columns.append(connection.ops.quote_name(field.column))
            if field.attname == "args_kwargs":
                values.append(ARGS_OF_NEW_ROW)
                continue
            values.append("%s")
            if field.attname in self.PER_ROW:
                self.slots.append(field.attname)
            else:
                value = getattr(row, field.attname)
                prepped = None if value is None else field.get_db_prep_save(value, connection)
                self.slots.append((prepped,))
        self.sql = (
            f"INSERT INTO {connection.ops.quote_name(DBTaskResult._meta.db_table)}"
            f" ({', '.join(columns)}) SELECT {', '.join(values)} FROM new_row"
        )

    def params(self, task_id, enqueued_at):
        per_row = {"id": task_id, "enqueued_at": enqueued_at}
        return [per_row[slot] if isinstance(slot, str) else slot[0] for slot in self.slots]

    def result(self, task_id, enqueued_at, message):
        """The enqueued task's TaskResult, for the `task_enqueued` signal's receivers."""
        row = DBTaskResult(
            id=task_id,
            enqueued_at=enqueued_at,
            args_kwargs=normalize_json({"args": (message.pk,), "kwargs": {}}),
            **self.template,
        )
        row._state.adding, row._state.db = False, connection.alias
        return row.task_result


_SEND_TASKS: dict[tuple[str, str], _SendTask] = {}


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
