"""One send attempt's bookkeeping on the outbound row: claim it, record its outcome, back off."""

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from conversations.models import Message, MessageStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 30

# The one purpose that still goes to a client who has opted out (the outbox queues it too).
OPT_OUT_CONFIRMATION = "opt_out_confirmation"
# Set on a message whose outcome was unknown when it is sent again: it is never resent twice.
RESENT_AFTER_UNKNOWN = "resent_after_unknown"
UNSENT = (MessageStatus.QUEUED, MessageStatus.FAILED, MessageStatus.UNKNOWN)


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


def record(message, **changes):
    """Write an attempt's outcome, unless our claim lapsed and another worker took the row."""
    changes.setdefault("claimed_until", None)
    changes["updated_at"] = timezone.now()
    recorded = Message.objects.filter(pk=message.pk, claimed_until=message.claimed_until).update(
        **changes
    )
    if not recorded:
        logger.warning("Claim on message %s lapsed; its outcome was not recorded", message.pk)
    return recorded
