"""Inbound processing: one transaction per message, exactly once (DESIGN.md §4).

The inbound Message insert, unique per (channel, external_id), is the dedupe; the flow for
the message runs in the same transaction under the lead's row lock. A flow that raises rolls
back, and the message is stored again as a `failed` row that the artist can replay.
"""

import dataclasses
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from conversations import outbox, tasks, wording
from conversations.channels.base import InboundMessage, Media, normalise_address
from conversations.flows import dispatch, handover, inbound_sql
from conversations.flows.turn import SILENT_KINDS
from conversations.models import (
    CLOSED_STATUSES,
    Client,
    Direction,
    Lead,
    Message,
    MessageStatus,
    WebhookEvent,
)
from conversations.parsing.intents import Intent, detect_intent

logger = logging.getLogger(__name__)

DUPLICATE_CONSTRAINT = "message_unique_inbound_external_id"
NOTICE_INTERVAL = timedelta(hours=24)
MAX_EXTERNAL_ID = Message._meta.get_field("external_id").max_length
MAX_ADDRESS = Client._meta.get_field("address").max_length
MAX_REPLY_ID = Message._meta.get_field("reply_id").max_length
MAX_BUSINESS_USER_ID = Client._meta.get_field("business_user_id").max_length
# Errors that mean the database is unreachable: the provider must retry, so nothing is stored.
DATABASE_DOWN = (OperationalError, InterfaceError)


class Outcome:
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    OUT_OF_ORDER = "out_of_order"
    FAILED = "failed"
    # no usable id or sender: kept as a WebhookEvent, since it cannot be a Message row
    INVALID = "invalid"
    NOT_ALLOWLISTED = "not_allowlisted"
    PAUSED = "paused"
    FROM_ARTIST = "from_artist"


@dataclass(frozen=True)
class InboundResult:
    external_id: str
    outcome: str
    message_id: int | None = None
    error: str = ""
    lead_id: int | None = None


def unidentifiable(inbound: InboundMessage) -> str:
    """Why the message cannot be a Message row at all (its id or sender do not fit), or ""."""
    if not inbound.external_id or len(inbound.external_id) > MAX_EXTERNAL_ID:
        return f"message id must be 1–{MAX_EXTERNAL_ID} characters"
    if not inbound.address or len(inbound.address) > MAX_ADDRESS:
        return f"sender must be 1–{MAX_ADDRESS} characters"
    return ""


def _column_problem(inbound):
    """Why a field does not fit its column (such a message is stored as failed), or ""."""
    if len(inbound.reply_id) > MAX_REPLY_ID:
        return f"reply id longer than {MAX_REPLY_ID} characters"
    if len(inbound.business_user_id) > MAX_BUSINESS_USER_ID:
        return f"business user id longer than {MAX_BUSINESS_USER_ID} characters"
    return ""


def record_inbound(inbound: InboundMessage) -> InboundResult:
    """Store one inbound message and run its flow, exactly once however often it is delivered.

    Its strings must already be storable (the channel parsers see to it). A message that
    cannot be handled is kept: as a `failed` row, or as a WebhookEvent when it has no
    usable id or sender.
    """
    if reason := unidentifiable(inbound):
        return _keep_invalid(inbound, reason)
    if problem := inbound.problem or _column_problem(inbound):
        return _store_failed(inbound, problem)
    try:
        with transaction.atomic():
            sender = inbound_sql.lock_sender(inbound)
            if sender.seen:
                return InboundResult(inbound.external_id, Outcome.DUPLICATE)
            _update_profile(sender, inbound)
            outcome, message = _handle(
                sender.client,
                inbound,
                store=lambda lead, status: _store(sender.client, inbound, lead=lead, status=status),
                lead=sender.lead,
                new_client=sender.created,
                config_version=sender.config_version,
            )
        return InboundResult(inbound.external_id, outcome, message.pk, lead_id=message.lead_id)
    except IntegrityError as exc:
        if _constraint_name(exc) == DUPLICATE_CONSTRAINT:
            return InboundResult(inbound.external_id, Outcome.DUPLICATE)
        error = exc
    except DATABASE_DOWN:
        raise
    except Exception as exc:
        error = exc
    logger.exception("Inbound %s failed; storing it for replay", inbound.external_id)
    return _store_failed(inbound, error)


def replay(message_id):
    """Run the flow for a failed inbound message again; it is processed at most once."""
    try:
        with transaction.atomic():
            message = (
                Message.objects.select_for_update()
                .select_related("client")
                .get(pk=message_id, direction=Direction.IN)
            )
            if message.status != MessageStatus.FAILED:
                return InboundResult(message.external_id, Outcome.DUPLICATE, message.pk)
            # The same per-client lock as a live message, so the client is read current.
            message.client = Client.objects.select_for_update(no_key=True).get(pk=message.client_id)
            # The artist asked for it: an old message is processed even if newer ones were.
            outcome, _ = _handle(
                message.client,
                inbound_from_row(message),
                store=lambda lead, status: _finish(message, lead, status),
                check_order=False,
            )
        return InboundResult(message.external_id, outcome, message.pk)
    except DATABASE_DOWN:
        raise
    except Exception as exc:
        logger.exception("Replay of message %s failed again", message_id)
        Message.objects.filter(pk=message_id).update(last_error=_describe(exc))
        return InboundResult("", Outcome.FAILED, message_id, _describe(exc))


def _store(client, inbound, *, lead=None, status=MessageStatus.RECEIVED, error=""):
    """Insert the inbound row, already with its lead and final status (no UPDATE after)."""
    return inbound_sql.insert_message(
        client=client,
        lead=lead,
        channel=inbound.channel,
        direction=Direction.IN,
        external_id=inbound.external_id,
        kind=inbound.kind[:24],
        body=inbound.body,
        reply_id=inbound.reply_id[:256],
        payload=_payload(inbound),
        status=status,
        provider_timestamp=inbound.timestamp,
        last_error=error,
    )


def _lock_client(inbound):
    """The sender, created if new and locked: a client's messages are handled one at a time.

    The lock also means everything read about the client (an opt-out, say) is current.
    NO KEY UPDATE, so rows that merely point at the client are not blocked by it.
    """
    client, created = Client.objects.select_for_update(no_key=True).get_or_create(
        channel=inbound.channel,
        address=inbound.address,
        defaults={
            "display_name": inbound.profile_name[:200],
            "business_user_id": inbound.business_user_id[:128],
        },
    )
    if not created and inbound.profile_name and client.display_name != inbound.profile_name:
        client.display_name = inbound.profile_name[:200]
        client.save(update_fields=["display_name"])
    return client


def _update_profile(sender, inbound):
    client = sender.client
    if not sender.created and inbound.profile_name and client.display_name != inbound.profile_name:
        client.display_name = inbound.profile_name[:200]
        client.save(update_fields=["display_name"])


def _handle(
    client, inbound, *, store, lead=None, new_client=False, config_version=None, check_order=True
):
    """Run the right flow for a message of the locked `client`; returns (outcome, message).

    `store(lead, status)` writes the message row with its final lead and status; `lead` is the
    client's open lead when the caller locked it already.
    """
    # Detected once per message: the flows read it from the Turn.
    intent = detect_intent(inbound.body)
    opting_out = intent == Intent.OPT_OUT
    if not opting_out and _is_artist(client):
        # The artist writing to their own bot (it also opens WhatsApp's window for their notes).
        return Outcome.FROM_ARTIST, store(None, MessageStatus.IGNORED)
    # STOP always wins: neither the pilot allowlist nor panic mode holds it back.
    if not opting_out and not _allowlisted(client):
        message = store(None, MessageStatus.IGNORED)
        _notice(client, wording.pilot_not_available())
        return Outcome.NOT_ALLOWLISTED, message
    if not opting_out and settings.PANIC_MODE:
        message = store(None, MessageStatus.IGNORED)
        if _notice(client, wording.panic_holding_reply()):
            handover.note_to_artist(wording.panic_artist_note(client, message.body))
        return Outcome.PAUSED, message

    if lead is None:
        # A new lead starts with this message's time (a reaction does not count as one).
        first_inbound = None if inbound.kind in SILENT_KINDS else inbound.timestamp
        lead = _lock_current_lead(client, new_client=new_client, first_inbound=first_inbound)
    lead.client = client
    # Written with the turn's first lead UPDATE (the step's, usually), not a statement of its own.
    pending = {}
    # A reaction or a notice answers nothing, so it neither waits for nor moves the ordering
    # mark (an answer sent before it but delivered after must still count).
    if inbound.kind not in SILENT_KINDS:
        late = lead.last_inbound_at and inbound.timestamp < lead.last_inbound_at
        if check_order and late and not opting_out:
            # Older than what the lead already answered: keep it in the transcript only. A
            # late STOP still counts: it was meant before anything we said since.
            return Outcome.OUT_OF_ORDER, store(lead, MessageStatus.IGNORED)
        if lead.last_inbound_at is None or inbound.timestamp > lead.last_inbound_at:
            pending["last_inbound_at"] = inbound.timestamp
            lead.last_inbound_at = inbound.timestamp
    message = store(lead, MessageStatus.PROCESSED)
    dispatch.handle_message(
        lead,
        message,
        inbound,
        intent=intent,
        config_version=config_version,
        pending=pending,
        locked=True,
    )
    if pending:  # the flow wrote nothing to the lead that could carry it
        Lead.objects.filter(pk=lead.pk).update(**pending)
    return Outcome.PROCESSED, message


def _finish(message, lead, status):
    """A replayed message's row: its lead and status once the flow has run again."""
    Message.objects.filter(pk=message.pk).update(
        lead=lead, status=status, last_error="", updated_at=timezone.now()
    )
    message.lead, message.status = lead, status
    return message


def _lock_current_lead(client, *, new_client=False, first_inbound=None):
    """The client's latest lead, locked; a new one when there is none or it is closed.

    The caller holds the client's lock, so no other message can open a lead meanwhile. A lead
    it creates is as good as locked (no one else sees it before commit), and starts with
    `first_inbound` as its last_inbound_at.
    """
    if not new_client:
        lead = Lead.objects.select_for_update().for_client(client).first()
        if lead is not None and lead.status not in CLOSED_STATUSES:
            return lead
    return inbound_sql.insert_lead(client=client, last_inbound_at=first_inbound)


def _is_artist(client):
    # The client's address was normalised where its first message was parsed.
    artist = normalise_address(settings.ARTIST_PHONE)
    return bool(artist) and client.address == artist


def _allowlisted(client):
    allowlist = settings.PILOT_ALLOWLIST
    if not allowlist:
        return True
    return client.address in {normalise_address(entry) for entry in allowlist}


def _notice(client, body):
    """A one-off reply outside any lead, at most once a day per client."""
    now = timezone.now()
    claimed = (
        Client.objects.filter(pk=client.pk)
        .exclude(last_notice_at__gt=now - NOTICE_INTERVAL)
        .update(last_notice_at=now)
    )
    if claimed and not client.is_opted_out:
        outbox.queue_message(client, body, purpose="notice")
    return bool(claimed)


def _store_failed(inbound, error):
    """Keep a message that could not be handled, in its own transaction, for the artist.

    `error` is the exception its flow raised, or the reason it was never run.
    """
    reason = error if isinstance(error, str) else _describe(error)
    try:
        with transaction.atomic():
            message = _store(
                _lock_client(inbound), inbound, status=MessageStatus.FAILED, error=reason
            )
    except IntegrityError as exc:
        if _constraint_name(exc) == DUPLICATE_CONSTRAINT:
            # A concurrent delivery of the same message got through (or it was stored before).
            return InboundResult(inbound.external_id, Outcome.DUPLICATE)
        return _keep_invalid(inbound, f"{reason}; storing it failed: {_describe(exc)}")
    except DATABASE_DOWN:
        raise
    except Exception as exc:
        # Not even the row can be written: keep it as an event so it is not lost.
        return _keep_invalid(inbound, f"{reason}; storing it failed: {_describe(exc)}")
    return InboundResult(inbound.external_id, Outcome.FAILED, message.pk, reason)


def _keep_invalid(inbound, reason):
    """Keep a message that cannot be a Message row as a WebhookEvent, once per content."""
    logger.warning("Inbound message kept as an invalid event: %r", reason)
    record_other_event(
        inbound.channel,
        {"field": "invalid_message", "reason": reason, "value": {"message": inbound.raw}},
    )
    return InboundResult(inbound.external_id[:MAX_EXTERNAL_ID], Outcome.INVALID, error=reason)


def _payload(inbound):
    return {
        "raw": inbound.raw,
        "media": [dataclasses.asdict(m) for m in inbound.media],
        "location": inbound.location,
        "profile_name": inbound.profile_name,
        "context_id": inbound.context_id,
    }


def inbound_from_row(message):
    """Rebuild the parsed message from its stored row (for replays)."""
    payload = message.payload or {}
    return InboundMessage(
        channel=message.channel,
        external_id=message.external_id,
        address=message.client.address,
        timestamp=message.provider_timestamp or message.created_at,
        kind=message.kind,
        body=message.body,
        reply_id=message.reply_id,
        media=tuple(Media(**m) for m in payload.get("media", [])),
        location=payload.get("location"),
        profile_name=payload.get("profile_name", ""),
        business_user_id=message.client.business_user_id,
        context_id=payload.get("context_id", ""),
        raw=payload.get("raw", {}),
    )


def _constraint_name(exc):
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def _describe(error):
    return f"{type(error).__name__}: {error}"[:2000]


def record_other_event(provider, event):
    """Keep a provider event we do not act on (e.g. marketing preferences), once per content."""
    body = json.dumps(event, sort_keys=True, default=str)
    WebhookEvent.objects.bulk_create(
        [
            WebhookEvent(
                provider=provider,
                event_id=hashlib.sha256(body.encode()).hexdigest(),
                kind=str(event.get("field", ""))[:64],
                payload=json.loads(body),
            )
        ],
        ignore_conflicts=True,
    )


# -- Delivery receipts -------------------------------------------------------------------


def record_status_update(update):
    """Keep a delivery receipt once and apply it, now or when the send is recorded."""
    if len(update.external_id) > MAX_EXTERNAL_ID:
        # No message of ours has such an id, and the event row could not hold it.
        reason = f"receipt id longer than {MAX_EXTERNAL_ID} characters"
        record_other_event(
            update.channel,
            {"field": "invalid_status", "reason": reason, "value": {"id": update.external_id}},
        )
        return False
    with transaction.atomic():
        try:
            with transaction.atomic():
                WebhookEvent.objects.create(
                    provider=update.channel,
                    event_id=f"{update.external_id}:{update.status}",
                    subject=update.external_id,
                    kind="status",
                    payload={"status": update.status, "errors": list(update.errors)},
                    processed_at=timezone.now(),
                )
        except IntegrityError:
            return False
        # A receipt can beat the worker recording the provider's id; the send task applies
        # it then.
        return tasks.apply_receipts(update.channel, update.external_id, recipient=update.recipient)
