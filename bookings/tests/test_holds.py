"""Holding, booking and releasing diary time: the rules one lead at a time."""

from datetime import UTC, datetime, timedelta

import pytest

from bookings.models import Booking, Reservation, SlotHold
from bookings.slots import (
    HoldExpired,
    Slot,
    SlotTaken,
    book_hold,
    book_slot,
    cancel_booking,
    expire_holds,
    hold_slot,
    release_holds,
)

NOW = datetime(2031, 6, 1, 12, tzinfo=UTC)
SLOT = Slot(datetime(2031, 6, 3, 10, tzinfo=UTC), datetime(2031, 6, 3, 12, tzinfo=UTC))
LATER_SLOT = Slot(datetime(2031, 6, 4, 10, tzinfo=UTC), datetime(2031, 6, 4, 12, tzinfo=UTC))


def test_a_hold_lasts_twenty_minutes_by_default(make_lead):
    hold = hold_slot(make_lead().pk, SLOT, now=NOW)

    assert hold.expires_at == NOW + timedelta(minutes=20)
    assert (hold.start, hold.end) == (SLOT.start, SLOT.end)


def test_a_hold_for_a_deposit_lasts_until_the_deposit_expires(make_lead):
    until = NOW + timedelta(days=2)

    assert hold_slot(make_lead().pk, SLOT, until=until, now=NOW).expires_at == until


def test_another_lead_cannot_hold_time_already_held(make_lead):
    hold_slot(make_lead().pk, SLOT, now=NOW)

    with pytest.raises(SlotTaken):
        hold_slot(make_lead().pk, SLOT, now=NOW)


def test_back_to_back_slots_do_not_overlap(make_lead):
    hold_slot(make_lead().pk, SLOT, now=NOW)
    after = Slot(SLOT.end, SLOT.end + timedelta(hours=2))

    assert hold_slot(make_lead().pk, after, now=NOW).state == Reservation.State.HELD


def test_an_expired_hold_frees_the_slot_for_another_lead(make_lead):
    first = hold_slot(make_lead().pk, SLOT, now=NOW)

    hold_slot(make_lead().pk, SLOT, now=NOW + timedelta(minutes=20))

    first.refresh_from_db()
    assert first.state == Reservation.State.EXPIRED


def test_choosing_another_slot_releases_the_leads_earlier_hold(make_lead):
    lead = make_lead()
    first = hold_slot(lead.pk, SLOT, now=NOW)

    hold_slot(lead.pk, LATER_SLOT, now=NOW)

    first.refresh_from_db()
    assert first.state == Reservation.State.RELEASED
    assert SlotHold.objects.filter(lead=lead, state="held").count() == 1


def test_a_failed_hold_keeps_the_leads_earlier_hold(make_lead):
    lead = make_lead()
    mine = hold_slot(lead.pk, LATER_SLOT, now=NOW)
    hold_slot(make_lead().pk, SLOT, now=NOW)

    with pytest.raises(SlotTaken):
        hold_slot(lead.pk, SLOT, now=NOW)

    mine.refresh_from_db()
    assert mine.state == Reservation.State.HELD


def test_booking_a_hold_replaces_it_with_a_booking_of_the_same_time(make_lead):
    hold = hold_slot(make_lead().pk, SLOT, now=NOW)

    booking = book_hold(hold, now=NOW + timedelta(minutes=5))

    hold.refresh_from_db()
    assert (booking.state, booking.start, booking.end) == ("booked", SLOT.start, SLOT.end)
    assert booking.hold_id == hold.pk and booking.lead_id == hold.lead_id
    assert hold.state == Reservation.State.RELEASED
    assert Booking.objects.count() == 1


def test_booking_an_expired_hold_raises_hold_expired(make_lead):
    hold = hold_slot(make_lead().pk, SLOT, now=NOW)

    with pytest.raises(HoldExpired):
        book_hold(hold, now=NOW + timedelta(minutes=21))

    assert Booking.objects.count() == 0


def test_booking_a_released_hold_raises_hold_expired(make_lead):
    lead = make_lead()
    hold = hold_slot(lead.pk, SLOT, now=NOW)
    release_holds(lead.pk)

    with pytest.raises(HoldExpired):
        book_hold(hold, now=NOW)


def test_a_booking_keeps_other_leads_out(make_lead):
    book_slot(make_lead().pk, SLOT, now=NOW)

    with pytest.raises(SlotTaken):
        hold_slot(make_lead().pk, SLOT, now=NOW)
    with pytest.raises(SlotTaken):
        book_slot(make_lead().pk, SLOT, now=NOW)


def test_cancelling_a_booking_frees_its_time(make_lead):
    booking = book_slot(make_lead().pk, SLOT, now=NOW)

    assert cancel_booking(booking) == 1
    assert cancel_booking(booking) == 0
    assert hold_slot(make_lead().pk, SLOT, now=NOW).state == Reservation.State.HELD


def test_expire_holds_counts_only_lapsed_live_holds(make_lead):
    hold_slot(make_lead().pk, SLOT, now=NOW)
    hold_slot(make_lead().pk, LATER_SLOT, now=NOW + timedelta(minutes=10))

    assert expire_holds(NOW + timedelta(minutes=25)) == 1
    assert expire_holds(NOW + timedelta(minutes=25)) == 0


def test_the_database_refuses_overlapping_time_of_two_leads_even_without_the_api(make_lead):
    from django.db import IntegrityError, transaction

    first, second = make_lead(), make_lead()
    Booking.objects.create(lead=first, state="booked", period=SLOT.as_range())

    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(lead=second, state="booked", period=SLOT.as_range())
