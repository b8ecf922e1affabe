"""Background work through Django's Tasks API, run by `manage.py db_worker`: delivery.

`send_message` is one delivery attempt of an outbound row the outbox queued: claim it, send it
through its channel with no lock held, record the outcome and schedule what comes next (a retry
with backoff, a wait for the receipt, or nothing). Receipts arrive through `apply_receipts`.
"""

import logging
from datetime import timedelta

import structlog
from django.conf import settings
from django.db import DatabaseError, InterfaceError, transaction
from django.utils import timezone
from django_tasks import task

from conversations.channels import base as channel_base
from conversations.models import Lead, Message, MessageStatus
from conversations.tasks import receipts, sending
from conversations.tasks.attempts import (
    MAX_ATTEMPTS,
    OPT_OUT_CONFIRMATION,
    RESENT_AFTER_UNKNOWN,
    UNSENT,
    backoff,
    claim,
    claim_lease,
    receipt_window,
    record,
)
from leadbot.logs import get_logger

__all__ = [
    "MAX_ATTEMPTS",
    "OPT_OUT_CONFIRMATION",
    "apply_receipts",
    "claim",
    "claim_lease",
    "deliver",
    "receipt_window",
    "requeue_due",
    "send_message",
]

logger = logging.getLogger(__name__)
log = get_logger(__name__)
# Written into an outbound row's payload by the outbox: the request that queued it.
REQUEST_ID = "request_id"


@task()
def send_message(message_id: int):
    """One delivery attempt of an outbound message (it schedules its own retries)."""
    status = deliver(message_id)
    return str(status) if status else None


def deliver(message_id):
    """One send attempt for an outbound message; returns its status afterwards."""
    now = timezone.now()
    message = claim(message_id, now)
    if message is None:
        return _not_claimed(message_id, now)
    # Every line of this attempt names the request that queued the message, and its lead.
    with structlog.contextvars.bound_contextvars(
        request_id=message.payload.get(REQUEST_ID), lead_id=message.lead_id
    ):
        status = _attempt(message, now)
        _log_send_result(message, status)
    return status


def _log_send_result(message, status):
    """One line per attempt; the provider's error only above INFO (it may quote the number)."""
    fields = {
        "message_id": message.pk,
        "channel": message.channel,
        "status": str(status),
        "attempts": message.attempts,
    }
    if status == MessageStatus.SENT:
        log.info("message.send", **fields)
        return
    error = Message.objects.filter(pk=message.pk).values_list("last_error", flat=True).first()
    log.warning("message.send", **fields, error=(error or "")[:300])


def _attempt(message, now):
    """Send a claimed row through its channel and record the outcome; returns its status."""
    if message.lapsed_claim:
        # An earlier attempt claimed the row and never recorded an outcome (its worker died or
        # lost the database, before or after sending): it may have gone out. Treated like a
        # read timeout rather than sent twice at once.
        return _may_have_gone_out(
            message,
            "an attempt's outcome was never recorded (its worker stopped or lost the database)",
        )
    purpose = message.payload.get("purpose")
    if message.client.is_opted_out and purpose != OPT_OUT_CONFIRMATION:
        # STOP arrived after this was queued: it never goes.
        record(message, status=MessageStatus.DEAD, last_error="client opted out")
        return MessageStatus.DEAD
    try:
        ids = sending.send(message, now)
    except channel_base.OutsideWindowError as exc:
        record(message, status=MessageStatus.DEAD, last_error=f"outside window: {exc}")
        return MessageStatus.DEAD
    except channel_base.PermanentSendError as exc:
        record(message, status=MessageStatus.DEAD, last_error=str(exc))
        return MessageStatus.DEAD
    except channel_base.MaybeSentError as exc:
        return _may_have_gone_out(message, str(exc))
    except channel_base.TransientSendError as exc:
        return _retry_later(message, str(exc), now)
    except (ValueError, TypeError) as exc:
        # A request we built wrong (four buttons, say): sending it again cannot help.
        logger.exception("Message %s cannot be sent as queued", message.pk)
        record(message, status=MessageStatus.DEAD, last_error=f"{type(exc).__name__}: {exc}")
        return MessageStatus.DEAD
    except (DatabaseError, InterfaceError):
        # The database went away mid-send: the claim stays, its lapse settles the outcome.
        raise
    except Exception as exc:
        # A bug or a surprise from a client library: retried like an outage, never lost.
        logger.exception("Unexpected error sending message %s", message.pk)
        return _retry_later(message, f"{type(exc).__name__}: {exc}", now)
    sent_at = timezone.now()
    record(
        message,
        status=MessageStatus.SENT,
        external_id=ids[0],
        sent_at=sent_at,
        next_attempt_at=None,
        last_error="",
        payload={**message.payload, "provider_ids": ids},
    )
    if message.lead_id:
        # Recorded here, off the webhook's path, and only for what actually went out.
        Lead.objects.filter(pk=message.lead_id).update(last_outbound_at=sent_at)
    with transaction.atomic():
        # A receipt that beat this record (the webhook stored it first) applies now.
        apply_receipts(message.channel, ids[0])
    return MessageStatus.SENT


def apply_receipts(channel, external_id, *, recipient=""):
    """Bring an outbound message up to the receipts stored for it, in the caller's transaction.

    Returns True when a row changed; a message whose missing part a receipt answered is sent on.
    """
    applied = receipts.apply(channel, external_id, recipient=recipient)
    if applied.send_rest_of is not None:
        send_message.enqueue(applied.send_rest_of)
    return applied.changed


def requeue_due(now=None):
    """Enqueue a send for due rows nobody touched for a lease (their worker or task was lost).

    Rows touched more recently still have a task on its way; requeuing them would only pile
    up tasks on every run.
    """
    now = now or timezone.now()
    ids = list(
        Message.objects.due(now)
        .filter(updated_at__lt=now - claim_lease())
        .values_list("pk", flat=True)
    )
    for pk in ids:
        send_message.enqueue(pk)
    return ids


def _send_again_at(message, when):
    send_message.using(run_after=when).enqueue(message.pk)


def _retry_later(message, error, now):
    """Schedule the next attempt with backoff, or give up after the last one."""
    if message.attempts >= MAX_ATTEMPTS:
        record(message, status=MessageStatus.DEAD, last_error=error)
        return MessageStatus.DEAD
    retry_at = now + backoff(message.attempts)
    # One transaction: a worker dying in between cannot leave a failed row with no task.
    with transaction.atomic():
        if record(message, status=MessageStatus.FAILED, last_error=error, next_attempt_at=retry_at):
            _send_again_at(message, retry_at)
    return MessageStatus.FAILED


def _may_have_gone_out(message, reason):
    """The send may have reached the client: wait for its receipt before sending it again.

    Resent at most once, and only if no receipt arrived within the window; after that one
    resend it stays `unknown` for the artist to see.
    """
    now = timezone.now()
    if message.payload.get(RESENT_AFTER_UNKNOWN):
        record(
            message,
            status=MessageStatus.UNKNOWN,
            next_attempt_at=None,
            last_error=f"{reason}; already resent once, not sent again",
        )
        return MessageStatus.UNKNOWN
    check_at = now + receipt_window()
    with transaction.atomic():
        if record(
            message, status=MessageStatus.UNKNOWN, last_error=reason, next_attempt_at=check_at
        ):
            _send_again_at(message, check_at)
    logger.warning(
        "Message %s may have been delivered (%s); resend at %s", message.pk, reason, check_at
    )
    return MessageStatus.UNKNOWN


def _not_claimed(message_id, now):
    """Why the row could not be claimed; a row that is still due is tried again shortly."""
    row = Message.objects.outbound().filter(pk=message_id).first()
    if row is None:
        return None
    if Message.objects.due(now).filter(pk=message_id).exists():
        # Due, yet skip_locked passed it by: another transaction holds the row right now.
        retry_at = now + timedelta(seconds=settings.OUTBOX_BUSY_RETRY_SECONDS)
        logger.info(
            "Message %s is locked by another transaction; trying again at %s", row.pk, retry_at
        )
        _send_again_at(row, retry_at)
        return "busy"
    in_flight = row.claimed_until is not None and row.claimed_until >= now
    if in_flight and row.external_id == "" and row.status in UNSENT:
        # Another attempt holds the claim. Come back when it lapses, in case its worker died.
        retry_at = row.claimed_until + timedelta(seconds=1)
        logger.info(
            "Message %s is being sent by another attempt; checking again at %s", row.pk, retry_at
        )
        _send_again_at(row, retry_at)
        return "in_flight"
    # Sent, dead, or waiting out a backoff or a receipt window with its own task enqueued.
    return None
