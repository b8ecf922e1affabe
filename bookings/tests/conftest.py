"""Fixtures for the diary's tests: leads to reserve for, and a working week."""

import itertools
from datetime import UTC, datetime, time

import pytest

from bookings.models import Availability, WorkingHours
from bookings.tests.stripe_fake import stripe_api  # noqa: F401 (a fixture)
from conversations.models import Client, Lead

_phones = itertools.count(447700910001)


@pytest.fixture
def make_lead(db):
    """A lead of a new client (its status does not matter to the diary)."""

    def make(name="Sam"):
        client = Client.objects.create(
            channel="whatsapp", address=str(next(_phones)), display_name=name
        )
        return Lead.objects.create(client=client)

    return make


@pytest.fixture
def availability(db):
    """Monday to Friday 10:00–18:00 in London, no buffer or notice unless a test sets them."""
    row = Availability.load()
    row.working_hours.all().delete()
    row.buffer_minutes = 0
    row.minimum_notice_hours = 0
    row.look_ahead_days = 14
    row.save()
    for day in range(5):
        WorkingHours.objects.create(availability=row, weekday=day, start=time(10), end=time(18))
    return row


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)
