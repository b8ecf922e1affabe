"""Parsing an answer of a question kind: the kinds' parsers behind one `parse_answer`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from conversations.parsing.budget import parse_budget
from conversations.parsing.choices import (
    TIMING_LABELS,
    option_pairs,
    parse_choice,
    parse_complexity,
    parse_handle,
    parse_timing,
    parse_yes_no,
)
from conversations.parsing.dimensions import parse_dimensions
from conversations.parsing.errors import ParsedAnswer, ParseError
from conversations.parsing.location import parse_country, parse_location

_DISPLAY_LIMIT = 80
# Links with a scheme or "www.", or a bare domain followed by a path ("pinterest.com/pin/1").
_URL = re.compile(
    r"(?:https?://|www\.)[\w-]+\.[^\s<>\"']+|\b(?:[a-z0-9-]+\.)+[a-z]{2,}/[^\s<>\"']*",
    re.IGNORECASE,
)
_NO_MEDIA = re.compile(
    r"^(?:no|nope|none|nothing|n/?a|no refs?|no references?|"
    r"(?:i )?do(?:n'?t| not) have (?:any|one)(?: yet)?)[.!]*$",
    re.IGNORECASE,
)
_COMPLEXITY_LABELS = {1: "Simple", 2: "Medium", 3: "High detail"}


def shorten(text: str) -> str:
    """At most 80 characters, for a summary line."""
    return text if len(text) <= _DISPLAY_LIMIT else text[: _DISPLAY_LIMIT - 1].rstrip() + "…"


def parse_text(text: str) -> str:
    """Free text: stripped and non-empty."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise ParseError("Please type an answer.")
    return cleaned


def parse_media(text: str, *, allow_none: bool = True) -> list[str]:
    """Links in a text answer (a real attachment is the caller's business); [] for "none"."""
    cleaned = (text or "").strip().replace("’", "'")
    urls = [url.rstrip(".,;:!?)") for url in _URL.findall(cleaned)]
    if urls:
        return urls
    if allow_none and _NO_MEDIA.match(cleaned):
        return []
    raise ParseError("Please send a photo, or paste a link to one.")


def _text(text: str) -> ParsedAnswer:
    value = parse_text(text)
    return ParsedAnswer(value, shorten(value))


def _dimensions(text: str, **options: Any) -> ParsedAnswer:
    dims = parse_dimensions(text, **options)
    value = {
        "width_cm": str(dims.width_cm),
        "height_cm": str(dims.height_cm),
        "area_cm2": str(dims.area_cm2),
    }
    return ParsedAnswer(value, dims.display)


def _budget(text: str, **options: Any) -> ParsedAnswer:
    budget = parse_budget(text, **options)
    value: dict[str, Any] = {"amount_minor": budget.amount_minor, "currency": budget.currency}
    if budget.max_minor is not None:
        value["max_minor"] = budget.max_minor
    return ParsedAnswer(value, budget.display)


def _location(text: str, **options: Any) -> ParsedAnswer:
    location = parse_location(text, **options)
    return ParsedAnswer(location.as_dict(), location.display)


def _country(text: str, **options: Any) -> ParsedAnswer:
    location = parse_country(text, **options)
    return ParsedAnswer(location.as_dict(), location.display)


def _choice(text: str, *, options: Any) -> ParsedAnswer:
    choice_id = parse_choice(text, options)
    return ParsedAnswer(choice_id, dict(option_pairs(options))[choice_id])


def _yes_no(text: str) -> ParsedAnswer:
    value = parse_yes_no(text)
    return ParsedAnswer(value, "Yes" if value else "No")


def _complexity(text: str) -> ParsedAnswer:
    value = parse_complexity(text)
    return ParsedAnswer(value, f"{_COMPLEXITY_LABELS[value]} ({value})")


def _media(text: str, **options: Any) -> ParsedAnswer:
    urls = parse_media(text, **options)
    if not urls:
        return ParsedAnswer({"urls": []}, "None")
    label = "1 link" if len(urls) == 1 else f"{len(urls)} links"
    return ParsedAnswer({"urls": urls}, label)


def _handle(text: str) -> ParsedAnswer:
    handle = parse_handle(text)
    return ParsedAnswer(handle, f"@{handle}" if handle else "None")


def _timing(text: str, **options: Any) -> ParsedAnswer:
    value = parse_timing(text, **options)
    return ParsedAnswer(value, TIMING_LABELS[value])


PARSERS: dict[str, Callable[..., ParsedAnswer]] = {
    "text": _text,
    "dimensions": _dimensions,
    "budget": _budget,
    "location": _location,
    "country": _country,
    "choice": _choice,
    "yes_no": _yes_no,
    "complexity": _complexity,
    "media": _media,
    "handle": _handle,
    "timing": _timing,
}


def parse_answer(kind: str, text: str, **options: Any) -> ParsedAnswer:
    """Parse `text` as a `kind` answer; ParseError when it doesn't fit, ValueError on bad kind."""
    try:
        parser = PARSERS[kind]
    except KeyError:
        raise ValueError(f"unknown answer kind: {kind!r}") from None
    return parser(text if isinstance(text, str) else "", **options)
