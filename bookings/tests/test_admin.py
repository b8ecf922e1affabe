"""The diary in the admin: availability with its hours, sessions, and the feed's secret."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from bookings.models import Availability, Booking, CalendarFeed, WorkingHours
from bookings.slots import Slot, book_slot, hold_slot

# Tuesday 3 June 2031, 10:00–13:00 in London.
SESSION = Slot(datetime(2031, 6, 3, 9, tzinfo=UTC), datetime(2031, 6, 3, 12, tzinfo=UTC))
NOW = datetime(2031, 6, 1, tzinfo=UTC)


@pytest.fixture
def artist(admin_client):
    return admin_client


def test_the_availability_list_opens_its_one_row(artist):
    response = artist.get(reverse("admin:bookings_availability_changelist"))

    assert response.status_code == 302
    assert response.url == reverse("admin:bookings_availability_change", args=[1])


def test_the_availability_page_edits_working_hours_inline(artist):
    Availability.load()

    response = artist.get(reverse("admin:bookings_availability_change", args=[1]))

    assert response.status_code == 200
    assert b"working_hours-TOTAL_FORMS" in response.content
    assert WorkingHours.objects.count() == 5  # the starting week: Tuesday to Saturday


def test_the_feed_page_shows_the_subscription_address(artist):
    secret = CalendarFeed.load().secret

    response = artist.get(reverse("admin:bookings_calendarfeed_change", args=[1]))

    assert f"/calendar/{secret}.ics".encode() in response.content


def test_rotating_the_secret_from_the_admin_changes_the_address(artist):
    old = CalendarFeed.load().secret

    response = artist.post(reverse("admin:bookings_calendarfeed_rotate", args=[1]))

    assert response.status_code == 302
    new = CalendarFeed.load().secret
    assert new != old
    page = artist.get(reverse("admin:bookings_calendarfeed_change", args=[1]))
    assert f"/calendar/{new}.ics".encode() in page.content


def test_a_get_does_not_rotate_the_secret(artist):
    old = CalendarFeed.load().secret

    artist.get(reverse("admin:bookings_calendarfeed_rotate", args=[1]))

    assert CalendarFeed.load().secret == old


def test_sessions_are_listed_and_cancelled_from_the_admin(artist, make_lead):
    booking = book_slot(make_lead().pk, SESSION, now=NOW)
    changelist = reverse("admin:bookings_booking_changelist")

    assert artist.get(changelist).status_code == 200
    artist.post(changelist, {"action": "cancel_sessions", "_selected_action": [booking.pk]})

    booking.refresh_from_db()
    assert booking.state == "cancelled"


def test_a_session_page_shows_its_local_time(artist, make_lead):
    booking = book_slot(make_lead().pk, Slot(SESSION.start, SESSION.end), now=NOW)

    response = artist.get(reverse("admin:bookings_booking_change", args=[booking.pk]))

    assert b"Tue 03 Jun 2031, 10:00\xe2\x80\x9313:00" in response.content
    assert isinstance(Booking.objects.get(), Booking)


def test_holds_are_listed_with_whether_they_still_hold_the_time(artist, make_lead):
    hold_slot(make_lead().pk, SESSION, now=NOW)

    response = artist.get(reverse("admin:bookings_slothold_changelist"))

    assert response.status_code == 200
    assert b"Still holds the time" in response.content


def test_an_unknown_time_zone_is_refused(artist):
    Availability.load()
    page = reverse("admin:bookings_availability_change", args=[1])
    form = {
        "time_zone": "Europe/Atlantis",
        "slots_to_offer": 4,
        "buffer_minutes": 30,
        "minimum_notice_hours": 48,
        "look_ahead_days": 60,
        "small_session_hours": 2,
        "medium_session_hours": 3,
        "large_session_hours": 4,
        "working_hours-TOTAL_FORMS": 0,
        "working_hours-INITIAL_FORMS": 0,
    }

    response = artist.post(page, form)

    assert response.status_code == 200
    assert b"Not a known time zone" in response.content
    assert Availability.load().time_zone == "Europe/London"


@pytest.fixture
def artist_group_member(client, db):
    from conversations.tests.artists import make_staff

    client.force_login(make_staff("ink", artist=True))
    return client


@pytest.mark.parametrize(
    "page",
    [
        "admin:bookings_availability_change",
        "admin:bookings_booking_changelist",
        "admin:bookings_slothold_changelist",
        "admin:bookings_closedday_changelist",
        "admin:bookings_deposit_changelist",
    ],
)
def test_the_artist_group_opens_the_diary_and_deposits(artist_group_member, page):
    args = [Availability.load().pk] if page.endswith("_change") else []
    assert artist_group_member.get(reverse(page, args=args)).status_code == 200


def test_a_deposit_is_read_only_for_the_artist(artist_group_member, make_lead):
    from bookings.models import Deposit

    deposit = Deposit.objects.create(
        lead=make_lead(), amount_minor=15000, currency="GBP", rule="medium tier"
    )
    page = artist_group_member.get(reverse("admin:bookings_deposit_change", args=[deposit.pk]))
    assert page.status_code == 200
    assert b"150.00 GBP" in page.content
    assert b'name="_save"' not in page.content
