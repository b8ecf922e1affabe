"""Where the artist works (the home city and the active TourStops, in the admin), the offer to
travel there when the client wants a session elsewhere, and the reply (TOUR_CONVERSION_OFFERED).
"""

from django.db.models import Q
from django.utils import timezone

from conversations import outbox, wording
from conversations.flows import completion, handover, script
from conversations.models import Answer, Question, StudioSettings, TourStop
from conversations.parsing import ParseError, parse_yes_no
from conversations.parsing.location import home_location
from conversations.parsing.text import place_key
from conversations.questions import TOUR_OFFER, TRAVEL_CITY

# -- where the artist works ------------------------------------------------------------------


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
    answer = answers.get(TRAVEL_CITY)
    value = answer.value if answer is not None else None
    if not isinstance(value, dict) or value.get("flexible"):
        return None
    if not (value.get("city") or value.get("country_code")):
        return None
    return value


def is_served(place, studio, stops):
    """True when the artist works in the requested city (or, given only a country, in it)."""
    if place.get("city"):
        return place_key(place["city"]) in {place_key(name) for name in places(studio, stops)}
    countries = {studio.home_country_code, *(stop.country_code for stop in stops)}
    return place["country_code"] in {code.upper() for code in countries if code}


def travel_destination(studio, stops):
    """Where a yes to the offer takes the client: the one city the artist works in, or None
    when there are several to choose from (the artist settles that with the client)."""
    cities = [(studio.home_city, studio.home_country_code)]
    cities += [(stop.city, stop.country_code) for stop in stops]
    distinct = {place_key(city): (city, code or "") for city, code in cities if city}
    if len(distinct) != 1:
        return None
    return home_location(*next(iter(distinct.values())))


def place_name(place):
    return place.get("city") or place.get("country") or place.get("country_code", "")


# -- the offer -------------------------------------------------------------------------------


def offer_tour(turn, place, stops, *, early=False):
    """QUALIFYING → TOUR_CONVERSION_OFFERED: the client wants a city the artist isn't in.

    `early`: at the travel-city answer, with questions still to come after a yes.
    """
    studio = turn.studio
    where = places(studio, stops)
    reason = wording.artist_tour_reason(place_name(place), where)
    turn.transition("offer_tour", reason=reason, actor="bot")
    send_offer(turn.lead, place, studio, stops, early=early)


def send_offer(lead, place=None, studio=None, stops=None, *, early=False):
    """Ask whether the client can travel to where the artist works (again, after a resume);
    once they said yes at the travel-city answer, the question they are on instead."""
    if accepted(lead):
        prompt = script.current_prompt(lead, list(Question.objects.script()))
        body = wording.resumed(lead, prompt)
        return outbox.queue_message(lead.client, body, lead=lead, purpose="question")
    place = place or requested(lead.current_answers())
    if place is None:
        return None
    studio = studio or StudioSettings.load()
    stops = list(active_stops()) if stops is None else stops
    offer = wording.tour_offer_now if early else wording.tour_offer
    body = offer(lead, place_name(place), places(studio, stops))
    return outbox.queue_message(
        lead.client, body, lead=lead, purpose=TOUR_OFFER, buttons=wording.tour_buttons()
    )


# -- TOUR_CONVERSION_OFFERED -----------------------------------------------------------------


def on_tour_reply(turn):
    """Yes to the tour offer completes the qualification; no puts the client on the waitlist."""
    decision = {wording.TOUR_YES: True, wording.TOUR_NO: False}.get(turn.inbound.reply_id)
    if decision is None:
        try:
            decision = parse_yes_no(turn.text)
        except ParseError:
            unclear_tour_reply(turn)
            return
    Answer.objects.create(
        lead=turn.lead,
        question_key=TOUR_OFFER,
        text=turn.text or turn.inbound.reply_id,
        value=decision,
        message=turn.message,
    )
    script.clear_failures(turn, TOUR_OFFER)
    destination = travel_destination(turn.studio, list(active_stops())) if decision else None
    if destination is not None:
        # "Yes, I'll travel": the tattoo city is now the artist's, in the summary and the facts.
        Answer.objects.create(
            lead=turn.lead,
            question_key=TRAVEL_CITY,
            text=turn.text or turn.inbound.reply_id,
            value=destination.as_dict(),
            message=turn.message,
        )
    if decision and turn.lead.current_step < len(turn.script):
        # Offered at the travel-city answer: the rest of the questions, then the summary.
        turn.reply(
            wording.tour_accepted_carry_on(turn.lead, script.prompt(turn)), purpose="question"
        )
        return
    answers = turn.lead.current_answers()
    if decision:
        completion.complete(turn, answers, "accepted the tour offer; ready for your approval")
        return
    place = requested(answers) or {}
    turn.transition("waitlist", reason="Declined the tour offer", actor="client")
    turn.reply(wording.tour_declined(turn.lead, place_name(place)), purpose="waitlisted")


def accepted(lead):
    """True when the client said yes to the tour offer and the consultation carries on."""
    return Answer.objects.filter(lead=lead, question_key=TOUR_OFFER, value=True).exists()


def unclear_tour_reply(turn):
    count = script.count_failure(turn, TOUR_OFFER)
    if handover.hand_over_after_failures(turn, count, "unclear_tour_reply"):
        return
    body = wording.tour_unclear(turn.lead, places(turn.studio, list(active_stops())))
    turn.reply(body, purpose=TOUR_OFFER, buttons=wording.tour_buttons())
