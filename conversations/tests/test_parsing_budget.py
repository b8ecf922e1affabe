"""Budgets and sizes as people type them: ranges kept, slips refused, half a size not a square."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.parsing import ParseError, parse_answer
from conversations.parsing.budget import PLAUSIBLE_MAXIMUM, parse_budget
from conversations.parsing.dimensions import parse_dimensions

PROPERTIES = settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])

RANGES = [
    ("£500-600", (50000, 60000, "GBP"), "£500–600"),
    ("500 to 600", (50000, 60000, "GBP"), "£500–600"),
    ("the budget is 500 to 600 not 500", (50000, 60000, "GBP"), "£500–600"),
    ("1-2k", (100000, 200000, "GBP"), "£1,000–2,000"),
    ("400-500 euros", (40000, 50000, "EUR"), "€400–500"),
    ("1000 CHF - 1500 CHF", (100000, 150000, "CHF"), "1,000–1,500 CHF"),
]


@pytest.mark.parametrize(("text", "expected", "display"), RANGES)
def test_a_budget_range_keeps_both_ends(text, expected, display):
    budget = parse_budget(text)
    assert (budget.amount_minor, budget.max_minor, budget.currency) == expected
    assert budget.display == display


def test_a_single_amount_has_no_upper_end():
    budget = parse_budget("£500")
    assert budget.max_minor is None
    assert budget.display == "£500"


def test_a_range_written_backwards_is_its_first_amount():
    budget = parse_budget("600-500")
    assert (budget.amount_minor, budget.max_minor) == (60000, None)


def test_a_range_answer_stores_its_upper_end_and_shows_the_range():
    parsed = parse_answer("budget", "£500-600")
    assert parsed.value == {"amount_minor": 50000, "currency": "GBP", "max_minor": 60000}
    assert parsed.display == "£500–600"


@pytest.mark.parametrize("text", ["400k", "£400,000", "400 grand", "half a million"])
def test_an_implausible_budget_is_refused_with_an_example(text):
    with pytest.raises(ParseError) as caught:
        parse_budget(text)
    assert "for example £400" in caught.value.reason


def test_the_refusal_names_the_amount_it_read():
    with pytest.raises(ParseError, match="£400,000 is more than a tattoo usually costs"):
        parse_budget("400k")


def test_a_large_but_believable_budget_is_kept():
    assert parse_budget("5k").amount_minor == 500000


def test_a_range_reaching_past_the_plausible_keeps_only_its_lower_end():
    budget = parse_budget("£500-400000")
    assert (budget.amount_minor, budget.max_minor) == (50000, None)


@pytest.mark.parametrize("text", ["10x", "x12", "10 x", "10cm x", "by 12", "10 by", "maybe x12"])
def test_half_a_size_is_not_a_square(text):
    with pytest.raises(ParseError, match="both width and height"):
        parse_dimensions(text)


@pytest.mark.parametrize("text", ["10", "10cm", "10 cm square", "10x15", "10 box"])
def test_a_size_with_both_sides_or_one_plain_value_still_parses(text):
    assert parse_dimensions(text).width_cm > 0


@PROPERTIES
@given(st.text(max_size=80))
def test_the_budget_parser_raises_only_parse_errors(text):
    try:
        budget = parse_budget(text)
    except ParseError as error:
        assert error.reason
    else:
        assert budget.max_minor is None or budget.max_minor > budget.amount_minor
        assert budget.amount_minor <= PLAUSIBLE_MAXIMUM * 100 or budget.currency != "GBP"


@PROPERTIES
@given(st.text(max_size=80))
def test_the_dimensions_parser_raises_only_parse_errors(text):
    try:
        dims = parse_dimensions(text)
    except ParseError as error:
        assert error.reason
    else:
        assert dims.width_cm > 0 and dims.height_cm > 0
