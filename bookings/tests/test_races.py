"""Races on real PostgreSQL: many leads reserving the same time, each thread its own connection."""

from datetime import UTC, datetime, timedelta

import pytest

from bookings.models import Reservation
from bookings.slots import Slot, SlotTaken, book_hold, book_slot, hold_slot
from conversations.tests.threads import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)

TEN = datetime(2031, 6, 3, 10, tzinfo=UTC)


def live_count():
    return Reservation.objects.filter(state__in=Reservation.LIVE_STATES).count()


def test_twenty_leads_holding_the_same_slot_make_exactly_one_hold(make_lead):
    leads = [make_lead() for _ in range(20)]
    slot = Slot(TEN, TEN + timedelta(hours=2))

    results = run_at_once(20, lambda i: hold_slot(leads[i].pk, slot))

    assert sum(isinstance(r, Reservation) for r in results) == 1
    assert sum(isinstance(r, SlotTaken) for r in results) == 19
    assert live_count() == 1


def test_twenty_leads_holding_overlapping_different_slots_make_exactly_one_hold(make_lead):
    leads = [make_lead() for _ in range(20)]
    # Each starts 5 minutes after the last and lasts 2 hours: every pair overlaps.
    slots = [
        Slot(TEN + timedelta(minutes=5 * i), TEN + timedelta(minutes=5 * i, hours=2))
        for i in range(20)
    ]

    results = run_at_once(20, lambda i: hold_slot(leads[i].pk, slots[i]))

    assert sum(isinstance(r, Reservation) for r in results) == 1
    assert sum(isinstance(r, SlotTaken) for r in results) == 19
    assert live_count() == 1


def test_a_hold_racing_a_booking_of_another_lead_leaves_one(make_lead):
    holder, booker = make_lead(), make_lead()
    slot = Slot(TEN, TEN + timedelta(hours=3))
    overlapping = Slot(TEN + timedelta(hours=1), TEN + timedelta(hours=4))

    def work(i):
        return hold_slot(holder.pk, slot) if i == 0 else book_slot(booker.pk, overlapping)

    results = run_at_once(2, work)

    assert sum(isinstance(r, Reservation) for r in results) == 1
    assert sum(isinstance(r, SlotTaken) for r in results) == 1
    assert live_count() == 1


def test_booking_a_hold_racing_another_leads_hold_after_it_lapsed_leaves_one(make_lead):
    first, second = make_lead(), make_lead()
    slot = Slot(TEN, TEN + timedelta(hours=2))
    made = datetime(2031, 6, 1, 12, tzinfo=UTC)
    hold = hold_slot(first.pk, slot, now=made)
    # Both act just after the first hold's TTL: booking it fails, or the new hold waits on it.
    later = made + timedelta(minutes=21)

    def work(i):
        return book_hold(hold, now=later) if i == 0 else hold_slot(second.pk, slot, now=later)

    results = run_at_once(2, work)

    assert live_count() == 1
    assert sum(isinstance(r, Reservation) for r in results) == 1


def test_twenty_leads_racing_for_a_slot_an_expired_hold_left_make_exactly_one_hold(make_lead):
    leads = [make_lead() for _ in range(21)]
    slot = Slot(TEN, TEN + timedelta(hours=2))
    made = datetime(2031, 6, 1, 12, tzinfo=UTC)
    lapsed = hold_slot(leads[0].pk, slot, now=made)
    later = made + timedelta(minutes=30)

    results = run_at_once(20, lambda i: hold_slot(leads[i + 1].pk, slot, now=later))

    assert sum(isinstance(r, Reservation) for r in results) == 1
    assert sum(isinstance(r, SlotTaken) for r in results) == 19
    assert live_count() == 1
    lapsed.refresh_from_db()
    assert lapsed.state == Reservation.State.EXPIRED
