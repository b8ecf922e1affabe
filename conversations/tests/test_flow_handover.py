"""Handover: the packet, the rate-limited holding reply, and resuming from every door."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from conversations import transitions
from conversations.flows import artist as artist_flow
from conversations.flows import resume as resume_flow
from conversations.models import Client, Lead, Message, Status, StudioSettings
from conversations.tests.test_flow_support import Chat

pytestmark = pytest.mark.django_db

ARTIST = "447700900000"


@pytest.fixture
def artist(settings):
    settings.ARTIST_PHONE = f"+{ARTIST}"


def to_artist():
    return list(Message.objects.outbound().filter(client__address=ARTIST).order_by("pk"))


def handed_over_at(make_client, script, key, mode="flow"):
    chat = Chat(make_client(display_name="Robin Banks"), mode)
    chat.say("hi")
    chat.answer_until(key, script)
    chat.say("I'd like to speak to the artist")
    assert chat.lead.status == Status.NEEDS_ARTIST_REPLY
    return chat


def test_the_packet_carries_client_reason_answers_failures_estimate_and_last_messages(
    make_client, seeded_script, artist
):
    chat = Chat(make_client(display_name="Robin Banks"), "flow")
    chat.say("hi")
    chat.answer_until("complexity", seeded_script)
    chat.say("no idea")
    chat.say("talk to someone please")

    [packet] = to_artist()
    body = packet.body
    lead = chat.lead
    assert f"Lead #{lead.pk}" in body
    assert "Robin Banks" in body and lead.client.address in body
    assert "Client asked for a person" in body
    assert "Size: 10 × 12 cm" in body
    assert "complexity ×1" in body
    assert "talk to someone please" in body
    assert packet.lead_id is None  # a note to the artist is not part of the client's transcript


def test_every_handover_episode_notifies_the_artist(make_client, seeded_script, artist):
    chat = handed_over_at(make_client, seeded_script, "placement")
    chat.say("continue")
    chat.say("can I get a discount?")
    assert len(to_artist()) == 2
    assert chat.lead.handover_reason == "Client wants to discuss the price"


def test_the_holding_reply_goes_again_once_the_cooldown_has_passed(make_client, seeded_script):
    chat = handed_over_at(make_client, seeded_script, "placement")
    assert len(chat.send("hello?")) == 1
    assert chat.send("hello??") == []
    cooldown = StudioSettings.load().holding_reply_cooldown
    Lead.objects.filter(pk=chat.lead.pk).update(
        last_holding_reply_at=timezone.now() - cooldown - timedelta(minutes=1)
    )
    assert len(chat.send("still there?")) == 1
    assert chat.send("?") == []


def test_a_new_handover_episode_gets_its_own_holding_reply(make_client, seeded_script):
    chat = handed_over_at(make_client, seeded_script, "placement")
    assert len(chat.send("hello?")) == 1
    chat.say("continue")
    chat.say("I want a refund")
    assert len(chat.send("hello?")) == 1


def test_the_cooldown_is_the_artists_setting(make_client, seeded_script):
    StudioSettings.objects.update_or_create(pk=1, defaults={"holding_reply_cooldown": timedelta(0)})
    chat = handed_over_at(make_client, seeded_script, "placement")
    assert len(chat.send("hello?")) == 1
    assert len(chat.send("hello??")) == 1


def test_resume_at_the_summary_shows_the_summary_again(make_client, seeded_script):
    chat = Chat(make_client(), "flow")
    chat.say("hi")
    chat.answer_until(None, seeded_script)
    chat.say("can I talk to a human")
    lead = artist_flow.act(chat.lead, "resume", reason="", actor="artist")
    reasked = Message.objects.outbound().filter(lead=lead).last()
    assert "Budget: £500" in reasked.body and "YES" in reasked.body
    chat.say("yes")
    assert chat.lead.status == Status.PENDING_APPROVAL


def test_resume_to_a_later_status_sends_nothing(make_lead, seeded_script):
    lead = make_lead(Status.AWAITING_DEPOSIT)
    lead = transitions.transition(lead, "hand_over", reason="", actor="test")
    before = Message.objects.count()
    lead = artist_flow.act(lead, "resume", reason="", actor="artist")
    assert lead.status == Status.AWAITING_DEPOSIT
    assert Message.objects.count() == before


def test_resume_to_the_tour_offer_asks_again_with_buttons(make_client, seeded_script):
    chat = Chat(make_client(), "flow")
    chat.say("hi")
    chat.answer_until("travel_city", seeded_script)
    chat.say("Lisbon")  # the tour offer, at the travel-city answer
    chat.say("I'd like to talk to the artist first")
    artist_flow.act(chat.lead, "resume", reason="", actor="artist")
    offer = Message.objects.outbound().filter(lead=chat.lead).last()
    assert "Lisbon" in offer.body and offer.payload["buttons"]
    assert chat.lead.status == Status.TOUR_CONVERSION_OFFERED


def test_resume_through_the_api_reasks_the_question(make_client, seeded_script):
    chat = handed_over_at(make_client, seeded_script, "style")
    response = api_as_artist().post(
        f"/api/leads/{chat.lead.pk}/transitions/",
        {"transition": "resume", "reason": "called them"},
        format="json",
    )
    assert response.status_code == 200, response.content
    reasked = Message.objects.outbound().filter(lead=chat.lead).last()
    assert seeded_script[3].prompt in reasked.body


def test_an_artist_who_opted_out_of_their_own_number_does_not_break_a_handover(
    make_client, seeded_script, artist
):
    Client.objects.create(channel="whatsapp", address=ARTIST, opted_out_at=timezone.now())
    chat = handed_over_at(make_client, seeded_script, "placement")
    assert to_artist() == []
    assert chat.lead.status == Status.NEEDS_ARTIST_REPLY


def test_a_resume_transition_alone_sends_nothing(make_client, seeded_script):
    chat = handed_over_at(make_client, seeded_script, "style")
    before = Message.objects.outbound().count()
    lead = transitions.transition(chat.lead, "resume", reason="", actor="artist")
    assert lead.status == Status.QUALIFYING
    assert Message.objects.outbound().count() == before


def test_the_artists_resume_reasks_the_question_once(make_client, seeded_script):
    chat = handed_over_at(make_client, seeded_script, "style")
    before = Message.objects.outbound().count()
    artist_flow.act(chat.lead, "resume", reason="", actor="artist")
    [reasked] = Message.objects.outbound().order_by("pk")[before:]
    assert seeded_script[3].prompt in reasked.body
    assert reasked.payload["purpose"] == "question"


def test_the_handover_packet_through_the_webhook(make_client, seeded_script, artist):
    chat = handed_over_at(make_client, seeded_script, "budget", mode="webhook")
    [packet] = to_artist()
    assert "speak to the artist" in packet.body
    assert chat.lead.handover_reason == "Client asked for a person"


def api_as_artist():
    user = get_user_model().objects.create_superuser("artist", "a@example.com", "pw-12345")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


def api_resume(api, lead):
    return api.post(
        f"/api/leads/{lead.pk}/transitions/", {"transition": "resume", "reason": ""}, format="json"
    )


def test_resume_right_after_the_artists_reply_waits_for_the_client(make_client, seeded_script):
    chat = handed_over_at(make_client, seeded_script, "style")
    artist_flow.reply(chat.lead, "Hi! Happy to chat — fine line suits that well.", actor="artist")
    before = Message.objects.outbound().count()
    lead = artist_flow.act(chat.lead, "resume", reason="", actor="artist")
    assert lead.status == Status.QUALIFYING
    assert Message.objects.outbound().count() == before


def test_after_a_quiet_hand_back_the_clients_next_message_answers_the_current_question(
    make_client, seeded_script
):
    chat = handed_over_at(make_client, seeded_script, "style")
    artist_flow.reply(chat.lead, "Sure, let's keep going.", actor="artist")
    artist_flow.act(chat.lead, "resume", reason="", actor="artist")
    reply = chat.say("Fine line, black and grey")
    assert seeded_script[4].prompt in reply
    assert chat.lead.current_answers()["style"].text == "Fine line, black and grey"


def test_the_clients_continue_after_the_artists_reply_reasks_the_question(
    make_client, seeded_script
):
    chat = handed_over_at(make_client, seeded_script, "style")
    artist_flow.reply(chat.lead, "Back to the bot now.", actor="artist")
    assert seeded_script[3].prompt in chat.say("continue")


def test_a_second_resume_in_one_episode_sends_nothing_more(make_client, seeded_script):
    chat = handed_over_at(make_client, seeded_script, "style")
    api = api_as_artist()
    assert api_resume(api, chat.lead).status_code == 200
    sent = Message.objects.outbound().count()
    assert api_resume(api, chat.lead).status_code == 409
    assert Message.objects.outbound().count() == sent


def test_reasking_twice_in_one_episode_sends_once(make_client, seeded_script):
    chat = handed_over_at(make_client, seeded_script, "style")
    lead = transitions.transition(chat.lead, "resume", reason="", actor="artist")
    assert resume_flow.reask(lead) is not None
    assert resume_flow.reask(lead) is None


def test_a_new_episode_may_reask_again(make_client, seeded_script):
    chat = handed_over_at(make_client, seeded_script, "style")
    artist_flow.act(chat.lead, "resume", reason="", actor="artist")
    chat.say("I want a refund")
    before = Message.objects.outbound().count()
    artist_flow.act(chat.lead, "resume", reason="", actor="artist")
    [reasked] = Message.objects.outbound().order_by("pk")[before:]
    assert seeded_script[3].prompt in reasked.body


@pytest.mark.parametrize("door", ["artist", "client"])
def test_resume_clears_the_handover_reason(make_client, seeded_script, door):
    chat = handed_over_at(make_client, seeded_script, "style")
    if door == "artist":
        artist_flow.act(chat.lead, "resume", reason="", actor="artist")
    else:
        chat.say("continue")
    assert chat.lead.status == Status.QUALIFYING
    assert chat.lead.handover_reason == ""


def test_the_artists_own_hand_over_records_its_own_reason(make_client, seeded_script):
    chat = handed_over_at(make_client, seeded_script, "style")
    artist_flow.act(chat.lead, "resume", reason="", actor="artist")
    lead = artist_flow.act(chat.lead, "hand_over", reason="Calling them", actor="artist")
    assert lead.handover_reason == "Calling them"
    assert Lead.objects.get(pk=lead.pk).handover_reason == "Calling them"


def test_the_artists_hand_over_without_a_reason_says_who_took_over(make_client, seeded_script):
    chat = handed_over_at(make_client, seeded_script, "style")
    artist_flow.act(chat.lead, "resume", reason="", actor="artist")
    artist_flow.act(chat.lead, "hand_over", reason="", actor="artist")
    assert chat.lead.handover_reason == "The artist took over"


def test_a_budget_range_reads_the_same_to_the_client_and_the_artist(
    make_client, seeded_script, artist
):
    chat = Chat(make_client(), "flow")
    chat.say("hi")
    chat.answer_until(None, seeded_script, {"budget": "£500-600"})
    summary = Message.objects.outbound().filter(lead=chat.lead).last().body
    chat.say("can I talk to a human")
    [packet] = to_artist()
    assert "Budget: £500–600" in summary
    assert "Budget: £500–600" in packet.body
    assert chat.lead.budget_minor == 50000
