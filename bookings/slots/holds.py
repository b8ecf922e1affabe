"""Reserving diary time: holds, bookings, releases. PostgreSQL's exclusion constraint decides.

Each insert runs in a savepoint; the constraint's violation (another lead's live hold or
booking overlaps) becomes SlotTaken. Nothing here checks-then-inserts: a concurrent insert
of another lead waits on ours and then fails, so exactly one wins however many race.
"""

from datetime import UTC, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings.models import Booking, Reservation, SlotHold
from bookings.slots.slot import HoldExpired, Slot, SlotTaken

HOLD_TTL = timedelta(minutes=20)
# The constraint that makes a conflict an IntegrityError; any other IntegrityError is a bug.
NO_OVERLAP = "reservation_no_overlap_between_leads"


def expire_holds(now=None, *, overlapping=None):
    """Mark holds past their expiry EXPIRED so their time is free again; returns how many."""
    now = now or timezone.now()
    lapsed = Reservation.objects.filter(
        kind=Reservation.Kind.HOLD, state=Reservation.State.HELD, expires_at__lte=now
    )
    if overlapping is not None:
        lapsed = lapsed.overlapping(*overlapping.as_range())
    return lapsed.update(state=Reservation.State.EXPIRED, ended_at=now)


def release_holds(lead_id, *, now=None):
    """Give back every live hold of a lead (a new choice, a handover, STOP); returns how many."""
    now = now or timezone.now()
    return SlotHold.objects.filter(lead_id=lead_id, state=Reservation.State.HELD).update(
        state=Reservation.State.RELEASED, ended_at=now
    )


def hold_slot(lead_id, slot, *, ttl=HOLD_TTL, until=None, now=None):
    """Reserve `slot` for a lead until `until` (e.g. the deposit's expiry) or for `ttl`.

    The lead's other holds are released (one choice at a time). Raises SlotTaken when another
    lead's live hold or booking overlaps; lapsed holds in the way are expired first, and the
    insert is tried once more in case one lapsed while we waited on it.
    """
    now = (now or timezone.now()).astimezone(UTC)
    expires_at = until or now + ttl
    if expires_at <= now:
        raise ValueError("A hold must expire after it is made")
    with transaction.atomic():
        release_holds(lead_id, now=now)
        for attempt in range(2):
            expire_holds(now, overlapping=slot)
            try:
                return _insert(
                    SlotHold,
                    lead_id=lead_id,
                    state=Reservation.State.HELD,
                    period=slot.as_range(),
                    expires_at=expires_at,
                    created_at=now,
                )
            except SlotTaken:
                if attempt:
                    raise
    raise AssertionError("unreachable")


def book_hold(hold, *, now=None):
    """Turn a live hold into a booking, in one transaction: the booking in, the hold released.

    Raises HoldExpired when the hold lapsed or was released, SlotTaken if its time was lost.
    """
    now = now or timezone.now()
    with transaction.atomic():
        hold = SlotHold.objects.select_for_update().get(pk=hold.pk)
        if hold.state != Reservation.State.HELD or hold.expires_at <= now:
            if hold.state == Reservation.State.HELD:
                hold.state, hold.ended_at = Reservation.State.EXPIRED, now
                hold.save(update_fields=["state", "ended_at"])
            raise HoldExpired(f"Hold #{hold.pk} is {hold.state}")
        booking = _insert(
            Booking,
            lead_id=hold.lead_id,
            state=Reservation.State.BOOKED,
            period=(hold.start, hold.end),
            hold=hold,
            created_at=now,
        )
        hold.state, hold.ended_at = Reservation.State.RELEASED, now
        hold.save(update_fields=["state", "ended_at"])
        return booking


def book_slot(lead_id, slot, *, now=None):
    """Book `slot` for a lead directly (the artist, from the admin), replacing its holds."""
    now = now or timezone.now()
    with transaction.atomic():
        expire_holds(now, overlapping=slot)
        booking = _insert(
            Booking,
            lead_id=lead_id,
            state=Reservation.State.BOOKED,
            period=slot.as_range(),
            created_at=now,
        )
        release_holds(lead_id, now=now)
        return booking


def cancel_booking(booking, *, now=None):
    """Cancel a booked session; its time is free at once. Cancelling twice changes nothing."""
    now = now or timezone.now()
    return Booking.objects.filter(pk=booking.pk, state=Reservation.State.BOOKED).update(
        state=Reservation.State.CANCELLED, ended_at=now
    )


def slot_of(reservation):
    return Slot(reservation.start, reservation.end)


def _insert(model, **fields):
    try:
        with transaction.atomic():
            return model.objects.create(**fields)
    except IntegrityError as error:
        if NO_OVERLAP in str(error):
            raise SlotTaken(f"{fields['period']} overlaps another lead's time") from error
        raise
