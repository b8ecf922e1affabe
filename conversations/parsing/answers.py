"""Parsing an answer of a question kind: the kinds' parsers behind one `parse_answer`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from conversations.parsing.budget import parse_budget
from conversations.parsing.choices import (
    option_pairs,
    parse_choice,
    parse_complexity,
    parse_handle,
    parse_timing,
    parse_yes_no,
    timing_display,
)
from conversations.parsing.dimensions import RoughSize, parse_dimensions, parse_rough_size
from conversations.parsing.errors import ParsedAnswer, ParseError
from conversations.parsing.location import parse_country, parse_location

_DISPLAY_LIMIT = 80
# Links with a scheme or "www.", or a bare domain followed by a path ("pinterest.com/pin/1").
_URL = re.compile(
    r"(?:https?://|www\.)[\w-]+\.[^\s<>\"']+|\b(?:[a-z0-9-]+\.)+[a-z]{2,}/[^\s<>\"']*",
    re.IGNORECASE,
)
_NO_MEDIA = re.compile(
    r"^(?:no|nope|none|nothing|n/?a|no refs?|no references?|no images?|no pictures?|no photos?|"
    r"(?:i )?do(?:n'?t| not) have (?:any|one)(?: yet)?)"
    r"(?:\s+(?:for now|yet|right now|at the moment|thanks|thank you|sorry))*[.!]*$",
    re.IGNORECASE,
)
# "not yet, I'll send some later": none now, some to come (the artist is told).
_MEDIA_LATER = re.compile(
    r"^(?:(?:no|nope|none|not yet|not right now|not at the moment|none yet|none for now|"
    r"nothing yet)[,.!\s]*)?(?:(?:but |and )?"
    r"(?:i'?ll|i will|will|can|could|i can|i could|i'?m going to) "
    r"(?:send|share|find|get|dig out|pop over|forward)(?: (?:some|them|one|it|a few|you some))?"
    r"(?: (?:over|through|across))?(?: (?:later|soon|tomorrow|tonight|in a bit|after|another time|"
    r"when i find (?:some|them|one)))?|later|not yet|none yet)[.!]*$",
    re.IGNORECASE,
)
ROUGH_SIZE_HINT = "Not sure? A rough guess like “palm sized”, or “not sure”, is fine too."
NO_MEDIA_REASON = "Please send a photo or a link, or reply “none” if you haven't got any yet."
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
    if allow_none and (_NO_MEDIA.match(cleaned) or sends_media_later(cleaned)):
        return []
    raise ParseError(NO_MEDIA_REASON)


def sends_media_later(text: str) -> bool:
    """ "not yet, I'll send some later": no references now, some to come."""
    return bool(_MEDIA_LATER.match(" ".join((text or "").replace("’", "'").split())))


def _text(text: str) -> ParsedAnswer:
    value = parse_text(text)
    return ParsedAnswer(value, shorten(value))


def _dimensions(text: str, **options: Any) -> ParsedAnswer:
    try:
        dims = parse_dimensions(text, **options)
    except ParseError as error:
        rough = parse_rough_size(text)
        if rough is None:
            # Always a way forward: a guess in words, or "not sure", is an answer too.
            raise ParseError(f"{error.reason} {ROUGH_SIZE_HINT}") from None
        return _rough(rough)
    value = {
        "width_cm": str(dims.width_cm),
        "height_cm": str(dims.height_cm),
        "area_cm2": str(dims.area_cm2),
    }
    return ParsedAnswer(value, dims.display)


def _rough(rough: RoughSize) -> ParsedAnswer:
    """A guessed size: a typical piece of that kind, so there is an estimate; flagged rough."""
    if rough.dimensions is None:
        return ParsedAnswer({"rough": rough.name}, rough.display)
    dims = rough.dimensions
    value = {
        "width_cm": str(dims.width_cm),
        "height_cm": str(dims.height_cm),
        "area_cm2": str(dims.area_cm2),
        "rough": rough.name,
    }
    return ParsedAnswer(value, rough.display)


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
    if not urls and sends_media_later(text):
        return ParsedAnswer({"urls": [], "later": True}, "None yet (will send later)")
    if not urls:
        return ParsedAnswer({"urls": []}, "None")
    label = "1 link" if len(urls) == 1 else f"{len(urls)} links"
    return ParsedAnswer({"urls": urls}, label)


def _handle(text: str) -> ParsedAnswer:
    handle = parse_handle(text)
    return ParsedAnswer(handle, f"@{handle}" if handle else "None")


def _timing(text: str, **options: Any) -> ParsedAnswer:
    value = parse_timing(text, **options)
    return ParsedAnswer(value, timing_display(text, value))


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
