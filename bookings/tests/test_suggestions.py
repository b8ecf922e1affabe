"""Which sessions are offered: working hours minus closed days, bookings and live holds."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bookings.models import ClosedDay, WorkingHours
from bookings.slots import (
    Slot,
    book_slot,
    cancel_booking,
    hold_slot,
    session_length,
    suggest_slots,
)

LONDON = ZoneInfo("Europe/London")
# Monday 2 June 2031, 08:00 in London (BST): the fixture's week is Mon–Fri 10:00–18:00.
MONDAY_MORNING = datetime(2031, 6, 2, 8, tzinfo=LONDON)


def at(day, hour, minute=0):
    """A London wall-clock time on a day of June 2031."""
    return datetime(2031, 6, day, hour, minute, tzinfo=LONDON)


def starts(slots):
    return [slot.start.astimezone(LONDON).strftime("%a %d %H:%M") for slot in slots]


def test_each_working_day_offers_its_first_free_session(availability):
    slots = suggest_slots("SMALL", now=MONDAY_MORNING)

    assert starts(slots) == ["Mon 02 10:00", "Tue 03 10:00", "Wed 04 10:00", "Thu 05 10:00"]
    assert all(slot.length == timedelta(hours=2) for slot in slots)


def test_the_count_defaults_to_the_artists_number(availability):
    availability.slots_to_offer = 2
    availability.save()

    assert len(suggest_slots("SMALL", now=MONDAY_MORNING)) == 2
    assert len(suggest_slots("SMALL", now=MONDAY_MORNING, count=5)) == 5


def test_session_length_follows_the_size_category(availability):
    assert session_length("SMALL") == timedelta(hours=2)
    assert session_length("MEDIUM") == timedelta(hours=3)
    assert session_length("LARGE") == timedelta(hours=4)


def test_minimum_notice_pushes_the_first_session_to_the_next_half_hour(availability):
    availability.minimum_notice_hours = 5
    availability.save()

    slots = suggest_slots("SMALL", now=at(2, 8, 10), count=2)

    assert starts(slots) == ["Mon 02 13:30", "Tue 03 10:00"]


def test_a_session_and_its_buffer_must_end_inside_working_hours(availability):
    availability.buffer_minutes = 30
    availability.minimum_notice_hours = 6
    availability.save()

    # From 14:00 a 4-hour session plus 30 minutes would end 18:30, after closing.
    slots = suggest_slots("LARGE", now=at(2, 8), count=1)

    assert starts(slots) == ["Tue 03 10:00"]


def test_a_booked_session_and_its_buffer_are_not_offered_again(availability, make_lead):
    availability.buffer_minutes = 30
    availability.save()
    book_slot(make_lead().pk, Slot(at(2, 10), at(2, 13)))

    slots = suggest_slots("SMALL", now=MONDAY_MORNING, count=2)

    assert starts(slots) == ["Mon 02 13:30", "Tue 03 10:00"]


def test_a_session_before_a_booking_leaves_the_buffer_free(availability, make_lead):
    availability.buffer_minutes = 30
    availability.save()
    book_slot(make_lead().pk, Slot(at(2, 12), at(2, 18)))

    slots = suggest_slots("SMALL", now=MONDAY_MORNING, count=1)

    # 10:00–12:00 would leave no buffer before the 12:00 booking.
    assert starts(slots) == ["Tue 03 10:00"]


def test_a_live_hold_is_not_offered_but_an_expired_one_is(availability, make_lead):
    hold_slot(make_lead().pk, Slot(at(2, 10), at(2, 18)), until=at(2, 9))

    assert starts(suggest_slots("SMALL", now=at(2, 8), count=1)) == ["Tue 03 10:00"]
    assert starts(suggest_slots("SMALL", now=at(2, 9, 1), count=1)) == ["Mon 02 10:00"]


def test_a_cancelled_booking_frees_its_time(availability, make_lead):
    booking = book_slot(make_lead().pk, Slot(at(2, 10), at(2, 18)))
    cancel_booking(booking)

    assert starts(suggest_slots("SMALL", now=MONDAY_MORNING, count=1)) == ["Mon 02 10:00"]


def test_closed_days_and_days_without_hours_are_skipped(availability):
    ClosedDay.objects.create(date=date(2031, 6, 3), reason="Convention")

    slots = suggest_slots("SMALL", now=MONDAY_MORNING, count=5)

    assert starts(slots) == [
        "Mon 02 10:00",
        "Wed 04 10:00",
        "Thu 05 10:00",
        "Fri 06 10:00",
        "Mon 09 10:00",
    ]


def test_each_stretch_of_a_split_day_offers_a_session(availability):
    WorkingHours.objects.filter(weekday=0).delete()
    WorkingHours.objects.create(weekday=0, start=time(10), end=time(13))
    WorkingHours.objects.create(weekday=0, start=time(14), end=time(19))

    slots = suggest_slots("MEDIUM", now=MONDAY_MORNING, count=3)

    assert starts(slots) == ["Mon 02 10:00", "Mon 02 14:00", "Tue 03 10:00"]


def test_nothing_starts_beyond_the_look_ahead(availability):
    availability.look_ahead_days = 2
    availability.save()

    # Two days from Monday 08:00 end on Wednesday 08:00, before its 10:00 opening.
    slots = suggest_slots("SMALL", now=MONDAY_MORNING, count=10)

    assert starts(slots) == ["Mon 02 10:00", "Tue 03 10:00"]


def test_xl_takes_a_whole_free_working_day(availability, make_lead):
    book_slot(make_lead().pk, Slot(at(2, 16), at(2, 17)))

    slots = suggest_slots("XL", now=MONDAY_MORNING, count=2)

    assert slots == [Slot(at(3, 10), at(3, 18)), Slot(at(4, 10), at(4, 18))]


def test_suggestions_are_aware_datetimes_in_utc(availability):
    (slot,) = suggest_slots("SMALL", now=MONDAY_MORNING, count=1)

    assert slot.start == datetime(2031, 6, 2, 9, tzinfo=UTC)
