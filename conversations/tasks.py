"""Background work through Django's Tasks API, run by `manage.py db_worker`."""

from django_tasks import task

from conversations import outbox


@task()
def send_message(message_id: int):
    """One delivery attempt of an outbound message (the outbox schedules retries)."""
    status = outbox.deliver(message_id)
    return str(status) if status else None
