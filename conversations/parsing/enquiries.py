"""Questions a client asks mid-consultation ("how much…", "what's the deposit", "where are you
based", "do you have space…"): which FAQ topic a message asks about, never an answer.

Built-in phrasings per topic, plus the studio's own keywords per FAQ row, compiled once per
set of rows (`FaqMatcher`); the flow keeps one matcher per config version.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from conversations.parsing.text import fold

PRICE = "price"
DEPOSIT = "deposit"
LOCATION = "location"
BOOKING = "booking"
AVAILABILITY = "availability"
AFTERCARE = "aftercare"
ARTIST = "artist"
OTHER = "other"

# Checked in this order: "how much is the deposit" is about the deposit, not the price.
_TOPIC_PATTERNS: tuple[tuple[str, str], ...] = (
    (
        ARTIST,
        r"(?:can|could|may) i (?:just )?(?:message|text|contact|talk to|speak to|chat (?:to|with)"
        r"|dm|call|email)(?: with)? (?:the |your )?artist"
        r"|(?:message|text|contact|dm) (?:the |your )?artist directly"
        r"|(?:is|are) there (?:a|an) (?:human|person)",
    ),
    (
        DEPOSIT,
        r"(?:how much|what|whats|what's|what is|is there|do (?:i|you) (?:need|take|charge|pay)"
        r"|do i have to pay)(?: to pay)?(?: is| are| a| the| your)* deposits?"
        r"|deposits? (?:policy|amount|refundable|required|needed|cost)|^(?:the )?deposits?$"
        r"|(?:is|are) (?:the |your )?deposits? refundable",
    ),
    (
        AFTERCARE,
        r"after ?care|how (?:long|do i) (?:does it take to |to )?heal|healing (?:time|process)"
        r"|look after (?:it|my tattoo|the tattoo)|how do i care for",
    ),
    (
        AVAILABILITY,
        r"do you have (?:any )?(?:space|room|availability|slots?|openings?|spots?|dates?)"
        r"|(?:are|r) (?:you|u) (?:taking|booking|accepting) (?:on )?(?:new )?(?:clients|bookings"
        r"|people|enquiries|work)|(?:are )?(?:your )?books (?:open|closed)"
        r"|how (?:far|long) (?:ahead|in advance|is the wait|is your waiting list)"
        r"|what(?:'?s| is) (?:your|the) waiting list",
    ),
    (
        LOCATION,
        r"where (?:are|r) (?:you|u)(?: guys)? (?:based|located|situated)|where(?:'?s| is) "
        r"(?:the |your )?(?:studio|shop|parlou?r)|what(?:'?s| is) (?:the |your )?(?:studio )?"
        r"address|where do you (?:work|tattoo)|where are you\b",
    ),
    (
        BOOKING,
        r"how (?:does|do) (?:the )?(?:booking|it|this) work|how (?:do|can) i book"
        r"|what(?:'?s| is| are) the (?:booking )?(?:process|next steps?)|how does this work",
    ),
    (
        PRICE,
        r"how much (?:is|are|would|will|does|do|for|to|roughly|approx|it)"
        r"|how much\?*$|what (?:do|would|will) (?:you|it) (?:charge|cost)"
        r"|what(?:'?s| is| are) (?:your|the) (?:prices?|rates?|hourly rate|day rate|minimum)"
        r"|(?:price|pricing) (?:list|guide)|(?:prices|rates)\?|what(?:'?s| is) the (?:cost|price)"
        r"|(?:do|can) you (?:give|do) (?:me )?(?:a )?(?:quote|price)",
    ),
)
# The rest of "do you have space for a small rose?": the idea the question carries.
_CARRIED_IDEA = re.compile(r"(?:\bfor|\bto do) (?P<idea>[^?]+?)\s*[?!.]*$", re.IGNORECASE)
# "space for a small piece?" names no idea: these words alone describe none.
_GENERIC_IDEA_TEXT = (
    "a an the me it one this that some something small little big large new first piece "
    "pieces tattoo tattoos client clients booking bookings appointment session"
)
_GENERIC_IDEA_WORDS = frozenset(_GENERIC_IDEA_TEXT.split())
_MAX_WORDS = 25  # a long message that mentions a price is an answer with a question in it


@dataclass(frozen=True)
class Enquiry:
    """What a message asks about: the FAQ entry's key and the idea it carries, if any."""

    key: str
    carried: str = ""


@dataclass(frozen=True)
class FaqEntry:
    """One FAQ row as the matcher needs it: its key, topic and the studio's own phrases."""

    key: str
    topic: str
    keywords: tuple[str, ...] = ()


def _compile(alternatives: Iterable[str]) -> re.Pattern[str] | None:
    joined = "|".join(f"(?:{a})" for a in alternatives if a)
    return re.compile(rf"(?<![\w'])(?:{joined})(?![\w'])") if joined else None


_BUILT_IN = tuple((topic, re.compile(rf"(?<![\w'])(?:{p})")) for topic, p in _TOPIC_PATTERNS)


class FaqMatcher:
    """Finds the FAQ entry a message asks about: the studio's keywords first, then the
    built-in phrasings of each entry's topic."""

    def __init__(self, entries: Iterable[FaqEntry]):
        self._by_topic: dict[str, str] = {}
        self._keywords: list[tuple[str, re.Pattern[str]]] = []
        for entry in entries:
            self._by_topic.setdefault(entry.topic, entry.key)
            words = [re.escape(fold(k)) for k in entry.keywords if fold(k)]
            if pattern := _compile(words):
                self._keywords.append((entry.key, pattern))

    def match(self, text: str) -> Enquiry | None:
        """The entry `text` asks about, or None when it asks nothing the FAQ knows."""
        message = fold(text)
        if not message or len(message.split()) > _MAX_WORDS:
            return None
        for key, pattern in self._keywords:
            if pattern.search(message):
                return Enquiry(key)
        topic = asked_topic(message)
        if topic is None:
            return None
        # A topic the studio has no row for is still a question: the artist answers it.
        key = self._by_topic.get(topic, f"topic:{topic}")
        return Enquiry(key, carried_idea(message) if topic == AVAILABILITY else "")


def asked_topic(text: str) -> str | None:
    """The built-in topic `text` asks about, or None."""
    message = fold(text)
    for topic, pattern in _BUILT_IN:
        if pattern.search(message):
            return topic
    return None


def carried_idea(text: str) -> str:
    """ "do you have space for a small rose?" → "small rose"; "" when it carries none."""
    found = _CARRIED_IDEA.search(text)
    if not found:
        return ""
    idea = found.group("idea").strip()
    words = set(re.findall(r"[^\W\d_]+", idea))
    return "" if not words or words <= _GENERIC_IDEA_WORDS else idea
