"""Which offered slot a reply picks, and the times a client says suit them."""

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.parsing.errors import ParseError
from conversations.parsing.slots import (
    AmbiguousChoice,
    ChoiceOutOfRange,
    NoChoice,
    NoTimeWindows,
    SlotChoiceError,
    Window,
    parse_slot_choice,
    parse_time_windows,
)

LONDON = ZoneInfo("Europe/London")
PROPERTIES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Option:
    start: datetime
    end: datetime


def option(day, hour):
    """A 2-hour slot on a day of June 2031 (Mon 2, Tue 3, Thu 5), London time."""
    return Option(
        datetime(2031, 6, day, hour, tzinfo=LONDON), datetime(2031, 6, day, hour + 2, tzinfo=LONDON)
    )


# Mon 10:00, Mon 14:00, Tue 10:00, Thu 16:00.
OPTIONS = [option(2, 10), option(2, 14), option(3, 10), option(5, 16)]
NOW = datetime(2031, 6, 1, 12, tzinfo=LONDON)  # a Sunday


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("2", 1),
        ("option 2", 1),
        ("Option 2 please", 1),
        ("#2", 1),
        ("no. 3", 2),
        ("the second one", 1),
        ("Second please!", 1),
        ("2nd", 1),
        ("I'll take the first one", 0),
        ("two", 1),
        ("the last one", 3),
        ("Tuesday at 10", 2),
        ("monday at 2", 1),
        ("Monday afternoon", 1),
        ("monday morning", 0),
        ("Tue 10am", 2),
        ("Thu 4pm", 3),
        ("thursday at 4 p.m.", 3),
        ("14:00", 1),
        ("16.00", 3),
        ("Tuesday", 2),
        ("3 June", 2),
        ("June 5th works", 3),
    ],
)
def test_a_reply_picks_one_offered_slot(text, index):
    assert parse_slot_choice(text, OPTIONS, LONDON) == index


@pytest.mark.parametrize("text", ["1 or 2", "2, 4", "2 and 3", "either 1 or 3", "Monday", "10am"])
def test_a_reply_fitting_several_options_is_ambiguous(text):
    with pytest.raises(AmbiguousChoice):
        parse_slot_choice(text, OPTIONS, LONDON)


@pytest.mark.parametrize(
    "text", ["5", "option 9", "the fifth one", "0", "Tue 2pm", "Friday", "Wed 10am"]
)
def test_a_choice_that_is_not_on_offer_is_out_of_range(text):
    with pytest.raises(ChoiceOutOfRange):
        parse_slot_choice(text, OPTIONS, LONDON)


@pytest.mark.parametrize(
    "text",
    [
        "sometime next month",
        "call me at 5",
        "we are 4 people",
        "I have 2 questions",
        "the one with the sun",
        "yes",
        "",
        "   ",
        "what about the 2024 prices",
        "I'm sat at my desk",
    ],
)
def test_words_and_numbers_that_are_not_a_choice_choose_nothing(text):
    with pytest.raises(NoChoice):
        parse_slot_choice(text, OPTIONS, LONDON)


def test_a_tue_at_two_matches_the_slot_offered_then():
    options = [option(3, 10), option(3, 14)]

    assert parse_slot_choice("Tue 2pm", options, LONDON) == 1


def test_the_day_is_read_in_the_artists_time_zone():
    # 23:30 UTC on Monday is 00:30 on Tuesday in London (BST).
    late = Option(
        datetime(2031, 6, 2, 23, 30, tzinfo=ZoneInfo("UTC")),
        datetime(2031, 6, 3, 1, tzinfo=ZoneInfo("UTC")),
    )

    assert parse_slot_choice("tuesday", [option(2, 10), late], LONDON) == 1


def test_choice_errors_are_parse_errors_with_a_reason():
    with pytest.raises(ParseError) as caught:
        parse_slot_choice("1 or 2", OPTIONS, LONDON)

    assert isinstance(caught.value, SlotChoiceError)
    assert caught.value.reason


@PROPERTIES
@given(st.text(max_size=60))
def test_the_choice_parser_raises_only_its_own_errors(text):
    try:
        index = parse_slot_choice(text, OPTIONS, LONDON)
    except SlotChoiceError as error:
        assert error.reason
    else:
        assert 0 <= index < len(OPTIONS)


@PROPERTIES
@given(
    st.lists(
        st.sampled_from(
            [
                "2",
                "option",
                "Mon",
                "tue",
                "2pm",
                "14:00",
                "or",
                ",",
                "the",
                "second",
                "one",
                "at",
                "5",
                "people",
                "afternoon",
                "June",
                "3rd",
                "#4",
                "p.m.",
            ]
        ),
        max_size=6,
    )
)
def test_choice_words_in_any_order_raise_only_its_own_errors(words):
    try:
        index = parse_slot_choice(" ".join(words), OPTIONS, LONDON)
    except SlotChoiceError as error:
        assert error.reason
    else:
        assert 0 <= index < len(OPTIONS)


# ---------------------------------------------------------------------- time windows

WEEKDAYS = frozenset(range(5))


@pytest.mark.parametrize(
    ("text", "windows"),
    [
        ("weekday evenings", [(WEEKDAYS, time(17), time(23, 59))]),
        ("Sat mornings", [({5}, time(6), time(12))]),
        ("any time after 3pm on Fridays", [({4}, time(15), None)]),
        (
            "weekday evenings, Sat mornings",
            [(WEEKDAYS, time(17), time(23, 59)), ({5}, time(6), time(12))],
        ),
        ("Mondays and Tuesdays after 5", [({0, 1}, time(17), None)]),
        ("Sat mornings or afternoons", [({5}, time(6), time(12)), ({5}, time(12), time(17))]),
        ("between 2 and 4 on weekdays", [(WEEKDAYS, time(14), time(16))]),
        ("Thursdays 5-8pm", [({3}, time(17), time(20))]),
        ("before 11 on wed", [({2}, None, time(11))]),
        ("weekends", [({5, 6}, None, None)]),
        ("tomorrow afternoon", [({0}, time(12), time(17))]),
        ("evenings", [(frozenset(), time(17), time(23, 59))]),
    ],
)
def test_times_that_suit_are_read_into_day_and_time_ranges(text, windows):
    parsed = parse_time_windows(text, LONDON, NOW)

    assert [(w.days, w.start, w.end) for w in parsed] == [
        (frozenset(d), s, e) for d, s, e in windows
    ]


def test_each_window_keeps_the_words_it_came_from():
    parsed = parse_time_windows("weekday evenings, Sat mornings", LONDON, NOW)

    assert [w.raw for w in parsed] == ["weekday evenings", "sat mornings"]


def test_a_window_reads_back_plainly():
    assert str(Window(frozenset({4}), time(15), None)) == "Fri after 15:00"
    assert str(Window(WEEKDAYS, time(17), time(21))) == "Weekdays 17:00–21:00"


def test_a_window_contains_the_times_inside_it():
    window = parse_time_windows("Fridays after 3pm", LONDON, NOW)[0]

    assert window.contains(datetime(2031, 6, 6, 16, tzinfo=LONDON))
    assert not window.contains(datetime(2031, 6, 6, 14, tzinfo=LONDON))
    assert not window.contains(datetime(2031, 6, 5, 16, tzinfo=LONDON))


@pytest.mark.parametrize(
    "text", ["sometime next month", "whenever you're free", "I'm not sure", "", "call me at 5"]
)
def test_no_day_or_time_is_no_windows(text):
    if text == "whenever you're free":
        assert parse_time_windows(text, LONDON, NOW)[0].days == frozenset()
        return
    with pytest.raises(NoTimeWindows):
        parse_time_windows(text, LONDON, NOW)


@PROPERTIES
@given(st.text(max_size=60))
def test_the_windows_parser_raises_only_its_own_errors(text):
    try:
        windows = parse_time_windows(text, LONDON, NOW)
    except SlotChoiceError as error:
        assert error.reason
    else:
        assert windows and all(w.days or w.start or w.end or w.raw for w in windows)
