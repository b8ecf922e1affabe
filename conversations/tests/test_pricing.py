"""Pricing: size category, XL days and deposit from the answers and the studio's settings.

Pure functions: nothing here touches the database.
"""

from decimal import Decimal

import pytest

from conversations import pricing
from conversations.models import Answer, StudioSettings


def piece_with(width, height, **answers):
    """(width, height) in cm and the answers dict, as a lead's columns and answers hold them."""
    size = (Decimal(width), Decimal(height))
    return size, {key: Answer(question_key=key, text=str(v), value=v) for key, v in answers.items()}


@pytest.mark.parametrize(
    ("width", "height", "answers", "expected"),
    [
        (5, 5, {}, ("SMALL", None, 15000)),
        (7, 7, {}, ("SMALL", None, 15000)),  # 49 cm²
        (5, 10, {}, ("SMALL", None, 15000)),  # 50 cm²: the small maximum is inclusive
        (5, 10.1, {}, ("MEDIUM", None, 15000)),
        (10, 14.9, {}, ("MEDIUM", None, 15000)),
        (10, 15, {}, ("MEDIUM", None, 15000)),  # 150 cm²: the medium maximum is inclusive
        (10, 15.1, {}, ("LARGE", None, 20000)),
        (15, 20, {}, ("LARGE", None, 20000)),  # 300 cm²: the large maximum is inclusive
        (15, 20.1, {}, ("XL", 2, 40000)),
        (20, 30, {}, ("XL", 2, 40000)),
        (30, 30, {}, ("XL", 3, 60000)),
        (30, 40, {}, ("XL", 4, 80000)),
        (100, 100, {}, ("XL", 4, 80000)),  # at most four days
        (5, 5, {"complexity": 3}, ("MEDIUM", None, 15000)),
        (5, 5, {"placement": "left ribs"}, ("MEDIUM", None, 15000)),
        (5, 5, {"placement": "back of my hand", "complexity": 3}, ("LARGE", None, 20000)),
        (10, 15, {"coverup": True, "complexity": 3}, ("XL", 1, 20000)),
        (30, 40, {"complexity": 3}, ("XL", 4, 80000)),  # nothing above XL
        (5, 5, {"placement": "handle of my arm"}, ("SMALL", None, 15000)),  # whole words
        (5, 5, {"complexity": 2, "coverup": False}, ("SMALL", None, 15000)),
    ],
)
def test_size_category_xl_days_and_deposit(width, height, answers, expected):
    size, current = piece_with(width, height, **answers)
    found = pricing.estimate(*size, current, StudioSettings())
    assert (found.size_category, found.xl_days, found.deposit_minor) == expected


def test_the_estimate_follows_the_artists_settings():
    settings_row = StudioSettings(small_max_cm2=100, deposit_small_minor=9900)
    size, current = piece_with(9, 9)
    assert pricing.estimate(*size, current, settings_row).deposit_minor == 9900


def test_no_size_no_estimate():
    found = pricing.estimate(None, None, {}, StudioSettings())
    assert found == pricing.Estimate("", None, None)


def test_hard_placements_may_be_phrases():
    settings_row = StudioSettings(hard_placements=["inner lip", "ribs"])
    size, current = piece_with(5, 5, placement="Inner lip, left side")
    assert pricing.estimate(*size, current, settings_row).size_category == "MEDIUM"


@pytest.mark.parametrize(
    ("region", "minimum"),
    [("UK", 40000), ("EUROPE", 50000), ("ROW", 60000), ("", 40000), (None, 40000)],
)
def test_the_regional_minimum_is_the_uk_one_when_the_region_is_unknown(region, minimum):
    assert pricing.regional_minimum(StudioSettings(), region) == minimum


@pytest.mark.parametrize(
    ("budget_minor", "currency", "region", "problem"),
    [
        (45000, "GBP", "EUROPE", pricing.BudgetProblem.BELOW_MINIMUM),
        (50000, "GBP", "EUROPE", None),
        (40000, "GBP", "UK", None),  # the minimum itself is enough
        (90000, "EUR", "UK", pricing.BudgetProblem.OTHER_CURRENCY),
        (30000, "", "", pricing.BudgetProblem.BELOW_MINIMUM),  # no currency: the studio's
    ],
)
def test_a_budget_needs_follow_up_below_the_minimum_or_in_another_currency(
    budget_minor, currency, region, problem
):
    assert pricing.budget_problem(budget_minor, currency, region, StudioSettings()) == problem


def test_a_cover_up_is_read_from_the_yes_no_answer():
    _size, yes = piece_with(5, 5, coverup=True)
    _size, no = piece_with(5, 5, coverup=False)
    assert (pricing.is_cover_up(yes), pricing.is_cover_up(no), pricing.is_cover_up({})) == (
        True,
        False,
        False,
    )
