"""Property tests: on any text, each parser returns or raises its own ParseError, nothing else;
slot filling and the FAQ matcher never raise at all."""

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.parsing import PARSERS, ParseError, parse_answer
from conversations.parsing.corrections import parse_correction
from conversations.parsing.enquiries import FaqEntry, FaqMatcher
from conversations.parsing.fragments import find_slots, is_substantive, without
from conversations.parsing.intents import detect_intent
from conversations.parsing.location import home_location

OPTIONS = {
    "budget": {"minimum": 50, "default_currency": "GBP"},
    "choice": {"options": [["a", "Fine line"], ["b", "Blackwork"]]},
    "location": {"home": home_location("Manchester", "GB")},
}
# Text shaped like answers (digits, units, currency, place-ish words) as well as any text.
ANSWER_LIKE = st.one_of(
    st.text(max_size=80),
    st.lists(
        st.sampled_from(
            [
                "10",
                "x",
                "15",
                "cm",
                "£",
                "500",
                "-",
                "k",
                "in",
                "spring",
                "no",
                "rush",
                "same",
                "Manchester",
                ",",
                "?",
                "@",
                "sam",
                ".",
                "ink",
                "none",
                "later",
                "1.5",
                "×",
                "by",
                "palm",
                "sized",
                "idk",
                "'",
                "’",
                "é",
                "0",
                "-3",
                "http://",
                "a.b/c",
                "  ",
            ]
        ),
        max_size=12,
    ).map(" ".join),
)
RELAXED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("kind", sorted(PARSERS))
@RELAXED
@given(text=ANSWER_LIKE)
def test_a_parser_raises_nothing_but_its_own_error(kind, text):
    try:
        parsed = parse_answer(kind, text, **OPTIONS.get(kind, {}))
    except ParseError as error:
        assert error.reason
    else:
        assert isinstance(parsed.display, str)


@pytest.mark.parametrize(
    "options",
    [{"allow_flexible": False, "certain_country_only": True}, {"home": None}],
    ids=["home city", "travel city"],
)
@RELAXED
@given(text=ANSWER_LIKE)
def test_the_location_parser_with_each_questions_options_raises_only_its_error(options, text):
    with contextlib.suppress(ParseError):
        parse_answer("location", text, **options)


MATCHER = FaqMatcher([FaqEntry("1", "price"), FaqEntry("2", "other", ("parking", "card?"))])


@RELAXED
@given(text=ANSWER_LIKE)
def test_slot_filling_and_questions_never_raise(text):
    slots = find_slots(text)
    assert all(0 <= slot.start <= slot.end <= len(text) for slot in slots)
    is_substantive(without(text, slots))
    MATCHER.match(text)
    parse_correction(text)
    detect_intent(text)
