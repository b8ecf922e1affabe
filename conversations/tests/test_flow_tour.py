"""The tour check and the offer: where the artist works, and the client's reply."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Status, TourStop
from conversations.tests.test_flow_support import started

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(make_client, seeded_script):
    return started(make_client(display_name="Alex"))


@pytest.mark.parametrize(
    ("travel_city", "status"),
    [
        ("London", Status.QUALIFYING),  # the home city
        ("london", Status.QUALIFYING),
        ("anywhere", Status.QUALIFYING),
        ("Paris", Status.QUALIFYING),  # an active tour stop
        ("Rome", Status.TOUR_CONVERSION_OFFERED),  # a tour stop that has ended
        ("Madrid", Status.TOUR_CONVERSION_OFFERED),
    ],
)
def test_the_tour_check_uses_home_city_and_active_tour_stops(
    chat, seeded_script, travel_city, status
):
    TourStop.objects.create(city="Paris", country_code="FR")
    TourStop.objects.create(city="Rome", ends_on=timezone.localdate() - timedelta(days=1))
    TourStop.objects.create(city="Madrid", active=False)
    chat.answer_until("travel_city", seeded_script)
    chat.say(travel_city)  # checked at the travel-city answer, not after the summary
    assert chat.lead.status == status


def test_a_tour_reply_can_be_typed(chat, seeded_script):
    chat.answer_until("travel_city", seeded_script)
    chat.say("Tokyo")
    assert seeded_script[-1].prompt in chat.say("yes please")  # the questions carry on
    assert chat.lead.status == Status.TOUR_CONVERSION_OFFERED
    assert chat.lead.current_answers()["tour_offer"].value is True
    chat.say("2")
    chat.say("yes")
    assert chat.lead.status == Status.PENDING_APPROVAL


def test_a_yes_to_the_tour_offer_makes_the_artists_city_the_tattoo_city(chat, seeded_script):
    chat.answer_until("travel_city", seeded_script)
    chat.say("Manchester")
    chat.say("yes")
    summary = chat.say("2")
    assert "Tattoo city: London" in summary
    assert "Tattoo city: Manchester" not in summary


def test_with_several_places_to_go_a_yes_leaves_the_tattoo_city_to_the_artist(chat, seeded_script):
    TourStop.objects.create(city="Paris", country_code="FR")
    chat.answer_until("travel_city", seeded_script)
    chat.say("Manchester")
    chat.say("yes")
    assert "Tattoo city: Manchester" in chat.say("2")


def test_three_unclear_tour_replies_hand_over(chat, seeded_script):
    chat.answer_until("travel_city", seeded_script)
    chat.say("Tokyo")
    for text in ("maybe", "perhaps", "not sure"):
        chat.say(text)
    assert chat.lead.status == Status.NEEDS_ARTIST_REPLY
    assert "tour" in chat.lead.handover_reason
