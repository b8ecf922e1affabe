"""Where the artist works: the home city and the active tour stops (TourStop, in the admin)."""

import unicodedata

from django.db.models import Q
from django.utils import timezone

from conversations import copy, outbox
from conversations.models import StudioSettings, TourStop

TRAVEL_KEY = "travel_city"


def _fold(name):
    name = unicodedata.normalize("NFKD", (name or "").casefold())
    return " ".join("".join(ch for ch in name if not unicodedata.combining(ch)).split())


def active_stops(today=None):
    today = today or timezone.localdate()
    return TourStop.objects.filter(active=True).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    )


def places(studio, stops):
    """The cities the artist works in, home first, each once."""
    names = [studio.home_city, *(stop.city for stop in stops)]
    return list(dict.fromkeys(name for name in names if name))


def requested(answers):
    """The parsed travel-city answer as a dict, or None when there is nothing to check."""
    answer = answers.get(TRAVEL_KEY)
    value = answer.value if answer is not None else None
    if not isinstance(value, dict) or value.get("flexible"):
        return None
    if not (value.get("city") or value.get("country_code")):
        return None
    return value


def is_served(place, studio, stops):
    """True when the artist works in the requested city (or, given only a country, in it)."""
    if place.get("city"):
        return _fold(place["city"]) in {_fold(name) for name in places(studio, stops)}
    countries = {studio.home_country_code, *(stop.country_code for stop in stops)}
    return place["country_code"] in {code.upper() for code in countries if code}


def place_name(place):
    return place.get("city") or place.get("country") or place.get("country_code", "")


def send_offer(lead, place=None, studio=None, stops=None):
    """Ask whether the client can travel to where the artist works (again, after a resume)."""
    place = place or requested(lead.current_answers())
    if place is None:
        return None
    studio = studio or StudioSettings.load()
    stops = list(active_stops()) if stops is None else stops
    body = copy.tour_offer(lead, place_name(place), places(studio, stops))
    return outbox.queue_message(
        lead.client, body, lead=lead, purpose="tour_offer", buttons=copy.tour_buttons()
    )
