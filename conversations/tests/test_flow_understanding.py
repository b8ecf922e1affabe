"""Golden conversations of issue 9 through the signed webhook: rich messages filling several
answers, questions mid-way, corrections with a range, names and acknowledgements; and one
lead's facts the same in the summary, the admin's lead page and the API."""

import html
import itertools

import pytest
from django.urls import reverse

from conversations import wording
from conversations.flows import artist as artist_flow
from conversations.models import Answer, Faq, Message, Status
from conversations.tests.test_flow_handover import api_as_artist
from conversations.tests.test_flow_support import HAPPY_ANSWERS, Chat

pytestmark = pytest.mark.django_db

RICH = [
    "A peony with a small bee — fine line, inner left forearm, about 10x12cm, not a cover up",
    "2 — refs: https://pinterest.com/pin/1, budget £500-600, I'm in Manchester, insta @sam.ink",
    "London please, sometime in spring, no rush",
]


def rich_consultation(make_client, **client):
    chat = Chat(make_client(**client), "webhook")
    chat.say("hi")
    replies = [chat.say(text) for text in RICH]
    return chat, replies


def test_the_thirteen_answers_in_three_rich_messages_reach_the_summary(make_client, seeded_script):
    chat, replies = rich_consultation(make_client)
    assert seeded_script[4].prompt in replies[0]  # the detail level: 5 answers in one message
    assert seeded_script[11].prompt in replies[1]  # the tattoo city: the country was inferred
    summary = replies[2]
    assert "change budget to 800" in summary

    answers = chat.lead.current_answers()
    assert set(answers) == {q.key for q in seeded_script} - {"location_country"}
    # Each answer cites the message it came from.
    inbound = {m.body: m.pk for m in Message.objects.inbound().filter(client=chat.client)}
    assert answers["style"].message_id == inbound[RICH[0]]
    assert answers["budget"].message_id == inbound[RICH[1]]
    assert answers["timing"].message_id == inbound[RICH[2]]
    for line in (
        "• Style: fine line",
        "• Placement: inner left forearm",
        "• Size: 10 × 12 cm",
        "• Cover-up: No",
        "• References: 1 link",
        "• Budget: £500–600",
        "• Your city: Manchester, United Kingdom",
        "• Instagram: @sam.ink",
        "• Tattoo city: London, United Kingdom",
        "• Timing: Spring, no rush",
    ):
        assert line in summary
    assert "Your country" not in summary  # the city shows its country, once
    assert summary.count("United Kingdom") == 2  # home city and tattoo city, one line each

    assert "All done" in chat.say("yes") or chat.lead.status == Status.PENDING_APPROVAL
    lead = chat.lead
    assert lead.status == Status.PENDING_APPROVAL
    assert (lead.budget_minor, lead.city, lead.country_code) == (50000, "Manchester", "GB")
    assert lead.parse_failures == {}


def test_a_client_asking_two_questions_mid_way_is_answered_and_asked_again(
    make_client, seeded_script
):
    chat = Chat(make_client(), "webhook")
    chat.say("hi")
    chat.say("A rose")
    deposit = chat.say("how much is the deposit?")
    based = chat.say("where are you based?")
    assert "deposit" in deposit and seeded_script[1].prompt in deposit
    assert "London" in based and seeded_script[1].prompt in based
    assert set(chat.lead.current_answers()) == {"idea"}  # neither became an answer

    assert seeded_script[2].prompt in chat.say("Upper arm")
    assert chat.lead.current_answers()["placement"].text == "Upper arm"


def test_a_question_the_studio_has_no_answer_for_goes_to_the_artist(make_client, seeded_script):
    Faq.objects.filter(topic=Faq.Topic.AFTERCARE).update(answer="")
    chat = Chat(make_client(), "webhook")
    chat.say("hi")
    reply = chat.say("any aftercare tips?")
    lead = chat.lead
    assert lead.status == Status.NEEDS_ARTIST_REPLY
    assert "aftercare tips" in lead.handover_reason
    assert "artist" in reply
    assert not Answer.objects.filter(lead=lead).exists()


def test_the_studios_own_faq_row_and_wording_are_used(make_client, seeded_script):
    Faq.objects.create(
        topic=Faq.Topic.OTHER, question="Parking?", keywords=["parking"], answer="Free parking."
    )
    Faq.objects.filter(topic=Faq.Topic.PRICE).update(answer="From £120, depending on size.")
    chat = Chat(make_client(), "webhook")
    chat.say("hi")
    assert chat.say("is there parking nearby").startswith("Free parking.")
    assert chat.say("how much roughly?").startswith("From £120")


def test_a_first_message_that_asks_is_answered_before_the_script_starts(make_client, seeded_script):
    chat = Chat(make_client(display_name="Robin Hill"), "webhook")
    reply = chat.say("Do you have space for a small rose?")
    assert reply.startswith("Hi Robin! Yes, the artist is taking bookings")
    assert seeded_script[1].prompt in reply  # "a small rose" answered the idea
    assert chat.lead.current_answers()["idea"].text == "a small rose"

    other = Chat(make_client(), "webhook")
    price = other.say("hey, how much for a tattoo?")
    assert "priced individually" in price and seeded_script[0].prompt in price


def test_a_named_client_is_greeted_by_name_never_with_the_anonymous_greeting(
    make_client, seeded_script
):
    for _ in range(4):  # every greeting variant
        chat = Chat(make_client(display_name="Sam Smith"), "webhook")
        greeting = chat.say("hi there")
        assert greeting.startswith("Hi Sam!")
        assert "Hi! Thanks for your message!" not in greeting


def test_hello_is_not_thanked_and_acknowledgements_never_repeat_in_a_row(
    make_client, seeded_script
):
    chat = Chat(make_client(), "webhook")
    chat.say("hi")
    nudge = chat.say("hello??")
    assert "Thank" not in nudge and seeded_script[0].prompt in nudge
    replies = [chat.say(HAPPY_ANSWERS[q.key]) for q in seeded_script[:8]]
    openings = [reply.split("\n")[0] for reply in replies]
    assert all(a != b for a, b in itertools.pairwise(openings))
    assert set(openings) <= set(wording.ACKNOWLEDGEMENTS)


def test_a_restated_budget_range_is_understood_and_only_that_line_confirmed(
    make_client, seeded_script
):
    chat = Chat(make_client(), "webhook")
    chat.say("hi")
    chat.answer_until(None, seeded_script)
    reply = chat.say("the budget is 500 to 600 not 500")
    assert reply.startswith("Updated: budget £500–600.")
    assert "• Idea" not in reply
    value = chat.lead.current_answers()["budget"].value
    assert (value["amount_minor"], value["max_minor"]) == (50000, 60000)


def test_a_budget_under_the_minimum_is_said_at_the_budget_answer(make_client, seeded_script):
    chat = Chat(make_client(), "webhook")
    chat.say("hi")
    chat.answer_until("budget", seeded_script)
    reply = chat.say("£300")
    assert "minimum" in reply and "£400" in reply and "£300" in reply
    assert seeded_script[8].prompt in reply  # and the consultation carries on
    assert chat.lead.status == Status.QUALIFYING


def test_the_summary_the_admin_and_the_api_show_the_same_facts(
    make_client, seeded_script, admin_client
):
    chat, replies = rich_consultation(make_client)
    summary = replies[-1]
    lead = chat.lead
    answers = lead.current_answers()

    page = html.unescape(
        admin_client.get(
            reverse("admin:conversations_lead_change", args=[lead.pk])
        ).content.decode()
    )
    detail = api_as_artist().get(f"/api/leads/{lead.pk}/").json()
    api = detail["answers"]
    assert api == {key: answer.text for key, answer in answers.items()}
    for answer in answers.values():
        assert answer.text in page
    # Each fact reads the same in all three: the summary's line, the admin's "understood as"
    # column beside what the client wrote, and the API's facts.
    for fact in detail["facts"]:
        assert f"{fact['label']}: {fact['value']}" in summary
        assert fact["value"] in page and fact["text"] in page
    assert len(detail["facts"]) == summary.count("• ")
    # The budget range is the range everywhere.
    assert "£500–600" in summary
    assert answers["budget"].value == {"amount_minor": 50000, "max_minor": 60000, "currency": "GBP"}
    assert api["budget"] == "budget £500-600"
    assert {"key": "budget", "label": "Budget", "value": "£500–600", "text": "budget £500-600"} in (
        detail["facts"]
    )


def test_a_rich_first_message_keeps_its_answers_and_still_asks_the_idea(make_client, seeded_script):
    chat = Chat(make_client(display_name="Sam"), "webhook")
    greeting = chat.say("Hi! Looking for something on my wrist, about 5x5cm, budget £450")
    assert greeting.startswith("Hi Sam!")
    assert "I've noted your placement, size and budget already." in greeting
    assert seeded_script[0].prompt in greeting
    assert chat.lead.current_step == 0
    assert set(chat.lead.current_answers()) == {"placement", "dimensions", "budget"}

    # The idea, then straight past the placement and the size to the style.
    assert seeded_script[3].prompt in chat.say("A lotus flower")


def test_a_hand_back_after_a_yes_to_the_early_tour_offer_asks_the_question_not_the_offer(
    make_client, seeded_script
):
    chat = Chat(make_client(), "webhook")
    chat.say("hi")
    chat.answer_until("travel_city", seeded_script)
    chat.say("Leeds")
    chat.say("yes")  # to the tour offer: the timing comes next
    chat.say("can I talk to a real person please")
    artist_flow.act(chat.lead, "resume", reason="", actor="artist")
    reasked = Message.objects.outbound().filter(client=chat.client).latest("pk")
    assert seeded_script[-1].prompt in reasked.body
    assert chat.lead.status == Status.TOUR_CONVERSION_OFFERED
    assert "change budget to 800" in chat.say("2")


def test_an_answer_given_ahead_can_be_corrected_and_its_question_is_still_skipped(
    make_client, seeded_script
):
    chat = Chat(make_client(), "webhook")
    chat.say("hi")
    chat.say("budget £500")
    assert chat.say("change budget to 500-600").startswith("Updated: budget £500–600.")
    chat.answer_until("location_city", seeded_script)  # reaches the city: the budget skipped
    budgets = Answer.objects.filter(lead=chat.lead, question_key="budget")
    assert [a.text for a in budgets.order_by("pk")] == ["budget £500", "500-600"]
