"""Size answers ("10x15cm", "4x6 in", "100mm x 150mm", "10cm") as width and height in cm."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from conversations.parsing.errors import ParseError
from conversations.parsing.text import RANGE_GAP, words_to_digits

_CM_PER_UNIT = {"cm": Decimal(1), "mm": Decimal("0.1"), "in": Decimal("2.54")}
# Stored to the millimetre: finer than anyone measures skin, and fits any decimal column.
_STEP = Decimal("0.1")

# "in" is inches only at the end or before a separator, so "10x15 in size" stays in cm.
_UNIT = (
    r"(?P<unit>cm|centimet(?:er|re)s?|mm|millimet(?:er|re)s?|inch(?:es)?|"
    r"in(?=\s*(?:$|[x×*,.;:!?)]|by\b|\d))|\"|''|”|″)"
)
# A number not glued to a word ("a4", "v2"), except the "x" of "10x15".
_NUMBER = re.compile(
    r"(?<![\d.,])(?<![a-wyzA-WYZ])(?P<sign>[-−])?(?P<num>\d+(?:[.,]\d+)?)\s*" + _UNIT + "?",
    re.IGNORECASE,
)

# A times sign with no number on one side: "10x" or "x12" is half a size, not a square.
_HALF_SIZE = re.compile(
    r"(?:^|\s)(?:[x×*]|by)\s*\d|\d\s*(?:(?:cm|mm|inch(?:es)?|in|\"|''|”|″)\s*)?(?:[x×*]|by)\s*[.!?]*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Dimensions:
    """Width and height of a piece in centimetres."""

    width_cm: Decimal
    height_cm: Decimal

    @property
    def area_cm2(self) -> Decimal:
        return self.width_cm * self.height_cm

    @property
    def display(self) -> str:
        return f"{_plain(self.width_cm)} × {_plain(self.height_cm)} cm"


def _plain(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _unit_key(unit: str | None) -> str | None:
    if not unit:
        return None
    unit = unit.lower()
    if unit.startswith(("cm", "centi")):
        return "cm"
    if unit.startswith(("mm", "milli")):
        return "mm"
    return "in"


def parse_dimensions(text: str, *, max_cm: int | Decimal = 100) -> Dimensions:
    """Parse "W x H" (cm unless a unit says otherwise); one value means a square."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise ParseError("Please give a size, for example 10 x 15 cm.")
    cleaned = words_to_digits(cleaned)
    matches = list(_NUMBER.finditer(cleaned))
    if not matches:
        raise ParseError("Please give the size in numbers, for example 10 x 15 cm.")
    if len(matches) > 2:
        raise ParseError("Please give just width and height, for example 10 x 15 cm.")
    if len(matches) == 1 and _HALF_SIZE.search(cleaned):
        raise ParseError("Please give both width and height, for example 10 x 15 cm.")
    # Check "10 - 15" (a range, not a negative height) before any minus sign.
    if len(matches) == 2 and RANGE_GAP.match(cleaned[matches[0].end() : matches[1].start("num")]):
        raise ParseError("Please give width and height, for example 10 x 15 cm.")
    if any(m.group("sign") for m in matches):
        raise ParseError("Sizes need to be more than zero.")

    units = [_unit_key(m.group("unit")) for m in matches]
    # "10 x 15 cm": a bare number takes the unit written next to the other one.
    fallback = next((u for u in reversed(units) if u), "cm")
    sides = []
    for match, unit in zip(matches, units, strict=True):
        number = Decimal(match.group("num").replace(",", "."))
        cm = number * _CM_PER_UNIT[unit or fallback]
        # Compare before rounding: quantize() refuses numbers wider than the decimal context.
        if cm <= Decimal(max_cm):
            cm = cm.quantize(_STEP, rounding=ROUND_HALF_UP)
        if cm <= 0:
            raise ParseError("Sizes need to be more than zero.")
        if cm > Decimal(max_cm):
            raise ParseError(f"That's larger than we can do: each side can be at most {max_cm} cm.")
        sides.append(cm)
    width, height = sides if len(sides) == 2 else (sides[0], sides[0])
    return Dimensions(width, height)
