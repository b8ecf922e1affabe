"""A lead's deposit: the amount locked at approval, its Checkout Session, paid or expired.

One row per attempt (`Deposit`, unique (lead, attempt)). Creating the session is a call to
Stripe, so `ensure_link` runs with no lock held; everything else is a conditional UPDATE, so a
redelivered event or a racing sweep changes a row once.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings.deposits import checkout
from bookings.models import Deposit

__all__ = [
    "Deposit",
    "ensure_link",
    "find_for_session",
    "fresh_attempt",
    "lock",
    "mark_expired",
    "mark_paid",
]

S = Deposit.Status


def lock(lead_id, *, amount_minor, currency, rule):
    """The lead's deposit at approval: a new first attempt, or the open or paid one it has."""
    latest = Deposit.objects.latest_for(lead_id)
    lapsed = latest is not None and latest.status == S.OPEN and latest.url
    if lapsed and not latest.link_is_live():
        mark_expired(latest)  # approved again after its link lapsed: a fresh attempt
        return fresh_attempt(latest)
    if latest is not None and latest.status in (S.OPEN, S.PAID):
        return latest  # approved again (after a handover, say): the amount stays as locked
    attempt = latest.attempt + 1 if latest else 1
    return _create(lead_id, attempt, amount_minor=amount_minor, currency=currency, rule=rule)


def fresh_attempt(previous):
    """The next attempt after `previous` lapsed: same amount and rule, a new link to come."""
    return _create(
        previous.lead_id,
        previous.attempt + 1,
        amount_minor=previous.amount_minor,
        currency=previous.currency,
        rule=previous.rule,
    )


def _create(lead_id, attempt, **fields):
    try:
        with transaction.atomic():
            return Deposit.objects.create(lead_id=lead_id, attempt=attempt, **fields)
    except IntegrityError:
        # Someone created this attempt first (the unique pair): theirs is the one.
        return Deposit.objects.get(lead_id=lead_id, attempt=attempt)


# Stripe accepts a session lifetime of 30 minutes to 24 hours, measured on its own clock:
# a few minutes inside either bound, so a clock a little off never gets the session refused.
LINK_LIFETIME_BOUNDS = (timedelta(minutes=35), timedelta(hours=24) - timedelta(minutes=5))


def link_lifetime():
    shortest, longest = LINK_LIFETIME_BOUNDS
    return min(max(timedelta(hours=settings.DEPOSIT_LINK_HOURS), shortest), longest)


def ensure_link(deposit_id, *, description, now=None):
    """The deposit's Checkout Session, created at most once; call it with no lock held.

    A retry after a crash asks Stripe again with the same idempotency key and gets the same
    session back. Returns the fresh row (an already paid or expired one is left alone).
    """
    deposit = Deposit.objects.get(pk=deposit_id)
    if deposit.status != S.OPEN or deposit.checkout_session_id:
        return deposit
    now = now or timezone.now()
    session = checkout.create_session(
        lead_id=deposit.lead_id,
        attempt=deposit.attempt,
        amount_minor=deposit.amount_minor,
        currency=deposit.currency,
        description=description,
        expires_at=now + link_lifetime(),
    )
    Deposit.objects.filter(pk=deposit.pk, checkout_session_id__isnull=True).update(
        checkout_session_id=session.id, url=session.url, expires_at=session.expires_at
    )
    deposit.refresh_from_db()
    return deposit


def find_for_session(session_id, metadata=None):
    """The deposit a Checkout Session pays: by its id, else by the lead and attempt it carries."""
    deposit = Deposit.objects.filter(checkout_session_id=session_id).first()
    if deposit is not None or not metadata:
        return deposit
    try:
        lead_id, attempt = int(metadata.get("lead_id")), int(metadata.get("attempt"))
    except (TypeError, ValueError):
        return None
    if not (0 < lead_id < 2**31 and 0 < attempt < 2**15):
        return None  # no such row could exist (and the query would overflow the columns)
    # A session whose id we never recorded (the task died after Stripe answered).
    deposit = Deposit.objects.filter(lead_id=lead_id, attempt=attempt).first()
    if deposit is not None and not deposit.checkout_session_id:
        Deposit.objects.filter(pk=deposit.pk, checkout_session_id__isnull=True).update(
            checkout_session_id=session_id
        )
        deposit.refresh_from_db()
    return deposit


def mark_paid(deposit, *, via, now=None):
    """Record the payment once; True if this call recorded it (an expired link still counts)."""
    now = now or timezone.now()
    changed = (
        Deposit.objects.filter(pk=deposit.pk)
        .exclude(status=S.PAID)
        .update(status=S.PAID, paid_at=now, paid_via=via[:255])
    )
    deposit.refresh_from_db()
    return bool(changed)


def mark_expired(deposit):
    """An open deposit's link lapsed; True if this call marked it (a paid one stays paid)."""
    changed = Deposit.objects.filter(pk=deposit.pk, status=S.OPEN).update(status=S.EXPIRED)
    deposit.refresh_from_db()
    return bool(changed)
