"""The artist's diary as an iCalendar feed: one VEVENT per booked session, in their time zone."""

from datetime import timedelta

import icalendar
from django.apps import apps
from django.db.models import Prefetch
from django.utils import timezone

from bookings.models import Availability, Booking, Reservation

PRODUCT_ID = "-//leadbot//diary//EN"
# Sessions that ended longer ago than this drop out of the feed (the phone keeps its copy).
HISTORY = timedelta(days=90)
IDEA_KEY = "idea"


def booked_sessions(now=None):
    """Booked sessions still worth showing, with the client and their idea in two queries."""
    now = now or timezone.now()
    # By name, like the lead FK: bookings does not import the conversations app.
    answer = apps.get_model("conversations", "Answer")
    ideas = answer.objects.filter(question_key=IDEA_KEY).order_by("lead_id", "-created_at", "-id")
    return (
        Booking.objects.filter(state=Reservation.State.BOOKED, period__endswith__gte=now - HISTORY)
        .select_related("lead__client")
        .prefetch_related(Prefetch("lead__answers", queryset=ideas, to_attr="ideas"))
        .order_by("period")
    )


def summary(booking):
    """ "Sam – dragon on the forearm": who is coming, and for what when we know it."""
    lead = booking.lead
    name = lead.client.display_name or f"Client #{lead.client_id}"
    idea = lead.ideas[0].text.strip() if getattr(lead, "ideas", None) else ""
    idea = " ".join(idea.split())
    if len(idea) > 60:
        idea = idea[:59].rstrip() + "…"
    return f"{name} – {idea}" if idea else name


def feed(bookings, availability=None):
    """The iCalendar bytes for these bookings, times in the artist's time zone."""
    availability = availability or Availability.load()
    zone = availability.zone
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Tattoo sessions")
    calendar.add("x-wr-timezone", availability.time_zone)
    for booking in bookings:
        event = icalendar.Event()
        event.add("uid", f"booking-{booking.pk}@leadbot")
        event.add("dtstamp", booking.created_at)
        event.add("dtstart", booking.start.astimezone(zone))
        event.add("dtend", booking.end.astimezone(zone))
        event.add("summary", summary(booking))
        event.add("description", f"Lead #{booking.lead_id}")
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
