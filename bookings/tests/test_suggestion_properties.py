"""Whatever is already in the diary, every suggestion is free, inside hours, and spaced."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings.models import Reservation, WorkingHours
from bookings.slots import Slot, book_slot, suggest_slots

LONDON = ZoneInfo("Europe/London")
# Monday 2 June 2031, 08:00 London: a fortnight of Mon–Fri 10:00–18:00 ahead.
NOW = datetime(2031, 6, 2, 8, tzinfo=LONDON)

existing = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=13),  # day
        st.integers(min_value=18, max_value=36),  # start, in half hours from midnight
        st.integers(min_value=1, max_value=8),  # length, in half hours
    ),
    max_size=12,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    booked=existing,
    size=st.sampled_from(["SMALL", "MEDIUM", "LARGE", "XL"]),
    buffer=st.sampled_from([0, 15, 30, 60]),
    notice=st.sampled_from([0, 5, 30]),
)
def test_suggestions_are_free_inside_hours_and_spaced(
    availability, make_lead, booked, size, buffer, notice
):
    with transaction.atomic():
        availability.buffer_minutes, availability.minimum_notice_hours = buffer, notice
        availability.save()
        lead = make_lead()
        for day, start, length in booked:
            begin = datetime.combine(NOW.date() + timedelta(days=day), time(), LONDON)
            begin += timedelta(minutes=30 * start)
            # One lead's bookings may overlap each other; the diary is just busier.
            book_slot(lead.pk, Slot(begin, begin + timedelta(minutes=30 * length)))

        slots = suggest_slots(size, now=NOW, count=6)

        check(slots, availability, size)
        transaction.set_rollback(True)


def check(slots, availability, size):
    buffer = timedelta(minutes=availability.buffer_minutes)
    busy = [(r.start, r.end) for r in Reservation.objects.filter(state="booked")]
    hours = {(h.weekday, h.start, h.end) for h in WorkingHours.objects.all()}
    assert slots == sorted(slots)
    for slot in slots:
        local = slot.local(LONDON)
        assert slot.start >= NOW + timedelta(hours=availability.minimum_notice_hours)
        assert slot.start < NOW + timedelta(days=availability.look_ahead_days)
        assert any(
            day == local.start.weekday()
            and start <= local.start.time()
            and (local.end + (timedelta(0) if size == "XL" else buffer)).time() <= end
            for day, start, end in hours
        )
        for busy_start, busy_end in busy:
            assert slot.end + buffer <= busy_start or slot.start >= busy_end + buffer
        if size != "XL":
            assert slot.length == availability.session_length(size)
            assert local.start.minute in (0, 30)
