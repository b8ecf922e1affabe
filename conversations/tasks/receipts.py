"""Delivery receipts: bring an outbound row up to the receipts stored for it, never backwards.

A receipt may also be the missing answer of a send whose outcome was unknown.
"""

import logging
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from conversations.models import Message, MessageStatus, WebhookEvent
from conversations.tasks.attempts import UNSENT
from conversations.tasks.sending import part_count

logger = logging.getLogger(__name__)

_RECEIPT_RANK = {"sent": 1, "delivered": 2, "read": 3}


@dataclass(frozen=True)
class Applied:
    changed: bool
    # A message whose missing part was answered: the rest of it has to go, at once.
    send_rest_of: int | None = None


def apply(channel, external_id, *, recipient=""):
    """Apply the stored receipts for `external_id`, in the caller's transaction.

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
        message, send_rest_of = _adopt_unanswered_send(channel, external_id, recipient)
        if send_rest_of is not None:
            return Applied(changed=False, send_rest_of=send_rest_of)
        adopted = message is not None
    if message is None:
        return Applied(changed=False)
    changes = _changes(message, external_id)
    if changes is None or message.status == changes["status"]:
        return Applied(changed=adopted)
    Message.objects.filter(pk=message.pk).update(**changes, updated_at=timezone.now())
    return Applied(changed=True)


def _changes(message, external_id):
    """What the stored receipts say the row should become; None when they say nothing new."""
    receipts = list(
        WebhookEvent.objects.filter(provider=message.channel, kind="status", subject=external_id)
        .order_by("received_at", "id")
        .values_list("payload", flat=True)
    )
    failures = [r for r in receipts if r.get("status") == "failed"]
    if failures:
        errors = [e for r in failures for e in r.get("errors", [])]
        return {
            "status": MessageStatus.FAILED,
            "last_error": "; ".join(
                f"{e.get('code')}: {e.get('title') or e.get('message')}" for e in errors
            )
            or "failed after the provider accepted it",
        }
    best = max((r.get("status") for r in receipts), key=_rank, default=None)
    if _rank(best) <= _rank(message.status):
        return None
    return {"status": best}


def _adopt_unanswered_send(channel, external_id, recipient):
    """Give the provider's id to the oldest send to `recipient` whose answer never came.

    That is an `unknown` row, or one whose attempt is claimed with no outcome yet (its worker
    may have died after sending). Returns (the row, when the id completes it, else None;
    the row's id when the id answered one part and the rest must still go, else None).
    """
    candidates = (
        Message.objects.outbound()
        .select_for_update(of=("self",))
        .filter(channel=channel, external_id="", client__address=recipient)
        .filter(Q(status=MessageStatus.UNKNOWN) | Q(status__in=UNSENT, claimed_until__isnull=False))
        .order_by("created_at", "id")
    )
    for message in candidates:
        sent = list(message.payload.get("sent_parts", []))
        if external_id in sent:
            return None, None  # an earlier part's receipt, not the missing answer
        sent.append(external_id)
        payload = {**message.payload, "sent_parts": sent}
        if len(sent) < part_count(message):
            # The missing part's answer: the rest still has to go.
            Message.objects.filter(pk=message.pk).update(
                payload=payload,
                status=MessageStatus.FAILED,
                next_attempt_at=None,
                claimed_until=None,
                updated_at=timezone.now(),
            )
            return None, message.pk
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
        return (message if sent[0] == external_id else None), None
    return None, None


def _rank(status):
    return _RECEIPT_RANK.get(status, 0)
