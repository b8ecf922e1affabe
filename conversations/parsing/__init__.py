"""Answer parsers: pure functions from a client's free text to a typed value, no database.

The package only re-exports what the rest of the app uses; each module imports what it needs
from its siblings directly, so there is no import order to get right.
"""

from conversations.parsing.answers import PARSERS, parse_answer, parse_media
from conversations.parsing.budget import format_money
from conversations.parsing.choices import parse_yes_no
from conversations.parsing.errors import ParsedAnswer, ParseError
from conversations.parsing.intents import Intent, detect_intent

__all__ = [
    "PARSERS",
    "Intent",
    "ParseError",
    "ParsedAnswer",
    "detect_intent",
    "format_money",
    "parse_answer",
    "parse_media",
    "parse_yes_no",
]
