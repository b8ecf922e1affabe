"""Reminders of a booked session 48 and 24 hours before it (manage.py send_reminders)."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from bookings.models import SessionReminder
from bookings.slots import Slot, book_slot, cancel_booking
from conversations.flows import reminders
from conversations.models import Message, MessageStatus
from conversations.tests.threads import run_at_once

# Thursday 5 June 2031, 09:00 UTC: 10:00 in London (BST).
START = datetime(2031, 6, 5, 9, tzinfo=UTC)
SESSION = Slot(START, START + timedelta(hours=3))
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)


@pytest.fixture
def booked(make_lead):
    """A booked session of a client who last wrote `wrote_before` the session starts."""

    def make(slot=SESSION, *, channel="whatsapp", wrote=None):
        lead = make_lead(name="Sam Jones")
        lead.client.channel = channel
        lead.client.save()
        Message.objects.create(
            client=lead.client,
            lead=lead,
            channel=channel,
            direction="in",
            external_id=f"wamid.session-{lead.pk}",
            body="Paid!",
            status=MessageStatus.PROCESSED,
            created_at=wrote or START - 48 * HOUR,
        )
        return book_slot(lead.pk, slot, now=START - 72 * HOUR)

    return make


def sent(booking):
    return list(Message.objects.filter(lead_id=booking.lead_id, direction="out").order_by("id"))


def remind_at(now):
    return reminders.send_session_reminders(now=now)


def test_nothing_is_sent_more_than_48_hours_before(booked):
    booking = booked()

    assert sum(remind_at(START - 48 * HOUR - SECOND).values()) == 0
    assert sent(booking) == []


def test_the_48_hour_reminder_goes_once(booked):
    booking = booked()

    assert remind_at(START - 47 * HOUR)["session_48h"] == 1
    assert remind_at(START - 46 * HOUR)["session_48h"] == 0

    (message,) = sent(booking)
    assert message.payload["purpose"] == "session_reminder"
    assert "Thursday 5 June at 10:00" in message.body
    assert message.body.startswith("Hi Sam!")
    assert SessionReminder.objects.get().kind == "48h"


def test_the_24_hour_reminder_follows_and_says_tomorrow(booked):
    booking = booked(wrote=START - 30 * HOUR)
    remind_at(START - 47 * HOUR)

    assert remind_at(START - 23 * HOUR)["session_24h"] == 1

    first, second = sent(booking)
    assert "tomorrow at 10:00" in second.body
    assert second.body != first.body
    assert remind_at(START - 2 * HOUR)["session_24h"] == 0


def test_a_session_booked_a_day_ahead_gets_only_the_24_hour_reminder(booked):
    booking = booked(wrote=START - 20 * HOUR)

    outcomes = remind_at(START - 20 * HOUR)

    assert (outcomes["session_48h"], outcomes["session_24h"]) == (0, 1)
    assert len(sent(booking)) == 1


def test_a_cancelled_session_is_not_reminded(booked):
    booking = booked()
    cancel_booking(booking)

    assert sum(remind_at(START - 47 * HOUR).values()) == 0


def test_a_client_who_opted_out_is_not_reminded(booked):
    booking = booked()
    client = booking.lead.client
    client.opted_out_at = START - 50 * HOUR
    client.save()

    assert sum(remind_at(START - 47 * HOUR).values()) == 0
    assert sent(booking) == []


def test_no_reminder_outside_the_whatsapp_window_without_a_template(booked):
    booking = booked(wrote=START - 80 * HOUR)

    assert remind_at(START - 47 * HOUR)[reminders.OUTSIDE_WINDOW] == 1
    assert sent(booking) == []
    assert not SessionReminder.objects.exists()


def test_outside_the_window_the_reminder_rides_the_template(booked, settings):
    settings.REMINDER_TEMPLATE = "session_reminder"
    booking = booked(wrote=START - 80 * HOUR)

    remind_at(START - 47 * HOUR)

    (message,) = sent(booking)
    assert message.payload["template"]["name"] == "session_reminder"


def test_sms_clients_are_reminded_whenever(booked):
    booking = booked(channel="sms", wrote=START - 80 * HOUR)

    assert remind_at(START - 47 * HOUR)["session_48h"] == 1
    assert len(sent(booking)) == 1


def test_panic_mode_sends_nothing(booked, settings):
    settings.PANIC_MODE = True
    booked()

    assert remind_at(START - 47 * HOUR) == {reminders.PAUSED: 1}


def test_the_command_reports_session_reminders(booked):
    booking = booked()
    out = StringIO()

    with time_machine.travel(START - 47 * HOUR, tick=False):
        call_command("send_reminders", "--dry-run", stdout=out)

    output = out.getvalue()
    assert f"would send the 48h session reminder for booking #{booking.pk}" in output
    assert "would send 1 48-hour and 0 24-hour session reminder(s)" in output
    assert sent(booking) == []


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_send_one_session_reminder(booked):
    booking = booked()
    results = run_at_once(2, lambda i: remind_at(START - 47 * HOUR))

    assert sum(r["session_48h"] for r in results) == 1
    assert SessionReminder.objects.filter(booking_id=booking.pk).count() == 1
    assert len(sent(booking)) == 1
