"""Short-answer parsers: yes/no, complexity, menu choices, Instagram handle and timing."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from text_to_num import alpha2digit

from conversations.parsing.errors import ParseError
from conversations.parsing.text import fold

ASAP = "asap"
ONE_TO_THREE = "1_3_months"
THREE_TO_SIX = "3_6_months"
FLEXIBLE = "flexible"
TIMING_CHOICES = (ASAP, ONE_TO_THREE, THREE_TO_SIX, FLEXIBLE)
TIMING_LABELS = {
    ASAP: "ASAP",
    ONE_TO_THREE: "1–3 months",
    THREE_TO_SIX: "3–6 months",
    FLEXIBLE: "Flexible",
}


def _has(pattern: str, text: str) -> bool:
    return re.search(rf"(?<![\w']){pattern}(?![\w'])", text) is not None


# ---------------------------------------------------------------------------------- yes / no

_YES_PHRASES = {
    "yes",
    "yeah",
    "yea",
    "yep",
    "yup",
    "ya",
    "yah",
    "y",
    "sure",
    "ok",
    "okay",
    "k",
    "correct",
    "right",
    "true",
    "aye",
    "affirmative",
    "definitely",
    "absolutely",
    "of course",
    "yes please",
    "that's right",
    "that's correct",
    "i think so",
    "i do",
    "it is",
    "👍",
    "✅",
}
_NO_PHRASES = {
    "no",
    "nope",
    "nah",
    "n",
    "na",
    "not really",
    "no thanks",
    "no thank you",
    "negative",
    "never",
    "not at all",
    "absolutely not",
    "definitely not",
    "of course not",
    "certainly not",
    "false",
    "i don't",
    "it isn't",
    "it's not",
    "👎",
    "❌",
}
_YES_LEAD = re.compile(r"^(?:yes|yeah|yea|yep|yup|sure|ok|okay|correct|definitely|absolutely)\b")
_NO_LEAD = re.compile(r"^(?:no|nope|nah|not|never)\b")
_HEDGES = re.compile(
    r"\b(?:maybe|not sure|unsure|perhaps|possibly|partly|partially|kind of|sort of)\b"
)


def parse_yes_no(text: str) -> bool:
    """Yes → True, no → False; anything hedged or mixed is a ParseError."""
    answer = fold(text)
    if answer in _YES_PHRASES:
        return True
    if answer in _NO_PHRASES:
        return False
    if not _HEDGES.search(answer):
        # "Yes, it covers an old piece" / "No, fresh skin": the first word decides.
        yes, no = _YES_LEAD.match(answer), _NO_LEAD.match(answer)
        if yes and not _has(r"(?:no|nope|nah|not)", answer):
            return True
        if no and not _has(r"(?:yes|yeah|yep)", answer):
            return False
    raise ParseError("Please answer yes or no.")


# ---------------------------------------------------------------------------------- complexity

_COMPLEXITY_WORDS = {
    1: r"(?:simple|low|basic|minimal|minimalist|minimalistic|easy|light|little detail)",
    2: r"(?:medium|moderate|mid|middle|average|some detail|moderately detailed|fairly detailed)",
    3: r"(?:high|highly detailed|detailed|very detailed|complex|intricate|heavy|lots of detail)",
}
_NEGATION = re.compile(r"\b(?:not|no|isn't|aren't|don't|without)\b")


def parse_complexity(text: str) -> int:
    """1 (simple), 2 (medium) or 3 (high detail), from a digit or words."""
    answer = fold(text)
    digits = re.findall(r"\d+", answer)
    if digits:
        if len(set(digits)) == 1 and digits[0] in {"1", "2", "3"}:
            return int(digits[0])
        raise ParseError("Please reply 1, 2 or 3.")
    if not _NEGATION.search(answer):
        levels = {2} if _has(_COMPLEXITY_WORDS[2], answer) else set()
        # "moderately detailed" is level 2 only, although it contains "detailed".
        rest = re.sub(rf"(?<![\w']){_COMPLEXITY_WORDS[2]}(?![\w'])", " ", answer)
        levels |= {level for level in (1, 3) if _has(_COMPLEXITY_WORDS[level], rest)}
        if len(levels) == 1:
            return levels.pop()
    raise ParseError("Please reply 1 (simple), 2 (medium) or 3 (high detail).")


# ---------------------------------------------------------------------------------- choice


def option_pairs(options: Iterable[Any]) -> list[tuple[str, str]]:
    """Options as (id, label) string pairs; a bare option is its own label."""
    pairs = []
    for option in options:
        key, label = option if isinstance(option, tuple | list) else (option, option)
        pairs.append((str(key), str(label)))
    return pairs


def parse_choice(text: str, options: Sequence[Any]) -> str:
    """The id of the option named by its id, its label or its 1-based number."""
    pairs = option_pairs(options)
    if not pairs:
        raise ValueError("parse_choice needs at least one option")
    answer = fold(text)
    number = re.fullmatch(r"(?:option|number|no\.?|#)?\s*(\d+)[.)]?", answer)
    if number:
        index = int(number.group(1))
        if 1 <= index <= len(pairs):
            return pairs[index - 1][0]
    for key, label in pairs:
        if answer in (fold(key), fold(label)):
            return key
    # A reply that names one label as a whole phrase ("the blackwork one, please"); when labels
    # nest ("Black", "Black and grey"), the longest named one wins.
    named = [(key, fold(label)) for key, label in pairs]
    named = [(key, label) for key, label in named if label and _has(re.escape(label), answer)]
    named = [
        (k, label) for k, label in named if not any(label in o and label != o for _, o in named)
    ]
    if len(named) == 1:
        return named[0][0]
    menu = ", ".join(f"{i}. {label}" for i, (_key, label) in enumerate(pairs, start=1))
    raise ParseError(f"Please pick one of: {menu}.")


# ---------------------------------------------------------------------------------- handle

_HANDLE = re.compile(r"[a-z0-9._]{1,30}")
_URL_HANDLE = re.compile(
    r"(?:https?://)?(?:www\.|m\.)?(?:instagram\.com|instagr\.am)/([A-Za-z0-9._]+)", re.IGNORECASE
)
_AT_HANDLE = re.compile(r"(?<![\w.])@([A-Za-z0-9._]+)")
# Instagram paths that are pages, not profiles.
_RESERVED_PATHS = {"p", "reel", "reels", "stories", "explore", "accounts", "tv", "direct"}
_NO_HANDLE = re.compile(
    r"^(?:no|nope|none|nah|n/?a|-|no instagram|not on instagram|no insta|"
    r"(?:i )?do(?:n'?t| not) (?:have|use) (?:one|it|instagram|insta|an account)|"
    r"(?:i )?do(?:n'?t| not) have an? (?:instagram|insta)(?: account)?)$"
)


def _valid_handle(handle: str) -> bool:
    # Instagram: letters, digits, "." and "_", at most 30; no leading, trailing or double dot.
    return (
        bool(_HANDLE.fullmatch(handle))
        and not handle.startswith(".")
        and not handle.endswith(".")
        and ".." not in handle
    )


def parse_handle(text: str) -> str:
    """An Instagram handle without "@", lower-cased; "" when the client has none."""
    raw = (text or "").strip().replace("’", "'")
    answer = fold(raw)
    if _NO_HANDLE.match(answer):
        return ""
    if url := _URL_HANDLE.search(raw):
        candidate = url.group(1).lower().rstrip(".")
        if candidate in _RESERVED_PATHS:
            raise ParseError("Please send your profile link or your @handle.")
    elif at := _AT_HANDLE.findall(raw):
        if len(set(at)) > 1:
            raise ParseError("Please send just one Instagram handle.")
        candidate = at[0].lower().rstrip(".")
    elif len(raw.split()) == 1:
        candidate = raw.lower().rstrip("!?,")
    else:
        raise ParseError("Please send your Instagram handle, for example @yourname.")
    if not _valid_handle(candidate):
        raise ParseError("That doesn't look like an Instagram handle (letters, numbers, . and _).")
    return candidate


# ---------------------------------------------------------------------------------- timing

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
# Northern-hemisphere seasons, by their first month.
_SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12, "christmas": 12}
_TIMING_KEYWORDS = {
    ASAP: (
        r"(?:asap|as soon as(?: possible| you can)?|soon|soonest|right away|straight away|"
        r"immediately|urgent(?:ly)?|now|this week|next week|this month|"
        r"a couple of weeks|a few weeks|earliest)"
    ),
    ONE_TO_THREE: (
        r"(?:next month|a month|a couple of months|couple months|a few months|"
        r"in a month or two|1[-–\s]*(?:to\s*)?3 months?|one to three months)"
    ),
    THREE_TO_SIX: (
        r"(?:3[-–\s]*(?:to\s*)?6 months?|three to six months|half a year|six months|"
        r"later this year|end of (?:the|this) year)"
    ),
    FLEXIBLE: (
        r"(?:flexible|no rush|not in a (?:rush|hurry)|no hurry|whenever|any ?time|"
        r"don'?t mind|no preference|not fussed|next year|no deadline|in no rush|"
        r"no time ?frame|not urgent|not sure yet|whenever suits|a year)"
    ),
}
_DURATION = re.compile(
    r"(?P<low>\d+(?:\.\d+)?)(?:\s*(?:-|–|to|or)\s*(?P<high>\d+(?:\.\d+)?))?\s*"
    r"(?P<unit>days?|weeks?|wks?|months?|mths?|years?|yrs?)\b"
)
_MONTH_NAME = re.compile(
    r"(?P<lead>\b(?:in|by|around|early|mid|late|end of|start of|beginning of|before|after)\s+)?"
    r"\b(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b"
)
_SEASON = re.compile(r"\b(?P<season>" + "|".join(_SEASONS) + r")\b")


def _bucket(months: float) -> str:
    if months < 1:
        return ASAP
    if months <= 3:
        return ONE_TO_THREE
    if months <= 6:
        return THREE_TO_SIX
    return FLEXIBLE


def _months_until(month: int, today: date) -> int:
    return (month - today.month) % 12


def _from_duration(answer: str) -> str | None:
    match = _DURATION.search(answer)
    if not match:
        return None
    low = float(match.group("low"))
    high = float(match.group("high") or low)
    per_month = {"d": 1 / 30, "w": 12 / 52, "m": 1, "y": 12}[match.group("unit")[0]]
    # A range names the bucket of its middle: "3-6 months" → 3–6, "1-3 months" → 1–3.
    return _bucket((low + high) / 2 * per_month)


def _from_calendar(answer: str, today: date) -> str | None:
    found = []
    for match in _MONTH_NAME.finditer(answer):
        # "may" is a verb far more often than a month; only "in May", "by May" count.
        if match.group("month") == "may" and not match.group("lead"):
            continue
        found.append(_months_until(_MONTHS[match.group("month")], today))
    for match in _SEASON.finditer(answer):
        start = _SEASONS[match.group("season")]
        months = _months_until(start, today)
        # Already in that season (it lasts three months): it is now.
        found.append(0 if months >= 10 else months)
    if not found:
        return None
    return _bucket(min(found))


def _keywords(answer: str) -> set[str]:
    """Timing buckets named in `answer`; a phrase inside a longer one ("a year" in "half a
    year") does not count."""
    spans = [
        (match.start(), match.end(), key)
        for key, pattern in _TIMING_KEYWORDS.items()
        for match in re.finditer(rf"(?<![\w']){pattern}(?![\w'])", answer)
    ]
    return {
        key
        for start, end, key in spans
        if not any(s <= start and end <= e and (s, e) != (start, end) for s, e, _ in spans)
    }


def parse_timing(text: str, *, today: date | None = None) -> str:
    """One of "asap", "1_3_months", "3_6_months", "flexible"; menu numbers 1–4 in that order."""
    answer = fold(text)
    if not answer:
        raise ParseError("When would you like to get tattooed? Reply 1, 2, 3 or 4.")
    menu = re.fullmatch(r"(?:option\s*)?([1-4])[.)]?", answer)
    if menu:
        return TIMING_CHOICES[int(menu.group(1)) - 1]
    answer = alpha2digit(answer, "en", threshold=0)
    matched = _keywords(answer)
    if found := _from_duration(answer):
        return found
    if found := _from_calendar(answer, today or date.today()):
        # "sometime in spring, no rush": a season the client is relaxed about is flexible.
        return FLEXIBLE if matched == {FLEXIBLE} else found
    if len(matched) == 1:
        return matched.pop()
    raise ParseError(
        "Please reply 1 (ASAP), 2 (1–3 months), 3 (3–6 months) or 4 (flexible/no rush)."
    )


def timing_display(text: str, value: str) -> str:
    """How a timing answer reads: the season or month the client named, with its bucket."""
    answer = fold(text)
    named = ""
    for match in _SEASON.finditer(answer):
        named = match.group("season").capitalize()
        break
    if not named:
        for match in _MONTH_NAME.finditer(answer):
            if match.group("month") != "may" or match.group("lead"):
                month = _MONTHS[match.group("month")]
                named = f"In {date(2000, month, 1):%B}"
                break
    if not named:
        return TIMING_LABELS[value]
    if value == FLEXIBLE and FLEXIBLE in _keywords(answer):
        return f"{named}, no rush"
    return (
        f"{named} ({TIMING_LABELS[value].lower() if value == FLEXIBLE else TIMING_LABELS[value]})"
    )
