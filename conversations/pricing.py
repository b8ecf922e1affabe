"""Size category, deposit and budget minimums: pure functions of the answers and the studio's
settings. Nothing here reads the database; callers pass the values in.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from conversations.parsing.location import EUROPE, ROW, UK
from conversations.questions import COMPLEXITY, COVERUP, PLACEMENT

SIZE_CATEGORIES = ("SMALL", "MEDIUM", "LARGE", "XL")
MAX_XL_DAYS = 4


class StoredAnswer(Protocol):
    """What pricing reads of an answer (an Answer row, in the app)."""

    @property
    def text(self) -> str: ...

    @property
    def value(self) -> Any: ...


class StudioRules(Protocol):
    """The studio settings pricing reads (StudioSettings, in the app)."""

    @property
    def currency(self) -> str: ...

    @property
    def min_budget_uk_minor(self) -> int: ...

    @property
    def min_budget_europe_minor(self) -> int: ...

    @property
    def min_budget_row_minor(self) -> int: ...

    @property
    def small_max_cm2(self) -> int: ...

    @property
    def medium_max_cm2(self) -> int: ...

    @property
    def large_max_cm2(self) -> int: ...

    @property
    def xl_cm2_per_day(self) -> int: ...

    @property
    def deposit_small_minor(self) -> int: ...

    @property
    def deposit_medium_minor(self) -> int: ...

    @property
    def deposit_large_minor(self) -> int: ...

    @property
    def deposit_xl_per_day_minor(self) -> int: ...

    @property
    def hard_placements(self) -> Iterable[Any]: ...


Answers = Mapping[str, StoredAnswer]


@dataclass(frozen=True)
class Estimate:
    size_category: str
    xl_days: int | None
    deposit_minor: int | None


class BudgetProblem(StrEnum):
    """Why a budget needs the artist's follow-up."""

    OTHER_CURRENCY = "other_currency"  # not comparable with the minimum
    BELOW_MINIMUM = "below_minimum"


def _is_hard_placement(placement: str, hard_placements: Iterable[Any]) -> bool:
    """Whole words or phrases only: "hand" is in "back of my hand", not in "handle"."""
    text = placement.casefold()
    return any(
        re.search(rf"(?<![\w']){re.escape(str(hard).casefold())}(?![\w'])", text)
        for hard in hard_placements
    )


def bumps(answers: Answers, studio: StudioRules) -> list[str]:
    """What makes a piece a size category bigger than its area: each counts one step."""
    found = []
    complexity = answers.get(COMPLEXITY)
    if complexity is not None and complexity.value == 3:
        found.append("high detail")
    if is_cover_up(answers):
        found.append("cover-up")
    placement = answers.get(PLACEMENT)
    if placement is not None and _is_hard_placement(placement.text, studio.hard_placements):
        found.append("hard placement")
    return found


def is_cover_up(answers: Answers) -> bool:
    coverup = answers.get(COVERUP)
    return coverup is not None and coverup.value is True


def estimate(
    width_cm: Decimal | None, height_cm: Decimal | None, answers: Answers, studio: StudioRules
) -> Estimate:
    """Size category from the area (bumped a step per hard factor), XL days and the deposit."""
    if width_cm is None or height_cm is None:
        return Estimate("", None, None)
    area = width_cm * height_cm
    limits = (studio.small_max_cm2, studio.medium_max_cm2, studio.large_max_cm2)
    # Each maximum is inclusive: 10 × 15 cm (150 cm²) with a medium maximum of 150 is MEDIUM.
    index = sum(area > limit for limit in limits)
    category = SIZE_CATEGORIES[min(index + len(bumps(answers, studio)), len(limits))]
    if category == "XL":
        days = min(max(math.ceil(area / studio.xl_cm2_per_day), 1), MAX_XL_DAYS)
        return Estimate(category, days, studio.deposit_xl_per_day_minor * days)
    deposit = {
        "SMALL": studio.deposit_small_minor,
        "MEDIUM": studio.deposit_medium_minor,
        "LARGE": studio.deposit_large_minor,
    }[category]
    return Estimate(category, None, deposit)


def regional_minimum(studio: StudioRules, region: str) -> int:
    """The budget minimum for the client's region (UK when the region is unknown)."""
    if region == EUROPE:
        return studio.min_budget_europe_minor
    if region == ROW:
        return studio.min_budget_row_minor
    return studio.min_budget_uk_minor


def budget_problem(
    budget_minor: int, currency: str, region: str, studio: StudioRules
) -> BudgetProblem | None:
    """Whether a budget needs the artist's follow-up; None when it meets the minimum."""
    if currency and currency != studio.currency:
        return BudgetProblem.OTHER_CURRENCY
    if budget_minor < regional_minimum(studio, region):
        return BudgetProblem.BELOW_MINIMUM
    return None


def region_name(region: str) -> str:
    return region or UK
