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


# ---------------------------------------------------------------------------------- rough sizes


@dataclass(frozen=True)
class RoughSize:
    """An honest "not sure": a size category in words, with a typical size to estimate from."""

    name: str
    dimensions: Dimensions | None

    @property
    def display(self) -> str:
        if self.dimensions is None:
            return "Not sure yet (the artist will advise)"
        return f"{self.name.capitalize()}, about {self.dimensions.display} (rough guess)"


def _typical(width: str, height: str) -> Dimensions:
    return Dimensions(Decimal(width), Decimal(height))


# Phrase → (the name shown, a typical width × height in cm); the longest phrase wins.
_ROUGH_SIZES = {
    "tiny": ("tiny", _typical("3", "3")),
    "very small": ("very small", _typical("4", "4")),
    "really small": ("very small", _typical("4", "4")),
    "finger": ("finger sized", _typical("2", "5")),
    "coin": ("coin sized", _typical("3", "3")),
    "small": ("small", _typical("6", "6")),
    "little": ("small", _typical("6", "6")),
    "credit card": ("credit-card sized", _typical("5", "8")),
    "palm": ("palm sized", _typical("8", "10")),
    "hand": ("hand sized", _typical("10", "15")),
    "medium": ("medium", _typical("10", "12")),
    "mid": ("medium", _typical("10", "12")),
    "phone": ("phone sized", _typical("7", "15")),
    "big": ("large", _typical("15", "20")),
    "large": ("large", _typical("15", "20")),
    "forearm": ("forearm length", _typical("8", "22")),
    "half sleeve": ("half sleeve", _typical("20", "30")),
    "quarter sleeve": ("quarter sleeve", _typical("15", "20")),
    "full sleeve": ("full sleeve", _typical("25", "60")),
    "sleeve": ("full sleeve", _typical("25", "60")),
    "back piece": ("back piece", _typical("35", "50")),
    "full back": ("back piece", _typical("35", "50")),
    "chest piece": ("chest piece", _typical("30", "20")),
}
_ROUGH = re.compile(
    r"\b(?P<size>"
    + "|".join(sorted(map(re.escape, _ROUGH_SIZES), key=len, reverse=True))
    + r")(?:[- ]?(?:sized?|ish|length|piece))?\b",
    re.IGNORECASE,
)
_NOT_SURE = re.compile(
    r"^(?:idk|i ?dunno|dunno|no idea|not sure|unsure|i'?m not sure|i don'?t know|don'?t know|"
    r"no clue|not a clue|haven'?t decided|not decided|tbc|you tell me|whatever you think|"
    r"up to (?:you|the artist)|what do you (?:think|suggest|recommend))(?:\s+(?:yet|really|tbh|"
    r"honestly|sorry))*[.!?]*$",
    re.IGNORECASE,
)


def parse_rough_size(text: str) -> RoughSize | None:
    """ "palm sized", "small", "half sleeve" → a rough category; "idk" → not sure; else None."""
    cleaned = " ".join((text or "").replace("’", "'").split()).strip()
    if _NOT_SURE.match(cleaned):
        return RoughSize("not sure", None)
    found = {_ROUGH_SIZES[m.group("size").lower()] for m in _ROUGH.finditer(cleaned)}
    if len(found) != 1 or len(cleaned.split()) > 8:
        return None  # "small or big?" is no answer, nor is a sentence that happens to say "big"
    name, dims = found.pop()
    return RoughSize(name, dims)
