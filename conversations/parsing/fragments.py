"""Slot filling: the fragments of one message that answer other questions than the one asked.

"Upper arm, realism, about 10x15, budget 500" carries a placement, a style, a size and a
budget. `find_slots` names each fragment and the answer target it belongs to; the flow then
offers it to that question's own parser, so nothing here decides what a value is, only where
it is. Every pattern is compiled once, at import: this runs on every inbound text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Targets: question kinds for the structured answers, question keys for the free-text ones.
DIMENSIONS = "dimensions"
BUDGET = "budget"
HANDLE = "handle"
MEDIA = "media"
TIMING = "timing"
PLACEMENT = "placement"
STYLE = "style"
COVERUP = "coverup"
HOME_CITY = "location_city"
# Targets whose words also describe the idea: they stay in a free-text answer's text.
DESCRIPTIVE = frozenset({PLACEMENT, STYLE})

_UNIT = r"(?:cm|mm|centimet(?:er|re)s?|inch(?:es)?|in\b|\"|”)"
_NUM = r"\d+(?:[.,]\d+)?"
_APPROX = r"(?:(?:about|around|roughly|approx(?:imately)?|maybe|like|~)\s*)?"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        DIMENSIONS,
        re.compile(
            rf"(?<![\w.£€$]){_APPROX}{_NUM}\s*{_UNIT}?\s*(?:x|×|\*|by)\s*{_NUM}\s*{_UNIT}?"
            rf"|(?<![\w.£€$]){_APPROX}{_NUM}\s*(?:cm|mm|centimet(?:er|re)s?|inch(?:es)?)\b",
            re.IGNORECASE,
        ),
    ),
    (
        BUDGET,
        re.compile(
            r"(?:(?:my\s+)?budget(?:\s+(?:is|of|around|about|roughly|up\s+to))*\s*[:=]?\s*"
            r"(?:£|€|\$)?\s*\d[\d,.]*\s*k?(?:\s*(?:-|–|to)\s*(?:£|€|\$)?\s*\d[\d,.]*\s*k?)?"
            r"(?:\s*(?:quid|pounds?|gbp|euros?|eur|usd|dollars?))?)"
            r"|(?:£|€|\$)\s*\d[\d,.]*\s*k?(?:\s*(?:-|–|to)\s*(?:£|€|\$)?\s*\d[\d,.]*\s*k?)?"
            r"|\d[\d,.]*\s*k?(?:\s*(?:-|–|to)\s*\d[\d,.]*\s*k?)?\s*"
            r"(?:quid|pounds?|gbp|euros?|eur|usd|dollars?|grand)\b",
            re.IGNORECASE,
        ),
    ),
    (
        HANDLE,
        re.compile(
            r"(?<![\w.])@[a-z0-9._]{2,30}|(?:https?://)?(?:www\.)?instagram\.com/[a-z0-9._]+",
            re.IGNORECASE,
        ),
    ),
    (
        MEDIA,
        re.compile(
            r"(?:https?://|www\.)(?!(?:www\.)?instagram\.com/[a-z0-9._]+/?(?:\s|$))[^\s<>\"']+",
            re.IGNORECASE,
        ),
    ),
    (
        TIMING,
        re.compile(
            r"\b(?:(?:sometime|some time|ideally|hopefully|maybe)\s+)?"
            r"(?:(?:in|by|around|over|during|this|next|early|late|mid|the)\s+)+"
            r"(?:spring|summer|autumn|fall|winter|christmas|january|february|march|april|may|"
            r"june|july|august|september|october|november|december)\b"
            r"|\b(?:asap|as soon as possible|no rush|no hurry|not in a rush|whenever|"
            r"next month|in (?:a|\d+) (?:few )?(?:weeks?|months?))\b",
            re.IGNORECASE,
        ),
    ),
    (
        COVERUP,
        re.compile(
            r"\b(?:(?:it'?s\s+|it is\s+)?(?:not|no|isn'?t|never)\s+(?:a\s+)?)?"
            r"(?:cover[- ]?up|rework)\b",
            re.IGNORECASE,
        ),
    ),
    (
        HOME_CITY,
        re.compile(
            r"\b(?:i'?m|i am|we'?re|we are|i live|we live|living|based|currently)\s+"
            r"(?:based\s+|living\s+)?(?:in|near|out of)\s+"
            r"(?P<place>[a-z][a-z' .-]{1,40}?)(?=\s*(?:$|[,.;!?\n]|\band\b|\bbut\b))",
            re.IGNORECASE,
        ),
    ),
    (
        STYLE,
        re.compile(
            r"\b(?:fine[- ]?line|single[- ]needle|micro[- ]?realism|realism|realistic|"
            r"black ?work|black (?:and|&) gr[ae]y|neo[- ]?traditional|american traditional|"
            r"traditional|old school|new school|japanese|irezumi|watercolou?r|dot ?work|"
            r"geometric|tribal|minimalist(?:ic)?|illustrative|ornamental|lettering|script|"
            r"trash polka|chicano|line ?work|stippl(?:e|ed|ing)|sketch style|full colou?r|"
            r"in colou?r|colou?r)\b",
            re.IGNORECASE,
        ),
    ),
    (
        PLACEMENT,
        re.compile(
            r"(?P<lead>\b(?:on|across|along|around|down|behind|inside|over)\s+"
            r"(?:(?:my|the|your)\s+)?|\b(?:my|the)\s+)?"
            r"(?P<side>\b(?:(?:left|right|inner|outer|upper|lower|top|front|back|side|inside|"
            r"outside)(?:\s+of)?(?:\s+(?:my|the))?\s+)+)?"
            r"\b(?P<part>forearm|arm|wrist|ankle|calf|thigh|shin|knee|lower back|upper back|"
            r"back|shoulder blade|shoulder|chest|sternum|ribs?|ribcage|rib cage|stomach|belly|"
            r"hip|neck|nape|throat|hand|fingers?|foot|feet|leg|bicep|tricep|elbow|collarbone|"
            r"collar bone|spine|ear|half sleeve|full sleeve|sleeve)s?\b",
            re.IGNORECASE,
        ),
    ),
)
# Body parts that are everyday words too ("back to you", "on the other hand"): only with a
# side or a possessive, or as a fragment of their own ("Upper arm", "back, realism").
_AMBIGUOUS_PARTS = frozenset({"back", "hand", "ear", "arm", "leg", "neck", "chest", "sleeve"})
_FRAGMENT_BREAK = re.compile(r"[,;\n]|\s+-\s+|\.\s")
_BARE_AMOUNT = re.compile(r"^\s*[£€$]?\s*\d[\d,.]*\s*k?\s*[.!]*\s*$", re.IGNORECASE)
_NEGATED = re.compile(r"\b(?:not|no|isn'?t|never)\b", re.IGNORECASE)
_LEADING = re.compile(
    r"^(?:on|across|along|around|down|inside|over)\s+(?:(?:my|the|your)\s+)?|^(?:my|the)\s+"
)

# Words that say nothing on their own: what is left of "about 10x15, budget 500" once the
# size and the budget are taken out is no idea.
_FILLER_TEXT = (
    "a an the and or but also plus about around roughly approx approximately maybe probably "
    "like ish my is its it's it i i'm im am we we're are be would with in on at of for to "
    "size cm budget hi hey hello hiya yo ok okay so yeah yes please pls thanks thank you "
    "x just really think prob well um erm hmm there here that this"
)
_FILLER = frozenset(_FILLER_TEXT.split())
_WORD = re.compile(r"[^\W\d_][\w']*")


@dataclass(frozen=True)
class Slot:
    """A fragment answering `target`: `text` as typed, `answer` what its parser should read."""

    target: str
    text: str
    answer: str
    start: int
    end: int


def _fragment_of(text: str, start: int, end: int) -> str:
    """The comma-separated fragment around a span."""
    left = max((m.end() for m in _FRAGMENT_BREAK.finditer(text, 0, start)), default=0)
    right = next((m.start() for m in _FRAGMENT_BREAK.finditer(text, end)), len(text))
    return text[left:right].strip()


def _placement(match: re.Match[str], text: str) -> Slot | None:
    part = match.group("part").lower()
    span = match.group(0).strip()
    alone = _fragment_of(text, match.start(), match.end()).lower() == span.lower()
    if part in _AMBIGUOUS_PARTS and not (match.group("side") or match.group("lead") or alone):
        return None
    cleaned = _LEADING.sub("", span)
    return Slot(PLACEMENT, cleaned, cleaned, match.start(), match.end())


def _slot(target: str, match: re.Match[str], text: str) -> Slot | None:
    span = match.group(0).strip(" ,.")
    start = match.start() + (len(match.group(0)) - len(match.group(0).lstrip(" ,.")))
    end = start + len(span)
    if target == PLACEMENT:
        return _placement(match, text)
    if target == COVERUP:
        return Slot(COVERUP, span, "no" if _NEGATED.search(span) else "yes", start, end)
    if target == HOME_CITY:
        return Slot(HOME_CITY, span, match.group("place").strip(), start, end)
    return Slot(target, span, span, start, end)


def _overlaps(slot: Slot, taken: list[Slot]) -> bool:
    return any(slot.start < other.end and other.start < slot.end for other in taken)


def find_slots(text: str) -> list[Slot]:
    """Each fragment of `text` that looks like an answer, first come first served: a span
    belongs to one target only (a size is not also a budget). Styles are joined into one."""
    text = (text or "").replace("’", "'")
    if _BARE_AMOUNT.match(text):
        stripped = text.strip(" .!")
        return [Slot(BUDGET, stripped, stripped, 0, len(text))]
    found: list[Slot] = []
    for target, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            slot = _slot(target, match, text)
            if slot is not None and slot.text and not _overlaps(slot, found):
                found.append(slot)
    styles = [slot for slot in found if slot.target == STYLE]
    if len(styles) > 1:
        joined = ", ".join(slot.text for slot in styles)
        first = Slot(STYLE, joined, joined, styles[0].start, styles[0].end)
        found = [slot for slot in found if slot.target != STYLE] + [first]
    timings = [slot for slot in found if slot.target == TIMING]
    if len(timings) > 1:  # "sometime in spring, no rush" is one answer
        span = text[timings[0].start : timings[-1].end]
        merged = Slot(TIMING, span, span, timings[0].start, timings[-1].end)
        found = [slot for slot in found if slot.target != TIMING] + [merged]
    placements = [slot for slot in found if slot.target == PLACEMENT]
    if len(placements) > 1:  # "arm or leg": undecided, so neither is taken
        found = [slot for slot in found if slot.target != PLACEMENT]
    return sorted(found, key=lambda slot: slot.start)


def without(text: str, slots: list[Slot]) -> str:
    """`text` with the slots' spans cut out, each fragment tidied, empty ones dropped."""
    text = (text or "").replace("’", "'")
    pieces, last = [], 0
    for slot in sorted(slots, key=lambda s: s.start):
        pieces.append(text[last : slot.start])
        last = max(last, slot.end)
    pieces.append(text[last:])
    fragments = _FRAGMENT_BREAK.split("".join(pieces))
    kept = [" ".join(f.split()).strip(" .!?-") for f in fragments]
    kept = [_trim_filler(f) for f in kept]
    return ", ".join(f for f in kept if f)


def _trim_filler(fragment: str) -> str:
    words = fragment.split()
    while words and words[-1].lower().strip(".,!?") in _FILLER:
        words.pop()
    while words and words[0].lower().strip(".,!?") in _FILLER - {"a", "an", "the"}:
        words.pop(0)
    return " ".join(words)


def is_substantive(text: str) -> bool:
    """True when `text` says something beyond filler words ("hello??" and "about," do not)."""
    return any(w.lower() not in _FILLER and len(w) > 1 for w in _WORD.findall(text or ""))
