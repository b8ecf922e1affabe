"""Which offered slot the client chose, and the times that suit a client when none did.

Pure functions of the text, the offered options and the artist's time zone. Day and time
words count only as whole words ("sometime next month" says nothing about Monday), and a bare
number counts as a choice only when it is the whole answer ("2", "option 2", "the 2nd one
please"), so "call me at 5" or "we are 4 people" choose nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from typing import Protocol

from conversations.parsing.errors import ParseError
from conversations.parsing.text import fold

__all__ = [
    "AmbiguousChoice",
    "ChoiceOutOfRange",
    "NoChoice",
    "NoTimeWindows",
    "ParseError",
    "SlotChoiceError",
    "Window",
    "parse_slot_choice",
    "parse_time_windows",
]


class SlotChoiceError(ParseError):
    """The reply did not pick exactly one of the offered slots (or name any times)."""


class AmbiguousChoice(SlotChoiceError):
    """More than one option fits ("1 or 2", "2, 4", "Tuesday" with two Tuesdays offered)."""


class ChoiceOutOfRange(SlotChoiceError):
    """A number or a day and time that is not among the options."""


class NoChoice(SlotChoiceError):
    """Nothing in the reply reads as a choice."""


class NoTimeWindows(SlotChoiceError):
    """No day or time of day could be read from the reply."""


class SlotLike(Protocol):
    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...


WEEKDAYS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        ("monday", "mon", "mondays"),
        ("tuesday", "tue", "tues", "tuesdays"),
        ("wednesday", "wed", "weds", "wednesdays"),
        ("thursday", "thu", "thur", "thurs", "thursdays"),
        ("friday", "fri", "fridays"),
        ("saturday", "sat", "saturdays"),
        ("sunday", "sun", "sundays"),
    )
):
    for _name in _names:
        WEEKDAYS[_name] = _index

# Short forms that are everyday words too ("I'm sat at my desk", "the sun"): they name a day
# only beside a time, a part of the day or a date, or as (nearly) the whole reply.
EVERYDAY_WORD_DAYS = frozenset({"sat", "sun", "wed"})

DAY_GROUPS: dict[str, frozenset[int]] = {
    "weekday": frozenset(range(5)),
    "weekdays": frozenset(range(5)),
    "weeknight": frozenset(range(5)),
    "weeknights": frozenset(range(5)),
    "weekend": frozenset({5, 6}),
    "weekends": frozenset({5, 6}),
}

# Parts of the day, as [start, end) of the hour a session starts in.
DAY_PARTS: dict[str, tuple[time, time]] = {
    "morning": (time(6), time(12)),
    "mornings": (time(6), time(12)),
    "am": (time(6), time(12)),
    "lunchtime": (time(11, 30), time(14)),
    "afternoon": (time(12), time(17)),
    "afternoons": (time(12), time(17)),
    "pm": (time(12), time(23, 59)),
    "evening": (time(17), time(23, 59)),
    "evenings": (time(17), time(23, 59)),
    "night": (time(17), time(23, 59)),
    "nights": (time(17), time(23, 59)),
    "tonight": (time(17), time(23, 59)),
}

MONTHS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        ("january", "jan"),
        ("february", "feb"),
        ("march", "mar"),
        ("april", "apr"),
        ("may",),
        ("june", "jun"),
        ("july", "jul"),
        ("august", "aug"),
        ("september", "sep", "sept"),
        ("october", "oct"),
        ("november", "nov"),
        ("december", "dec"),
    ),
    start=1,
):
    for _name in _names:
        MONTHS[_name] = _index

ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}
NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}

# Words that may surround a number or an ordinal without changing what it picks.
_FILLER_WORDS = """
    the a one option options number no num slot choice please pls plz thanks thank you ta
    cheers i i'll ill i'd id i'm im will would like take have go for with choose pick prefer
    want let's lets do can works work is good great perfect fine ok okay yes yeah yep sure
    that that's thats it sounds me x xx mate love lovely hi hey hello then be best suits suit
    one's
"""
FILLER = frozenset(_FILLER_WORDS.split())
# "The last one": stands for the number of options until there is a count to replace it.
LAST = -1
CONNECTORS = frozenset({"or", "and", "maybe", "either", "perhaps", "&", "/", "+"})
# A choice word: 2, #2, 2nd, second, two.
_CHOICE_TOKEN = re.compile(r"#?(\d{1,3})(?:st|nd|rd|th)?")
# A clock time: 14:00, 2pm, 2:30 pm, 2.30pm, 14h.
_CLOCK = re.compile(
    r"(?<![\w:.])(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?m\b\.?"
    r"|(?<![\w:.])(\d{1,2})[:.h](\d{2})(?![\w:.])"
)
_AT_HOUR = re.compile(r"(?<!\w)at\s+(\d{1,2})(?:[:.](\d{2}))?(?![\w:.])")
_WORD = re.compile(r"[#\w'&/+]+")


def parse_slot_choice(text: str, options: Sequence[SlotLike], tz: tzinfo) -> int:
    """The index (0-based) of the one offered slot the reply picks; SlotChoiceError otherwise."""
    folded = fold(text)
    if not options:
        raise NoChoice("There are no times on offer to choose from")
    if not folded:
        raise NoChoice("Which one suits you? Just send its number")
    numbers = _numbers_only(folded)
    if numbers is not None:
        return _pick_number(numbers, len(options))
    test = _day_and_time_test(folded)
    if test is None:
        raise NoChoice("Which one suits you? Just send its number")
    matches = [i for i, option in enumerate(options) if test(option.start.astimezone(tz))]
    if not matches:
        raise ChoiceOutOfRange("That isn't one of the times on offer")
    if len(matches) > 1:
        raise AmbiguousChoice("More than one of the times fits that; which number?")
    return matches[0]


def _numbers_only(folded: str) -> list[int] | None:
    """The numbers of a reply that is nothing but choice numbers and filler, else None."""
    if _clock_times(folded):
        return None  # "14:00", "2pm" name a time, not an option's number
    numbers: list[int] = []
    for word in _WORD.findall(folded.replace(",", " , ")):
        token = word.strip("'")
        choice = _CHOICE_TOKEN.fullmatch(token)
        if choice:
            numbers.append(int(choice.group(1)))
        elif token in ORDINALS:
            numbers.append(ORDINALS[token])
        elif token == "last":
            numbers.append(LAST)
        elif token in NUMBER_WORDS and token != "one":
            numbers.append(NUMBER_WORDS[token])
        elif token in FILLER or token in CONNECTORS or token == "":
            continue
        else:
            return None
    if not numbers:
        # "the first one" folds to ordinals; "that one", "yes" alone choose nothing.
        return None
    return numbers


def _pick_number(numbers: list[int], count: int) -> int:
    numbers = [count if number == LAST else number for number in numbers]
    if len(set(numbers)) > 1:
        raise AmbiguousChoice("Just the one, please: which number suits you best?")
    number = numbers[0]
    if not 1 <= number <= count:
        raise ChoiceOutOfRange(f"Please pick a number from 1 to {count}")
    return number - 1


def _day_and_time_test(folded: str) -> Callable[[datetime], bool] | None:
    """A test of a slot's local start built from the day and time words, or None if none."""
    clock = [t for t, _span in _clock_times(folded)]
    parts = [DAY_PARTS[w] for w in _words(folded) if w in DAY_PARTS and w not in ("am", "pm")]
    dates = _dates(folded)
    days = _weekdays(folded, timed=bool(clock or parts or dates))
    if days and not clock:
        # "Tue at 2": a bare hour counts beside a day ("call me at 5" alone chooses nothing).
        for hour, minute in _AT_HOUR.findall(folded):
            bare = _bare_time(hour, minute, None)
            if bare is not None:
                clock.append(bare)
    if not (days or clock or parts or dates):
        return None

    def test(start: datetime) -> bool:
        wall = start.time().replace(tzinfo=None)
        return (
            (not days or start.weekday() in days)
            and (not dates or (start.month, start.day) in dates)
            and (not clock or any(wall == t for t in clock))
            and all(low <= wall < high for low, high in parts)
        )

    return test


def _words(folded: str) -> list[str]:
    return [w.strip("'") for w in _WORD.findall(folded)]


def _weekdays(folded: str, *, timed: bool) -> set[int]:
    """The weekdays named; `timed`: the text also names a time, so "sat" is Saturday."""
    days: set[int] = set()
    words = _words(folded)
    for word in words:
        if word in EVERYDAY_WORD_DAYS and not (timed or len(words) <= 2):
            continue
        if word in WEEKDAYS:
            days.add(WEEKDAYS[word])
        elif word in DAY_GROUPS:
            days |= DAY_GROUPS[word]
    return days


def _dates(folded: str) -> set[tuple[int, int]]:
    """(month, day) pairs written with a month name: "3 June", "June 3rd", "3rd of Jun"."""
    found: set[tuple[int, int]] = set()
    months = "|".join(sorted(MONTHS, key=len, reverse=True))
    for day, month in re.findall(
        rf"(?<!\w)(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({months})(?!\w)", folded
    ):
        found.add((MONTHS[month], int(day)))
    for month, day in re.findall(rf"(?<!\w)({months})\s+(\d{{1,2}})(?:st|nd|rd|th)?(?!\w)", folded):
        found.add((MONTHS[month], int(day)))
    return {(m, d) for m, d in found if 1 <= d <= 31}


def _clock_times(folded: str) -> list[tuple[time, tuple[int, int]]]:
    """Every clock time written with am/pm or as HH:MM, with where it was found."""
    times: list[tuple[time, tuple[int, int]]] = []
    for match in _CLOCK.finditer(folded):
        if match.group(3):
            hour, minute = int(match.group(1)), int(match.group(2) or 0)
            if not 1 <= hour <= 12:
                continue
            hour = hour % 12 + (12 if match.group(3).startswith("p") else 0)
        else:
            hour, minute = int(match.group(4)), int(match.group(5))
        if hour < 24 and minute < 60:
            times.append((time(hour, minute), match.span()))
    return times


# ---------------------------------------------------------------------- times that suit


@dataclass(frozen=True)
class Window:
    """Days (0 = Monday; empty: any day) and a time of day range the client can do."""

    days: frozenset[int] = field(default_factory=frozenset)
    start: time | None = None
    end: time | None = None
    raw: str = ""

    def __str__(self) -> str:
        return f"{self.describe_days()} {self.describe_times()}".strip()

    def describe_days(self) -> str:
        names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
        if not self.days or self.days == frozenset(range(7)):
            return "Any day"
        if self.days == frozenset(range(5)):
            return "Weekdays"
        if self.days == frozenset({5, 6}):
            return "Weekends"
        return ", ".join(names[d] for d in sorted(self.days))

    def describe_times(self) -> str:
        if self.start and self.end:
            return f"{self.start:%H:%M}–{self.end:%H:%M}"
        if self.start:
            return f"after {self.start:%H:%M}"
        if self.end:
            return f"before {self.end:%H:%M}"
        return "any time"

    def contains(self, moment: datetime) -> bool:
        """Whether a local datetime falls in this window."""
        wall = moment.time().replace(tzinfo=None)
        return (
            (not self.days or moment.weekday() in self.days)
            and (self.start is None or wall >= self.start)
            and (self.end is None or wall < self.end)
        )


# A bare hour after "after", "from", "before", "until": 1–7 are afternoons (a studio's day).
_BARE_HOUR = r"(\d{1,2})(?:[:.](\d{2}))?\s*(?:([ap])\.?m\b\.?)?"
_RANGE = re.compile(
    rf"(?:(?:from|between)\s+)?{_BARE_HOUR}\s*(?:-|–|to|till|til|until|and)\s*{_BARE_HOUR}(?!\w)"
)
_BOUND = re.compile(rf"(?<!\w)(after|from|since|before|until|till|til|by)\s+{_BARE_HOUR}(?!\w)")
_ALL_DAY = re.compile(r"(?<!\w)(all day|any ?time|whenever|anytime|any time of day)(?!\w)")
_SPLIT = re.compile(r"[;,\n]+|(?<!\w)(?:or|and|also|plus|&|\+|/)(?!\w)")
_TIME_OF_DAY_LIMIT = time(23, 59)


def parse_time_windows(text: str, tz: tzinfo, now: datetime) -> list[Window]:
    """The day and time ranges in "weekday evenings, Sat mornings", each keeping its text.

    NoTimeWindows when no day or time of day can be read; the caller keeps the raw text anyway.
    """
    folded = fold(text)
    if not folded:
        raise NoTimeWindows("Which days and times suit you?")
    today = now.astimezone(tz).weekday()
    relative = {"today": today, "tomorrow": (today + 1) % 7}
    # Ranges first, so the "and" in "between 2 and 4" is not read as a second window.
    ranges: list[tuple[time, time]] = []

    def keep_range(match: re.Match[str]) -> str:
        start = _bare_time(match.group(1), match.group(2), match.group(3) or match.group(6))
        end = _bare_time(match.group(4), match.group(5), match.group(6))
        if start is None or end is None or end <= start:
            return match.group(0)
        ranges.append((start, end))
        return f" range{len(ranges) - 1} "

    marked = _RANGE.sub(keep_range, folded)
    pieces = [_read_piece(piece, ranges, relative) for piece in _SPLIT.split(marked)]
    windows = _combine([p for p in pieces if p is not None])
    if not windows:
        raise NoTimeWindows("Which days and times suit you? For example: weekday evenings")
    return windows


@dataclass
class _Piece:
    days: frozenset[int]
    spans: list[tuple[time | None, time | None]]
    raw: str


def _read_piece(
    piece: str, ranges: list[tuple[time, time]], relative: dict[str, int]
) -> _Piece | None:
    raw = piece.strip()
    if not raw:
        return None
    days: set[int] = set()
    days |= {relative[w] for w in _words(raw) if w in relative}
    if "every day" in raw or "any day" in raw or "daily" in _words(raw):
        days |= set(range(7))
    spans: list[tuple[time | None, time | None]] = []
    for word in _words(raw):
        if word.startswith("range") and word[5:].isdigit() and int(word[5:]) < len(ranges):
            spans.append(ranges[int(word[5:])])
        elif word in DAY_PARTS and word not in ("am", "pm"):
            spans.append(DAY_PARTS[word])
    for keyword, hour, minute, meridiem in _BOUND.findall(raw):
        bound = _bare_time(hour, minute, meridiem)
        if bound is None:
            continue
        after = keyword in ("after", "from", "since")
        spans.append((bound, None) if after else (None, bound))
    covered = [span for _t, span in _clock_times(raw)]
    if not spans and covered:
        # "Tue 2pm": an hour from the time named.
        for clock, _span in _clock_times(raw):
            end = (datetime.combine(datetime.min, clock) + timedelta(hours=1)).time()
            spans.append((clock, end if end > clock else _TIME_OF_DAY_LIMIT))
    if not spans and _ALL_DAY.search(raw):
        spans.append((None, None))
    days |= _weekdays(raw, timed=bool(spans))
    if not days and not spans:
        return None
    return _Piece(frozenset(days), spans, raw)


def _combine(pieces: list[_Piece]) -> list[Window]:
    """Days alone lend themselves to the times that follow ("Mondays and Tuesdays after 5");
    times alone take the days before them ("Sat mornings or afternoons")."""
    windows: list[Window] = []
    waiting_days: frozenset[int] = frozenset()
    waiting_raw: list[str] = []
    last_days: frozenset[int] = frozenset()
    for piece in pieces:
        if not piece.spans:
            waiting_days |= piece.days
            waiting_raw.append(piece.raw)
            continue
        days = piece.days | waiting_days or (last_days if not piece.days else piece.days)
        raw = " and ".join([*waiting_raw, piece.raw])
        windows.extend(Window(days, start, end, raw) for start, end in piece.spans)
        last_days = days
        waiting_days, waiting_raw = frozenset(), []
    if waiting_days:
        windows.append(Window(waiting_days, None, None, " and ".join(waiting_raw)))
    return _unique(windows)


def _unique(windows: Iterable[Window]) -> list[Window]:
    seen: set[tuple[frozenset[int], time | None, time | None]] = set()
    kept: list[Window] = []
    for window in windows:
        key = (window.days, window.start, window.end)
        if key not in seen:
            seen.add(key)
            kept.append(window)
    return kept


def _bare_time(hour_text: str, minute_text: str | None, meridiem: str | None) -> time | None:
    """An hour as people say it: "3" (in the afternoon), "3pm", "15:00", "10am"."""
    hour, minute = int(hour_text), int(minute_text or 0)
    if minute >= 60:
        return None
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem.startswith("p") else 0)
    elif 1 <= hour <= 7:
        hour += 12
    if hour == 24 and minute == 0:
        return _TIME_OF_DAY_LIMIT
    if hour > 23:
        return None
    return time(hour, minute)
