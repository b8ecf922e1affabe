"""The outbox: outbound Messages queued in the caller's transaction, delivered after commit.

`queue_*` write the row and enqueue its send task in the same transaction, so a rolled-back
flow sends nothing and a committed one is never forgotten. `deliver()` runs in the worker: it
claims the row, talks to the provider with no lock held, and records the outcome.
"""

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, InterfaceError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from conversations import tasks
from conversations.channels import base as channel_base
from conversations.channels.twilio import TwilioClient
from conversations.channels.whatsapp import WhatsAppClient, split_text
from conversations.models import (
    Channel,
    Client,
    Direction,
    Lead,
    Message,
    MessageStatus,
    WebhookEvent,
)

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 30
WHATSAPP_WINDOW = timedelta(hours=24)

# Purposes that still go to a client who has opted out.
OPT_OUT_CONFIRMATION = "opt_out_confirmation"
# Set on a message whose outcome was unknown when it is sent again: it is never resent twice.
RESENT_AFTER_UNKNOWN = "resent_after_unknown"
_UNSENT = (MessageStatus.QUEUED, MessageStatus.FAILED, MessageStatus.UNKNOWN)


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


def queue_artist_reply(lead, body, *, actor):
    """The artist's own words to the client, through the same outbox (its own transaction)."""
    with transaction.atomic():
        return queue_message(lead.client, body, lead=lead, purpose="artist_reply", actor=actor)


def notify_artist(body, *, lead=None):
    """A WhatsApp note to the artist's own phone, when ARTIST_PHONE is set."""
    if not settings.ARTIST_PHONE:
        return None
    artist, _ = Client.objects.get_or_create(
        channel=Channel.WHATSAPP,
        address=settings.ARTIST_PHONE.lstrip("+"),
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


# -- Delivery (runs in the worker) -------------------------------------------------------


def claim_lease():
    return timedelta(seconds=settings.OUTBOX_CLAIM_LEASE_SECONDS)


def receipt_window():
    return timedelta(seconds=settings.DELIVERY_RECEIPT_WINDOW_SECONDS)


def backoff(attempts):
    """Exponential backoff with full jitter: 30 s, 60 s, 120 s … capped at an hour."""
    ceiling = min(BACKOFF_BASE_SECONDS * 2 ** (attempts - 1), 3600)
    return timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))


def claim(message_id, now=None):
    """Take the row for one send attempt, or None if it is sent, dead, taken or not due.

    Only the outbound row is locked: every inbound message holds its client's row, and a claim
    that also locked the client would skip. `lapsed_claim` on the result says an earlier attempt
    claimed the row and never recorded an outcome (its worker died, maybe after sending).
    """
    now = now or timezone.now()
    with transaction.atomic():
        message = (
            Message.objects.due(now)
            .filter(pk=message_id)
            .select_for_update(skip_locked=True, of=("self",))
            .first()
        )
        if message is None:
            return None
        message.lapsed_claim = message.claimed_until is not None
        if not message.lapsed_claim:
            message.attempts += 1
        if message.status == MessageStatus.UNKNOWN:
            # The one resend of a message that may have gone out: never a second.
            message.payload = {**message.payload, RESENT_AFTER_UNKNOWN: True}
        message.claimed_until = now + claim_lease()
        message.save(update_fields=["attempts", "claimed_until", "payload", "updated_at"])
    return message


def _window_open(message, now):
    last_inbound = (
        Message.objects.inbound()
        .filter(client_id=message.client_id)
        .aggregate(last=Max("created_at"))["last"]
    )
    return last_inbound is not None and now - last_inbound < WHATSAPP_WINDOW


def _send_whatsapp(message, now):
    client = WhatsAppClient(
        settings.WHATSAPP_API_BASE,
        settings.WHATSAPP_ACCESS_TOKEN,
        settings.WHATSAPP_PHONE_NUMBER_ID,
        timeout=settings.OUTBOUND_TIMEOUT_SECONDS,
    )
    to = message.client.address
    template = message.payload.get("template")
    if not _window_open(message, now):
        # Outside the 24-hour window only an approved template may go.
        if not template:
            raise channel_base.OutsideWindowError(
                code=131047, detail="outside the 24-hour window and no template fallback"
            )
        return [
            client.send_template(
                to,
                template["name"],
                template.get("language", "en_GB"),
                template.get("components"),
            )
        ]
    if message.payload.get("buttons"):
        buttons = [tuple(b) for b in message.payload["buttons"]]
        return [client.send_buttons(to, message.body, buttons)]
    return _send_in_parts(
        message, split_text(message.body), lambda part: client.send_text(to, part)
    )


def _send_in_parts(message, parts, send_part):
    """Send a long text part by part, recording each part's id as it goes.

    A retry after a failure on part 2 starts at part 2: what already went out is not resent.
    """
    sent = list(message.payload.get("sent_parts", []))
    for part in parts[len(sent) :]:
        sent.extend(send_part(part))
        message.payload = {**message.payload, "sent_parts": sent}
        Message.objects.filter(pk=message.pk).update(payload=message.payload)
    return sent


def _send_sms(message, now):
    client = TwilioClient(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        settings.TWILIO_FROM_NUMBER,
        api_base=settings.TWILIO_API_BASE or None,
        timeout=settings.OUTBOUND_TIMEOUT_SECONDS,
    )
    return [client.send_sms(message.client.address, message.body)]


def _send(message, now):
    if settings.OUTBOUND_DRY_RUN:
        return [f"dry-run-{message.pk}"]
    if message.channel == Channel.SMS:
        return _send_sms(message, now)
    return _send_whatsapp(message, now)


def _record(message, **changes):
    """Write an attempt's outcome, unless our claim lapsed and another worker took the row."""
    changes.setdefault("claimed_until", None)
    changes["updated_at"] = timezone.now()
    recorded = Message.objects.filter(pk=message.pk, claimed_until=message.claimed_until).update(
        **changes
    )
    if not recorded:
        logger.warning("Claim on message %s lapsed; its outcome was not recorded", message.pk)
    return recorded


def _send_again_at(message, when):
    tasks.send_message.using(run_after=when).enqueue(message.pk)


def _retry_later(message, error, now):
    """Schedule the next attempt with backoff, or give up after the last one."""
    if message.attempts >= MAX_ATTEMPTS:
        _record(message, status=MessageStatus.DEAD, last_error=error)
        return MessageStatus.DEAD
    retry_at = now + backoff(message.attempts)
    # One transaction: a worker dying in between cannot leave a failed row with no task.
    with transaction.atomic():
        if _record(
            message, status=MessageStatus.FAILED, last_error=error, next_attempt_at=retry_at
        ):
            _send_again_at(message, retry_at)
    return MessageStatus.FAILED


def _may_have_gone_out(message, reason):
    """The send may have reached the client: wait for its receipt before sending it again.

    Resent at most once, and only if no receipt arrived within the window; after that one
    resend it stays `unknown` for the artist to see.
    """
    now = timezone.now()
    if message.payload.get(RESENT_AFTER_UNKNOWN):
        _record(
            message,
            status=MessageStatus.UNKNOWN,
            next_attempt_at=None,
            last_error=f"{reason}; already resent once, not sent again",
        )
        return MessageStatus.UNKNOWN
    check_at = now + receipt_window()
    with transaction.atomic():
        if _record(
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
    if in_flight and row.external_id == "" and row.status in _UNSENT:
        # Another attempt holds the claim. Come back when it lapses, in case its worker died.
        retry_at = row.claimed_until + timedelta(seconds=1)
        logger.info(
            "Message %s is being sent by another attempt; checking again at %s", row.pk, retry_at
        )
        _send_again_at(row, retry_at)
        return "in_flight"
    # Sent, dead, or waiting out a backoff or a receipt window with its own task enqueued.
    return None


def deliver(message_id):
    """One send attempt for an outbound message; returns its status afterwards."""
    now = timezone.now()
    message = claim(message_id, now)
    if message is None:
        return _not_claimed(message_id, now)
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
        _record(message, status=MessageStatus.DEAD, last_error="client opted out")
        return MessageStatus.DEAD
    try:
        ids = _send(message, now)
    except channel_base.OutsideWindowError as exc:
        _record(message, status=MessageStatus.DEAD, last_error=f"outside window: {exc}")
        return MessageStatus.DEAD
    except channel_base.PermanentSendError as exc:
        _record(message, status=MessageStatus.DEAD, last_error=str(exc))
        return MessageStatus.DEAD
    except channel_base.MaybeSentError as exc:
        return _may_have_gone_out(message, str(exc))
    except channel_base.TransientSendError as exc:
        return _retry_later(message, str(exc), now)
    except (ValueError, TypeError) as exc:
        # A request we built wrong (four buttons, say): sending it again cannot help.
        logger.exception("Message %s cannot be sent as queued", message.pk)
        _record(message, status=MessageStatus.DEAD, last_error=f"{type(exc).__name__}: {exc}")
        return MessageStatus.DEAD
    except (DatabaseError, InterfaceError):
        # The database went away mid-send: the claim stays, its lapse settles the outcome.
        raise
    except Exception as exc:
        # A bug or a surprise from a client library: retried like an outage, never lost.
        logger.exception("Unexpected error sending message %s", message.pk)
        return _retry_later(message, f"{type(exc).__name__}: {exc}", now)
    sent_at = timezone.now()
    _record(
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
        apply_receipts(message.channel, ids[0])
    return MessageStatus.SENT


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
        tasks.send_message.enqueue(pk)
    return ids


# -- Delivery receipts -------------------------------------------------------------------

_RECEIPT_RANK = {"sent": 1, "delivered": 2, "read": 3}


def apply_receipts(channel, external_id, *, recipient=""):
    """Bring an outbound message up to the receipts stored for it; never move it backwards.

    A receipt for an id we never recorded, to a `recipient` with a send whose outcome is
    unknown, is that send's answer: the provider took it after all.
    """
    message = (
        Message.objects.outbound()
        .select_for_update()
        .filter(channel=channel, external_id=external_id)
        .first()
    )
    adopted = False
    if message is None and recipient:
        message = _adopt_unanswered_send(channel, external_id, recipient)
        adopted = message is not None
    if message is None:
        return False
    receipts = list(
        WebhookEvent.objects.filter(provider=channel, kind="status", subject=external_id)
        .order_by("received_at", "id")
        .values_list("payload", flat=True)
    )
    failures = [r for r in receipts if r.get("status") == "failed"]
    if failures:
        errors = [e for r in failures for e in r.get("errors", [])]
        changes = {
            "status": MessageStatus.FAILED,
            "last_error": "; ".join(
                f"{e.get('code')}: {e.get('title') or e.get('message')}" for e in errors
            )
            or "failed after the provider accepted it",
        }
    else:
        best = max((r.get("status") for r in receipts), key=_rank, default=None)
        if _rank(best) <= _rank(message.status):
            return adopted
        changes = {"status": best}
    if message.status == changes["status"]:
        return adopted
    Message.objects.filter(pk=message.pk).update(**changes, updated_at=timezone.now())
    return True


def _adopt_unanswered_send(channel, external_id, recipient):
    """Give the provider's id to the oldest send to `recipient` whose answer never came.

    That is an `unknown` row, or one whose attempt is claimed with no outcome yet (its worker
    may have died after sending). Returns the row when the id completes it, else None.
    """
    candidates = (
        Message.objects.outbound()
        .select_for_update(of=("self",))
        .filter(channel=channel, external_id="", client__address=recipient)
        .filter(
            Q(status=MessageStatus.UNKNOWN) | Q(status__in=_UNSENT, claimed_until__isnull=False)
        )
        .order_by("created_at", "id")
    )
    for message in candidates:
        sent = list(message.payload.get("sent_parts", []))
        if external_id in sent:
            return None  # an earlier part's receipt, not the missing answer
        sent.append(external_id)
        payload = {**message.payload, "sent_parts": sent}
        if len(sent) < _part_count(message):
            # The missing part's answer: the rest still has to go, at once.
            Message.objects.filter(pk=message.pk).update(
                payload=payload,
                status=MessageStatus.FAILED,
                next_attempt_at=None,
                claimed_until=None,
                updated_at=timezone.now(),
            )
            tasks.send_message.enqueue(message.pk)
            return None
        logger.info(
            "Receipt %s answers message %s, whose send had no answer", external_id, message.pk
        )
        message.external_id = sent[0]
        Message.objects.filter(pk=message.pk).update(
            payload={**payload, "provider_ids": sent},
            status=MessageStatus.SENT,
            external_id=sent[0],
            sent_at=message.sent_at or timezone.now(),
            next_attempt_at=None,
            claimed_until=None,
            last_error="",
            updated_at=timezone.now(),
        )
        message.status = MessageStatus.SENT
        return message if sent[0] == external_id else None
    return None


def _part_count(message):
    if message.channel == Channel.SMS or message.payload.get("buttons"):
        return 1
    if message.payload.get("template"):
        return 1
    return max(len(split_text(message.body)), 1)


def _rank(status):
    return _RECEIPT_RANK.get(status, 0)
