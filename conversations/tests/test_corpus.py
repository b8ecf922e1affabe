"""The acceptance corpus of issue 9: what clients type → what is stored, asked or handed
over, for every parser, the FAQ questions, slot filling and the whole flow (corpus/*.py)."""

from datetime import date

import pytest

from conversations.models import Answer, Message, Status
from conversations.parsing import ParseError, parse_answer
from conversations.parsing.enquiries import asked_topic, carried_idea
from conversations.parsing.fragments import find_slots
from conversations.parsing.location import home_location
from conversations.parsing.text import fold
from conversations.tests.corpus.enquiries import CARRIED_IDEAS, ENQUIRY_CORPUS
from conversations.tests.corpus.flow import FLOW_CORPUS
from conversations.tests.corpus.fragments import SLOT_CORPUS
from conversations.tests.corpus.parsers import PARSER_CORPUS
from conversations.tests.test_flow_support import Chat

# The parser and options each corpus kind stands for (the questions' own, flows/script.py).
KINDS = {
    "budget": ("budget", {"minimum": 50, "default_currency": "GBP"}),
    "home_city": ("location", {"allow_flexible": False, "certain_country_only": True}),
    "travel_city": ("location", {"home": home_location("Manchester", "GB")}),
    "timing": ("timing", {"today": date(2026, 12, 2)}),
}


def test_the_corpus_holds_at_least_400_real_shaped_answers():
    sizes = [PARSER_CORPUS, ENQUIRY_CORPUS, CARRIED_IDEAS, SLOT_CORPUS, FLOW_CORPUS]
    assert sum(map(len, sizes)) >= 400


@pytest.mark.parametrize(("kind", "text", "display"), PARSER_CORPUS)
def test_each_parser_reads_what_clients_type(kind, text, display):
    parser, options = KINDS.get(kind, (kind, {}))
    if display is None:
        with pytest.raises(ParseError):
            parse_answer(parser, text, **options)
    else:
        assert parse_answer(parser, text, **options).display == display


@pytest.mark.parametrize(("text", "topic"), ENQUIRY_CORPUS)
def test_questions_are_told_from_answers(text, topic):
    assert asked_topic(text) == topic


@pytest.mark.parametrize(("text", "idea"), CARRIED_IDEAS)
def test_a_question_may_carry_the_idea(text, idea):
    assert carried_idea(fold(text)) == idea


@pytest.mark.parametrize(("text", "slots"), SLOT_CORPUS)
def test_slot_filling_finds_each_fragment_once(text, slots):
    assert {slot.target: slot.text for slot in find_slots(text)} == slots


@pytest.mark.django_db
@pytest.mark.parametrize("case", FLOW_CORPUS, ids=lambda case: f"{case.at}:{case.text}")
def test_the_flow_stores_asks_or_hands_over(make_client, seeded_script, case):
    chat = Chat(make_client(), "flow")
    chat.say("hi")
    chat.answer_until(case.at, seeded_script, case.given)
    before = set(Answer.objects.filter(lead=chat.lead).values_list("pk", flat=True))
    [reply] = chat.send(case.text)
    message = Message.objects.inbound().filter(client=chat.client).latest("pk")
    lead = chat.lead

    new = Answer.objects.filter(lead=lead).exclude(pk__in=before)
    assert {a.question_key: a.text for a in new} == case.stored
    assert all(answer.message_id == message.pk for answer in new)  # each cites the message
    by_key = {q.key: q for q in seeded_script}
    if case.asks is None:
        assert lead.status in (Status.NEEDS_ARTIST_REPLY, Status.TOUR_CONVERSION_OFFERED)
    elif case.asks == "summary":
        assert "change budget to 800" in reply.body
    elif case.asks == "":
        repaired = reply.payload.get("purpose") == "repair"
        assert repaired or by_key[case.at].prompt in reply.body
        assert lead.status == Status.QUALIFYING
    else:
        assert by_key[case.asks].prompt in reply.body
        assert lead.status == Status.QUALIFYING
    for words in case.says:
        assert words in reply.body
    for words in case.never_says:
        assert words not in reply.body
