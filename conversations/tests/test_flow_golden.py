"""Golden transcripts: whole conversations, with the exact number of replies to every message.

Each transcript runs through the flow entry point, `record_inbound` and the signed WhatsApp
webhook (see test_flow_support.Chat), so all three doors behave the same.
"""

import pytest

from conversations import outbox
from conversations.channels.base import normalise_address
from conversations.flows import artist as artist_flow
from conversations.models import (
    CLOSED_STATUSES,
    TRANSITIONS,
    Lead,
    Message,
    Status,
    TourStop,
)
from conversations.tests.test_flow_handover import api_as_artist, api_resume, handed_over_at
from conversations.tests.test_flow_support import HAPPY_ANSWERS, MODES, Chat, photo

pytestmark = pytest.mark.django_db

ARTIST = "+447700900000"


@pytest.fixture
def artist_phone(settings):
    settings.ARTIST_PHONE = ARTIST
    return normalise_address(ARTIST)


def artist_notes():
    return list(Message.objects.outbound().filter(client__address=normalise_address(ARTIST)))


def keys(script):
    return [q.key for q in script]


def finish_script(chat, script, answers=None, start_at=None):
    """Answer from `start_at` (default: the lead's current step) to the end; one reply each."""
    answers = {**HAPPY_ANSWERS, **(answers or {})}
    if start_at is not None:
        return [chat.say(answers[q.key]) for q in script[start_at:]]
    replies = []
    # Until the summary, or until the bot asks something else (the tour offer, a handover).
    while (step := chat.lead.current_step) < len(script) and chat.lead.status == Status.QUALIFYING:
        replies.append(chat.say(answers[script[step].key]))
        assert chat.lead.current_step != step or chat.lead.status != Status.QUALIFYING, replies[-1]
    return replies


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("size", "category", "xl_days", "deposit"),
    [
        ("10 x 12 cm", "MEDIUM", None, 15000),
        ("20 x 30 cm", "XL", 2, 40000),
    ],
)
def test_the_full_consultation_ends_pending_approval_with_size_and_deposit(
    make_client, seeded_script, artist_phone, mode, size, category, xl_days, deposit
):
    chat = Chat(make_client(display_name="Sam Smith"), mode)

    greeting = chat.say("Hi! I'd like to book a tattoo")
    assert greeting.startswith("Hi Sam!")
    assert seeded_script[0].prompt in greeting
    assert chat.lead.status == Status.QUALIFYING

    # A city whose country is not certain: all 13 questions are asked, one by one.
    replies = finish_script(
        chat,
        seeded_script,
        {"dimensions": size, "location_city": "Valencia", "location_country": "Spain"},
    )
    assert len(replies) == len(seeded_script)
    # Each answer got exactly the next question; the last one got the summary.
    for reply, question in zip(replies, seeded_script[1:], strict=False):
        assert question.prompt in reply
    assert "change budget to 800" in replies[-1]
    assert f"Size: {size.replace(' cm', '').replace('x', '×')} cm" in replies[-1]

    closing = chat.say("yes")
    assert "everything" in closing.lower() or "all done" in closing.lower()

    lead = chat.lead
    assert lead.status == Status.PENDING_APPROVAL
    assert lead.current_step == len(seeded_script)
    assert (lead.size_category, lead.xl_days, lead.deposit_minor) == (category, xl_days, deposit)
    assert (lead.budget_minor, lead.currency) == (50000, "GBP")
    assert (lead.city, lead.country_code, lead.region) == ("Valencia", "ES", "EUROPE")
    assert set(lead.current_answers()) == set(keys(seeded_script))
    assert lead.parse_failures == {}
    # One transcript: every inbound and outbound message belongs to this lead.
    assert lead.messages.inbound().count() == len(seeded_script) + 2
    assert lead.messages.outbound().count() == len(seeded_script) + 2
    [note] = artist_notes()
    assert f"Lead #{lead.pk}" in note.body
    assert "Budget: £500" in note.body
    assert category in note.body


@pytest.mark.parametrize("mode", MODES)
def test_a_failed_answer_gets_a_repair_prompt_then_the_flow_moves_on(
    make_client, seeded_script, mode
):
    chat = Chat(make_client(), mode)
    chat.say("hello")
    chat.answer_until("dimensions", seeded_script)

    repair = chat.send("depends on the design")
    assert len(repair) == 1
    assert repair[0].payload["purpose"] == "repair"
    lead = chat.lead
    assert lead.current_step == keys(seeded_script).index("dimensions")
    assert lead.parse_failures == {"dimensions": 1}

    next_question = chat.say("10x15cm")
    assert seeded_script[3].prompt in next_question
    lead = chat.lead
    assert lead.parse_failures == {}
    assert (lead.width_cm, lead.height_cm) == (10, 15)


@pytest.mark.parametrize("mode", MODES)
def test_three_failures_on_one_field_hand_the_lead_over_naming_the_field(
    make_client, seeded_script, artist_phone, mode
):
    chat = Chat(make_client(), mode)
    chat.say("hello")
    chat.answer_until("budget", seeded_script)

    first, second = chat.say("not sure yet"), chat.say("depends")
    assert "£600" in first + second  # the question's example, which the parser accepts
    handover_message = chat.say("whatever you think")

    lead = chat.lead
    assert lead.status == Status.NEEDS_ARTIST_REPLY
    assert "budget" in lead.handover_reason
    assert lead.parse_failures == {"budget": 3}
    assert "artist" in handover_message
    [packet] = artist_notes()
    assert "budget" in packet.body
    assert "budget ×3" in packet.body
    assert "whatever you think" in packet.body  # the last messages travel with the packet


STOPPABLE = [s for s in Status if s in TRANSITIONS["opt_out"][0]]
# A message to a closed lead starts a new lead in record_inbound, so those go to the flow only.
STOP_CASES = [(s, "flow") for s in STOPPABLE] + [
    (s, "webhook") for s in STOPPABLE if s not in CLOSED_STATUSES
]


@pytest.mark.parametrize(("status", "mode"), STOP_CASES)
def test_stop_from_every_status_then_start(make_lead, seeded_script, status, mode):
    lead = make_lead(status)
    chat = Chat(lead.client, mode)

    [confirmation] = chat.send("STOP")
    assert confirmation.payload["purpose"] == outbox.OPT_OUT_CONFIRMATION
    assert "START" in confirmation.body
    lead.refresh_from_db()
    lead.client.refresh_from_db()
    assert lead.status == Status.OPTOUT
    assert lead.client.opted_out_at is not None
    assert lead.status_changes.last().transition == "opt_out"

    assert chat.send("STOP") == []  # exactly one confirmation
    assert chat.send("hello?") == []  # nothing else reaches an opted-out client

    welcome = chat.say("START")
    lead.refresh_from_db()
    lead.client.refresh_from_db()
    assert lead.client.opted_out_at is None
    assert lead.status == Status.QUALIFYING
    assert [c.transition for c in lead.status_changes.all()][-2:] == [
        "restart",
        "start_qualifying",
    ]
    assert seeded_script[lead.current_step].prompt in welcome  # the question it stopped at


@pytest.mark.parametrize("mode", MODES)
def test_stop_mid_consultation_and_start_picks_up_at_the_same_question(
    make_client, seeded_script, mode
):
    chat = Chat(make_client(), mode)
    chat.say("hi")
    chat.answer_until("style", seeded_script)

    assert len(chat.send("stop")) == 1
    assert chat.send("A rose") == []
    welcome = chat.say("start")
    assert seeded_script[3].prompt in welcome
    assert chat.lead.status == Status.QUALIFYING
    assert seeded_script[4].prompt in chat.say("Blackwork")


@pytest.mark.parametrize("mode", MODES)
def test_a_budget_below_the_regional_minimum_needs_follow_up_and_the_lead_continues(
    make_client, seeded_script, artist_phone, mode
):
    chat = Chat(make_client(), mode)
    chat.say("hi")
    finish_script(chat, seeded_script, {"budget": "£300"})

    follow_up = chat.say("yes")
    lead = chat.lead
    assert lead.status == Status.NEEDS_FOLLOW_UP
    assert "£400" in follow_up and "£300" in follow_up
    assert "below the UK minimum" in lead.status_changes.last().reason
    assert len(artist_notes()) == 1

    noted = chat.say("ok I could stretch to £450")
    assert chat.lead.pk == lead.pk  # the same lead, not a new one
    lead = chat.lead
    assert lead.status == Status.NEEDS_FOLLOW_UP
    assert lead.budget_minor == 45000
    assert "£450" in noted
    assert lead.current_answers()["budget"].text == "ok I could stretch to £450"
    assert len(artist_notes()) == 2

    assert len(chat.send("thanks!")) == 1  # an acknowledgement …
    assert chat.send("let me know") == []  # … at most once per cooldown
    assert Lead.objects.filter(client=chat.client).count() == 1


@pytest.mark.parametrize("mode", MODES)
def test_a_tour_offer_accepted_at_the_city_answer_then_the_consultation_finishes(
    make_client, seeded_script, artist_phone, mode
):
    TourStop.objects.create(city="Berlin", country_code="DE")
    chat = Chat(make_client(), mode)
    chat.say("hi")
    replies = finish_script(chat, seeded_script, {"travel_city": "Glasgow"})

    # Told at the travel-city answer, not after the summary.
    offer = replies[-1]
    assert chat.lead.status == Status.TOUR_CONVERSION_OFFERED
    assert "Glasgow" in offer and "London" in offer and "Berlin" in offer
    assert chat.lead.current_step == len(seeded_script) - 1  # the timing is still to come

    carry_on = chat.say("Yes, I can travel", kind="interactive", reply_id="tour_yes")
    assert seeded_script[-1].prompt in carry_on
    assert "change budget to 800" in chat.say("2")
    chat.say("yes")
    lead = chat.lead
    assert lead.status == Status.PENDING_APPROVAL
    assert lead.current_answers()["tour_offer"].value is True
    assert len(artist_notes()) == 1


@pytest.mark.parametrize("mode", MODES)
def test_a_tour_offer_declined_at_the_city_answer_waitlists(make_client, seeded_script, mode):
    chat = Chat(make_client(), mode)
    chat.say("hi")
    finish_script(chat, seeded_script, {"travel_city": "New York"})
    assert chat.lead.status == Status.TOUR_CONVERSION_OFFERED

    unclear = chat.say("hmm maybe")
    assert "YES or NO" in unclear
    declined = chat.say("no thanks")
    assert chat.lead.status == Status.WAITLISTED
    assert "New York" in declined


@pytest.mark.parametrize("mode", MODES)
def test_handover_holding_reply_once_artist_resume_and_the_flow_continues(
    make_client, seeded_script, artist_phone, mode
):
    chat = Chat(make_client(), mode)
    chat.say("hi")
    chat.answer_until("dimensions", seeded_script)

    handed_over = chat.say("can I talk to a real person please")
    lead = chat.lead
    assert lead.status == Status.NEEDS_ARTIST_REPLY
    assert lead.handover_reason == "Client asked for a person"
    assert "artist" in handed_over
    assert len(artist_notes()) == 1

    holding = chat.send("hello?")
    assert len(holding) == 1 and holding[0].payload["purpose"] == "holding"
    assert chat.send("anyone there?") == []
    assert lead.messages.inbound().count() == 6  # every message is kept for the artist

    before = len(Message.objects.outbound().filter(client=chat.client))
    artist_flow.act(lead, "resume", reason="answered on the phone", actor="artist")
    [reasked] = Message.objects.outbound().filter(client=chat.client)[before:]
    assert seeded_script[2].prompt in reasked.body
    assert chat.lead.status == Status.QUALIFYING
    assert chat.lead.current_step == keys(seeded_script).index("dimensions")

    assert seeded_script[3].prompt in chat.say("12 x 8 cm")
    finish_script(chat, seeded_script)
    chat.say("yes")
    assert chat.lead.status == Status.PENDING_APPROVAL


@pytest.mark.parametrize("mode", MODES)
def test_the_client_can_resume_a_handover_with_continue(make_client, seeded_script, mode):
    chat = Chat(make_client(), mode)
    chat.say("hi")
    chat.answer_until("placement", seeded_script)
    chat.say("I want a refund")
    assert chat.lead.status == Status.NEEDS_ARTIST_REPLY

    reasked = chat.say("continue")
    assert chat.lead.status == Status.QUALIFYING
    assert seeded_script[1].prompt in reasked
    assert seeded_script[2].prompt in chat.say("Left calf")


def test_a_reference_photo_answers_the_image_question_through_the_webhook(
    make_client, seeded_script
):
    chat = Chat(make_client(), "webhook")
    chat.say("hi")
    chat.answer_until("reference_images", seeded_script)

    assert seeded_script[7].prompt in chat.say(kind="image", media=[photo("like this")])
    answer = chat.lead.current_answers()["reference_images"]
    assert answer.value["media"][0]["mime_type"] == "image/jpeg"
    # The rest of a burst of photos joins the answer without repeating the next question.
    assert chat.send(kind="image", media=[photo()]) == []
    assert len(chat.lead.current_answers()["reference_images"].value["media"]) == 2


def test_replies_are_only_queued_never_sent_inside_the_flow(
    make_client, seeded_script, settings, httpserver
):
    # Real sending is on and points at a fake Graph API: the flow itself must not call it.
    settings.OUTBOUND_DRY_RUN = False
    settings.WHATSAPP_API_BASE = httpserver.url_for("/v21.0")
    chat = Chat(make_client(), "inbound")
    chat.say("hi")
    assert {m.status for m in Message.objects.outbound()} == {"queued"}
    assert len(httpserver.log) == 0


def test_a_hand_back_right_after_an_artist_reply_lets_the_client_answer_first(
    make_client, seeded_script, artist_phone
):
    chat = handed_over_at(make_client, seeded_script, "style", mode="webhook")
    artist_flow.reply(chat.lead, "Hi Robin, fine line would suit a peony.", actor="artist:ink")
    sent = Message.objects.outbound().filter(client=chat.client).count()
    artist_flow.act(chat.lead, "resume", reason="replied", actor="artist:ink")
    assert chat.lead.status == Status.QUALIFYING
    assert chat.lead.handover_reason == ""
    assert Message.objects.outbound().filter(client=chat.client).count() == sent

    # The client's next message is the answer to the question they were on.
    assert seeded_script[4].prompt in chat.say("Fine line please")
    assert chat.lead.current_answers()["style"].text == "Fine line please"

    # A second episode, resumed twice from the API: one re-ask, the second resume refused.
    chat.say("I'd like to speak to the artist")
    assert chat.lead.handover_reason == "Client asked for a person"
    api = api_as_artist()
    sent = Message.objects.outbound().filter(client=chat.client).count()
    statuses = [api_resume(api, chat.lead).status_code for _ in range(2)]
    assert statuses == [200, 409]
    [reasked] = Message.objects.outbound().filter(client=chat.client).order_by("pk")[sent:]
    assert seeded_script[4].prompt in reasked.body


def test_a_correction_to_a_budget_range_keeps_the_range(make_client, seeded_script):
    chat = Chat(make_client(), "webhook")
    chat.say("hi")
    chat.answer_until(None, seeded_script)
    corrected = chat.say("change budget to 500-600")
    # Only the changed line, not the whole summary again.
    assert corrected.startswith("Updated: budget £500–600.")
    assert "Idea" not in corrected
    assert chat.lead.current_answers()["budget"].value["max_minor"] == 60000
