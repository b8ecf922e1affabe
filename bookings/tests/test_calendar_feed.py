"""The diary's iCalendar feed: what a phone subscribed to /calendar/<secret>.ics sees."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.urls import reverse

from bookings.models import Availability, CalendarFeed
from bookings.slots import Slot, book_slot, cancel_booking, hold_slot
from conversations.models import Answer

# Tuesday 3 June 2031, 09:00–12:00 UTC: 10:00–13:00 in London (BST).
SESSION = Slot(datetime(2031, 6, 3, 9, tzinfo=UTC), datetime(2031, 6, 3, 12, tzinfo=UTC))
NOW = datetime(2031, 6, 1, tzinfo=UTC)


@pytest.fixture
def feed_url(db):
    return reverse("calendar_feed", kwargs={"secret": CalendarFeed.load().secret})


def events(response):
    calendar = icalendar.Calendar.from_ical(response.content)
    return list(calendar.walk("VEVENT"))


def test_a_booked_session_shows_in_the_artists_time_zone(client, feed_url, make_lead):
    lead = make_lead(name="Sam")
    Answer.objects.create(lead=lead, question_key="idea", text="A fox on my forearm")
    book_slot(lead.pk, SESSION, now=NOW)

    response = client.get(feed_url)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    (event,) = events(response)
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert start.tzinfo.key == "Europe/London"
    assert (start.replace(tzinfo=None), end.replace(tzinfo=None)) == (
        datetime(2031, 6, 3, 10),
        datetime(2031, 6, 3, 13),
    )
    assert start == SESSION.start
    assert str(event["summary"]) == "Sam – A fox on my forearm"


def test_the_feed_carries_the_time_zone_definition(client, feed_url, make_lead):
    book_slot(make_lead().pk, SESSION, now=NOW)

    calendar = icalendar.Calendar.from_ical(client.get(feed_url).content)

    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]


def test_the_summary_uses_the_latest_idea(client, feed_url, make_lead):
    lead = make_lead(name="Sam")
    Answer.objects.create(lead=lead, question_key="idea", text="A fox", created_at=NOW)
    Answer.objects.create(
        lead=lead, question_key="idea", text="Two foxes", created_at=NOW + timedelta(hours=1)
    )
    book_slot(lead.pk, SESSION, now=NOW)

    (event,) = events(client.get(feed_url))

    assert str(event["summary"]) == "Sam – Two foxes"


def test_a_lead_without_an_idea_shows_the_client_name(client, feed_url, make_lead):
    book_slot(make_lead(name="Alex").pk, SESSION, now=NOW)

    (event,) = events(client.get(feed_url))

    assert str(event["summary"]) == "Alex"


def test_holds_and_cancelled_sessions_stay_out_of_the_feed(client, feed_url, make_lead):
    hold_slot(make_lead().pk, SESSION, now=NOW)
    later = Slot(SESSION.start + timedelta(days=1), SESSION.end + timedelta(days=1))
    cancel_booking(book_slot(make_lead().pk, later, now=NOW))

    assert events(client.get(feed_url)) == []


def test_times_follow_the_artists_time_zone_setting(client, feed_url, make_lead):
    availability = Availability.load()
    availability.time_zone = "America/New_York"
    availability.save()
    book_slot(make_lead().pk, SESSION, now=NOW)

    (event,) = events(client.get(feed_url))

    start = event.decoded("dtstart")
    assert start.tzinfo.key == "America/New_York"
    assert start.astimezone(ZoneInfo("America/New_York")).hour == 5


def test_a_wrong_secret_is_not_found(client, feed_url):
    response = client.get(reverse("calendar_feed", kwargs={"secret": "not-the-secret"}))

    assert response.status_code == 404


def test_rotating_the_secret_retires_the_old_address(client, feed_url):
    CalendarFeed.load().rotate()

    assert client.get(feed_url).status_code == 404
    fresh = reverse("calendar_feed", kwargs={"secret": CalendarFeed.load().secret})
    assert client.get(fresh).status_code == 200


def test_the_feed_takes_the_same_queries_however_many_sessions(
    client, feed_url, make_lead, django_assert_num_queries
):
    for day in range(3):
        lead = make_lead()
        Answer.objects.create(lead=lead, question_key="idea", text=f"Idea {day}")
        slot = Slot(SESSION.start + timedelta(days=day), SESSION.end + timedelta(days=day))
        book_slot(lead.pk, slot, now=NOW)
    Availability.load()

    # The secret, the availability, the bookings with their clients, the ideas.
    with django_assert_num_queries(4):
        response = client.get(feed_url)

    assert len(events(response)) == 3


def test_the_feed_answers_only_get(client, feed_url):
    assert client.post(feed_url).status_code == 405
