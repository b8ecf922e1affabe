"""Which sessions to offer: working hours minus closed days, bookings and live holds.

All arithmetic is done in UTC and every local time is built with zoneinfo from a date and a
wall-clock time, so a session offered for 10:00 in the week the clocks change is 10:00 local.
"""

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from bookings.models import WHOLE_DAY, Availability, ClosedDay, Reservation, WorkingHours
from bookings.slots.slot import Slot

# Sessions start on the half hour (local time), however a notice or a buffer falls.
START_STEP = timedelta(minutes=30)


def session_length(size_category, availability=None):
    """How long a session of this size category takes; XL: a whole working day."""
    return (availability or Availability.load()).session_length(size_category)


def suggest_slots(size_category, *, now=None, count=None):
    """The first `count` (the artist's number) free sessions, at most one per working stretch.

    A session plus the buffer after it lies inside one stretch of working hours and clear of
    every booking and live hold (and their buffers); none is sooner than the minimum notice
    or beyond the look-ahead, and none on a closed day. XL takes a whole free working day.
    """
    availability = Availability.load()
    # In UTC: adding hours to a zoneinfo datetime would add wall-clock hours across a change.
    now = (now or timezone.now()).astimezone(UTC)
    count = availability.slots_to_offer if count is None else count
    length = availability.session_length(size_category)
    earliest = now + availability.minimum_notice
    latest = now + availability.look_ahead
    diary = Diary(availability, earliest, latest, now)
    found = []
    for day_stretches in diary.working_days():
        if length == WHOLE_DAY:
            candidates = [diary.whole_day(day_stretches)]
        else:
            candidates = [diary.first_fit(stretch, length) for stretch in day_stretches]
        found.extend(slot for slot in candidates if slot is not None)
        if len(found) >= count:
            break
    return found[:count]


class Diary:
    """The artist's working stretches and busy time between two instants."""

    def __init__(self, availability, earliest, latest, now):
        self.zone = availability.zone
        self.buffer = availability.buffer
        self.earliest = earliest
        self.latest = latest
        self.hours = {}
        for row in WorkingHours.objects.filter(availability=availability):
            self.hours.setdefault(row.weekday, []).append((row.start, row.end))
        first_day = earliest.astimezone(self.zone).date()
        last_day = latest.astimezone(self.zone).date()
        self.days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
        self.closed = set(
            ClosedDay.objects.filter(date__range=(first_day, last_day)).values_list(
                "date", flat=True
            )
        )
        # Busy time runs to the end of each reservation's buffer.
        self.busy = [
            (period.lower, period.upper + self.buffer)
            for period in Reservation.objects.live(now)
            .overlapping(earliest - self.buffer - WHOLE_DAY, latest + WHOLE_DAY)
            .values_list("period", flat=True)
        ]

    def local(self, day, wall_time):
        """The UTC instant of a wall-clock time on a day in the artist's zone."""
        return datetime.combine(day, wall_time, tzinfo=self.zone).astimezone(UTC)

    def working_days(self):
        """Each open day's stretches of working hours as UTC (start, end), day by day."""
        for day in self.days:
            if day in self.closed or day.weekday() not in self.hours:
                continue
            yield [
                (self.local(day, start), self.local(day, end))
                for start, end in sorted(self.hours[day.weekday()])
            ]

    def is_free(self, start, end):
        return all(end <= busy_start or start >= busy_end for busy_start, busy_end in self.busy)

    def next_start(self, instant):
        """`instant` rounded up to the next whole START_STEP of local wall-clock time."""
        local = instant.astimezone(self.zone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
        steps = -(-(local.replace(tzinfo=None) - midnight) // START_STEP)
        return (midnight + steps * START_STEP).replace(tzinfo=self.zone).astimezone(UTC)

    def first_fit(self, stretch, length):
        """The earliest session (plus its buffer) that fits this stretch, or None."""
        stretch_start, stretch_end = stretch
        start = self.next_start(max(stretch_start, self.earliest))
        while start + length + self.buffer <= stretch_end and start <= self.latest:
            if self.is_free(start, start + length + self.buffer):
                return Slot(start, start + length)
            blocking_ends = [
                busy_end
                for busy_start, busy_end in self.busy
                if busy_start < start + length + self.buffer and busy_end > start
            ]
            start = self.next_start(max(blocking_ends))
        return None

    def whole_day(self, stretches):
        """The day's working span (first start to last end) if all of it is free, or None."""
        start, end = stretches[0][0], stretches[-1][1]
        if (
            start < self.earliest
            or start > self.latest
            or not self.is_free(start, end + self.buffer)
        ):
            return None
        return Slot(start, end)
