"""Intents that override the consultation (STOP, "talk to the artist", "refund" …)."""

from __future__ import annotations

import re
from enum import StrEnum

from conversations.parsing.text import fold


class Intent(StrEnum):
    """What a message asks for, beyond answering the current question."""

    OPT_OUT = "opt_out"
    RESTART = "restart"
    CONTINUE = "continue"
    HUMAN = "human"
    REFUND = "refund"
    DELETE_DATA = "delete_data"
    PRICE_HAGGLE = "price_haggle"
    SCHEDULING = "scheduling"


# Carrier keywords count only as the whole message: "I'll stop by" or "don't stop" is chat.
_WHOLE_MESSAGE = {
    Intent.OPT_OUT: {
        "stop",
        "stopall",
        "stop all",
        "unsubscribe",
        "opt out",
        "opt-out",
        "optout",
        "end",
        "quit",
        "cancel",
    },
    Intent.RESTART: {"start", "resume", "unstop"},
    Intent.CONTINUE: {"continue"},
}

# Phrases anywhere in the message, as whole words; checked in this order, first wins.
_PHRASES = {
    Intent.DELETE_DATA: (
        r"(?:delete|remove|erase) (?:all )?my (?:data|details|info|information)",
        r"gdpr",
    ),
    Intent.REFUND: (r"refund(?:s|ed)?", r"money back"),
    Intent.HUMAN: (
        # "human" or "artist" asked for, not described: they end the sentence ("I want a
        # human", "artist please"), so "a human heart" or "my favourite artist" is an idea.
        r"(?<!favourite )(?<!favorite )(?<!famous )(?<!my )(?:humans?|artist)"
        r"(?=(?: (?:please|now|pls))?(?:$|[?!.,;:]))",
        r"(?:is|are) (?:the|your) artist",
        r"(?:a|an) (?:real|actual) (?:human|person)",
        r"real person",
        r"(?:talk|speak|chat) (?:to|with) (?:someone|somebody|a person|a human|the artist)",
        # "can i just message the artist directly pls"
        r"(?:message|text|contact|dm|call|email) (?:the |your )?artist(?: directly| themselves)?",
    ),
    Intent.PRICE_HAGGLE: (
        r"discount(?:s|ed)?",
        r"cheaper",
        r"lower the price",
        r"best price",
        r"negotiat(?:e|ed|ing|ion|able)",
    ),
    Intent.SCHEDULING: (
        r"when are you free",
        r"what dates",
        r"availability",
        r"are you available",
        r"book me in for",
    ),
}
_COMPILED = {
    intent: re.compile(r"(?<![\w'])(?:" + "|".join(patterns) + r")(?![\w'])")
    for intent, patterns in _PHRASES.items()
}


def detect_intent(text: str) -> Intent | None:
    """The intent a message expresses, or None when it is just an answer."""
    message = fold(text)
    if not message:
        return None
    for intent, keywords in _WHOLE_MESSAGE.items():
        if message in keywords:
            return intent
    for intent, pattern in _COMPILED.items():
        if pattern.search(message):
            return intent
    return None
