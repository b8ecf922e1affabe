"""The consultation in detail: starting, the one-question guards, repair, the script as data."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from conversations import transitions
from conversations.flows.dispatch import handle_message
from conversations.models import (
    Answer,
    Lead,
    Message,
    Question,
    Status,
)
from conversations.parsing import detect_intent
from conversations.tests.test_flow_support import Chat, photo, started, step_of, stored_inbound

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(make_client, seeded_script):
    return started(make_client(display_name="Alex"))


# -- starting ---------------------------------------------------------------------------


def test_the_first_message_is_kept_greets_and_asks_the_first_question(make_client, seeded_script):
    chat = Chat(make_client(), "flow")
    [greeting] = chat.send("Hello, do you have space for a small piece?")
    lead = chat.lead
    assert lead.status == Status.QUALIFYING
    assert lead.messages.inbound().get().body.startswith("Hello")
    assert greeting.body.startswith("Hi!")  # no profile name, no name
    assert seeded_script[0].prompt in greeting.body
    assert greeting.lead_id == lead.pk
    assert not Answer.objects.exists()  # a greeting is not an answer


def test_asking_for_a_person_in_the_first_message_hands_over_at_once(make_client, seeded_script):
    chat = Chat(make_client(), "flow")
    reply = chat.say("Can I speak to the artist?")
    assert chat.lead.status == Status.NEEDS_ARTIST_REPLY
    assert "artist" in reply
    assert [c.transition for c in chat.lead.status_changes.all()] == [
        "start_qualifying",
        "hand_over",
    ]


@pytest.mark.parametrize("status", [Status.ABANDONED, Status.STALE])
def test_a_dormant_lead_restarts_where_it_stopped(make_lead, seeded_script, status):
    lead = make_lead(status)
    transitions.advance_step(lead.pk, 0)
    transitions.advance_step(lead.pk, 1)
    chat = Chat(lead.client, "flow")

    welcome = chat.say("hi, sorry, still keen")
    lead.refresh_from_db()
    assert lead.status == Status.QUALIFYING
    assert lead.current_step == 2
    assert seeded_script[2].prompt in welcome
    assert not Answer.objects.filter(lead=lead).exists()


# -- the one-question guards ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["I'll stop by", "don't stop", "Ideally a small rose", "to discover my strength"],
)
def test_everyday_phrases_are_answers_not_opt_outs_or_handovers(chat, seeded_script, text):
    reply = chat.say(text)
    lead = chat.lead
    assert lead.status == Status.QUALIFYING
    assert lead.current_answers()["idea"].text == text
    assert seeded_script[1].prompt in reply


def test_a_question_about_style_is_an_answer_not_a_handover(chat, seeded_script):
    chat.answer_until("style", seeded_script)
    chat.say("Can you do fine line?")
    assert chat.lead.status == Status.QUALIFYING
    assert chat.lead.current_answers()["style"].text == "Can you do fine line?"


@pytest.mark.parametrize(
    ("text", "reason", "copy_word"),
    [
        ("I'd like a refund please", "refund", "refund"),
        ("please delete my data", "delete their data", "delete"),
        ("can I get a discount?", "price", "artist"),
        ("when are you free?", "dates", "artist"),
        ("I want to talk to a real person", "person", "artist"),
    ],
)
def test_intents_mid_consultation_hand_over_with_an_acknowledgement(
    chat, seeded_script, text, reason, copy_word
):
    chat.answer_until("budget", seeded_script)
    reply = chat.say(text)
    lead = chat.lead
    assert lead.status == Status.NEEDS_ARTIST_REPLY
    assert reason in lead.handover_reason
    assert copy_word in reply
    assert lead.current_step == step_of(seeded_script, "budget")


def test_a_photo_at_a_text_question_is_acknowledged_and_the_question_repeated(chat, seeded_script):
    reply = chat.say(kind="image", media=[photo("something like this")])
    assert "picture" in reply or "image" in reply
    assert seeded_script[0].prompt in reply
    assert chat.lead.current_step == 0


def test_a_voice_note_asks_for_text(chat, seeded_script):
    reply = chat.say(kind="audio")
    assert "voice notes" in reply
    assert seeded_script[0].prompt in reply


def test_a_reaction_is_not_answered(chat):
    assert chat.send("👍", kind="reaction") == []
    assert chat.lead.current_step == 0


def test_continue_mid_consultation_repeats_the_question(chat, seeded_script):
    assert chat.say("continue") == seeded_script[0].prompt
    assert chat.lead.current_step == 0


def test_reference_links_or_none_answer_the_image_question(chat, seeded_script):
    chat.answer_until("reference_images", seeded_script)
    chat.say("none")
    assert chat.lead.current_answers()["reference_images"].value == {"urls": []}


def test_photos_long_after_the_reference_question_are_kept_and_the_question_repeated(
    chat, seeded_script
):
    chat.answer_until("location_city", seeded_script)
    reply = chat.say(kind="image", media=[photo()])
    assert seeded_script[step_of(seeded_script, "location_city")].prompt in reply


def test_a_stale_step_sends_nothing(make_client, seeded_script):
    """Two handlers racing for one step: the one whose advance fails sends nothing at all."""
    chat = Chat(make_client(), "flow")
    chat.say("hi")
    stale = Lead.objects.get(pk=chat.lead.pk)  # read at step 0 …
    transitions.advance_step(stale.pk, 0)  # … then someone else answers step 0
    message, inbound = stored_inbound(stale, "A rose", "wamid.race")
    before = Message.objects.outbound().count()
    with transaction.atomic():
        handle_message(stale, message, inbound, intent=detect_intent(inbound.body))
    assert Message.objects.outbound().count() == before
    assert not Answer.objects.filter(lead=stale).exists()


# -- repair -----------------------------------------------------------------------------


def test_a_success_resets_only_that_fields_failure_count(chat, seeded_script):
    chat.answer_until("dimensions", seeded_script)
    chat.say("big")
    chat.say("10x15")
    chat.answer_until("budget", seeded_script)
    chat.say("not sure")
    chat.say("depends")
    assert chat.lead.parse_failures == {"budget": 2}
    chat.say("£700")
    assert chat.lead.parse_failures == {}
    assert chat.lead.status == Status.QUALIFYING


def test_a_repair_prompt_shows_an_example_the_parser_accepts(chat, seeded_script):
    chat.answer_until("complexity", seeded_script)
    reply = chat.say("hmm")
    assert "1" in reply and "3" in reply
    chat.answer_until("instagram_handle", seeded_script)
    reply = chat.say("my insta is sam ink")
    assert "@yourname" in reply


# -- the script is data -----------------------------------------------------------------


def test_a_reordered_and_shortened_script_is_followed_without_code_changes(
    make_client, seeded_script
):
    Question.objects.exclude(key__in=["budget", "idea", "dimensions"]).update(active=False)
    Question.objects.filter(key="budget").update(order=1)
    Question.objects.filter(key="idea").update(prompt="What's the tattoo?")
    chat = Chat(make_client(), "flow")
    assert "budget" in chat.say("hi")
    assert "What's the tattoo?" in chat.say("£450")
    assert "big" in chat.say("A moth")
    summary = chat.say("8x8")
    assert "Budget: £450" in summary and "Idea: A moth" in summary
    chat.say("yes")
    assert chat.lead.status == Status.PENDING_APPROVAL
    assert chat.lead.size_category == "MEDIUM"


def test_a_choice_question_added_by_the_artist_shows_its_options(make_client, seeded_script):
    Question.objects.update(active=False)
    Question.objects.create(
        key="colour",
        kind=Question.Kind.CHOICE,
        prompt="Colour or black and grey?",
        options=[["colour", "Colour"], ["bng", "Black and grey"]],
        order=1,
    )
    chat = Chat(make_client(), "flow")
    assert "2. Black and grey" in chat.say("hi")
    assert "Colour: Black and grey" in chat.say("2")


# -- cost -------------------------------------------------------------------------------


def test_a_mid_flow_answer_costs_a_handful_of_queries(chat, seeded_script):
    chat.answer_until("style", seeded_script)
    lead = chat.lead
    message, inbound = stored_inbound(lead, "Blackwork", "wamid.cost")
    with transaction.atomic():
        locked = Lead.objects.select_for_update().get(pk=lead.pk)
        with CaptureQueriesContext(connection) as queries:
            handle_message(locked, message, inbound, intent=detect_intent(inbound.body))
    statements = [q["sql"] for q in queries.captured_queries]
    print(f"\nmid-flow answer: {len(statements)} queries")
    for sql in statements:
        print("  ", sql[:110])
    # Uncached here (no config version): the script, the settings and the FAQ are read too.
    assert len(statements) <= 13


def test_a_caption_with_a_link_counts_as_a_link_too(chat, seeded_script):
    chat.answer_until("reference_images", seeded_script)
    chat.say(kind="image", media=[photo("and this one https://example.com/koi.jpg")])
    value = chat.lead.current_answers()["reference_images"].value
    assert value["urls"] == ["https://example.com/koi.jpg"]
    assert len(value["media"]) == 1


def test_an_optional_question_can_be_skipped(chat, seeded_script):
    Question.objects.filter(key="instagram_handle").update(required=False)
    chat.answer_until("instagram_handle", seeded_script)
    step = chat.lead.current_step

    reply = chat.say("skip")

    assert chat.lead.current_step == step + 1
    assert seeded_script[step + 1].prompt in reply
    assert chat.lead.current_answers()["instagram_handle"].value is None


def test_a_required_question_cannot_be_skipped(chat, seeded_script):
    chat.answer_until("dimensions", seeded_script)
    step = chat.lead.current_step
    chat.say("skip")
    assert chat.lead.current_step == step
    assert chat.lead.parse_failures["dimensions"] == 1


def test_a_skipped_optional_budget_still_qualifies(chat, seeded_script):
    Question.objects.filter(key="budget").update(required=False)
    chat.answer_until(None, seeded_script, answers={"budget": "rather not say"})
    chat.say("yes")
    lead = chat.lead
    assert (lead.status, lead.budget_minor) == (Status.PENDING_APPROVAL, None)
