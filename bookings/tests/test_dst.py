"""Suggestions in the weeks the clocks change in London (2027: 28 March and 31 October)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bookings.models import WorkingHours
from bookings.slots import suggest_slots

LONDON = ZoneInfo("Europe/London")


def local_times(slots):
    return [
        (
            s.start.astimezone(LONDON).strftime("%a %d %b %H:%M"),
            s.end.astimezone(LONDON).strftime("%H:%M"),
        )
        for s in slots
    ]


def every_day(availability):
    """The fixture's weekdays plus the weekend, so the Sunday of the change is a working day."""
    WorkingHours.objects.create(availability=availability, weekday=5, start=time(10), end=time(18))
    WorkingHours.objects.create(availability=availability, weekday=6, start=time(10), end=time(18))


def test_the_week_the_clocks_go_forward_keeps_sessions_at_ten_local(availability):
    every_day(availability)
    # Friday 26 March 2027, 09:00 GMT; the clocks go forward at 01:00 GMT on Sunday 28th.
    now = datetime(2027, 3, 26, 9, tzinfo=LONDON)

    slots = suggest_slots("LARGE", now=now, count=5)

    assert local_times(slots) == [
        ("Fri 26 Mar 10:00", "14:00"),
        ("Sat 27 Mar 10:00", "14:00"),
        ("Sun 28 Mar 10:00", "14:00"),
        ("Mon 29 Mar 10:00", "14:00"),
        ("Tue 30 Mar 10:00", "14:00"),
    ]
    # 10:00 GMT before the change, 10:00 BST (09:00 UTC) after it.
    assert [s.start.utcoffset() for s in slots] == [timedelta(0)] * 5
    assert [s.start.hour for s in slots] == [10, 10, 9, 9, 9]
    assert all(s.length == timedelta(hours=4) for s in slots)


def test_the_week_the_clocks_go_back_keeps_sessions_at_ten_local(availability):
    every_day(availability)
    # Friday 29 October 2027, 09:00 BST; the clocks go back at 01:00 GMT on Sunday 31st.
    now = datetime(2027, 10, 29, 9, tzinfo=LONDON)

    slots = suggest_slots("LARGE", now=now, count=5)

    assert local_times(slots) == [
        ("Fri 29 Oct 10:00", "14:00"),
        ("Sat 30 Oct 10:00", "14:00"),
        ("Sun 31 Oct 10:00", "14:00"),
        ("Mon 01 Nov 10:00", "14:00"),
        ("Tue 02 Nov 10:00", "14:00"),
    ]
    assert [s.start.hour for s in slots] == [9, 9, 10, 10, 10]
    assert all(s.length == timedelta(hours=4) for s in slots)


def test_minimum_notice_across_the_change_counts_real_hours(availability):
    every_day(availability)
    availability.minimum_notice_hours = 24
    availability.save()
    # Saturday 27 March 2027 11:00 GMT + 24 real hours = Sunday 12:00 BST.
    now = datetime(2027, 3, 27, 11, tzinfo=LONDON)

    slots = suggest_slots("SMALL", now=now, count=1)

    assert local_times(slots) == [("Sun 28 Mar 12:00", "14:00")]
