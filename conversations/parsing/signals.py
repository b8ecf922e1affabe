"""Fragments that look like answers to other questions: the one-question-at-a-time guard."""

from __future__ import annotations

import re
from collections.abc import Collection

# By question kind (Question.Kind values): what an answer of that kind looks like in passing.
_SIGNALS = {
    "dimensions": re.compile(
        r"\d+(?:[.,]\d+)?\s*(?:cm|mm|in(?:ch(?:es)?)?|\"|”)?\s*(?:x|×|\*|by)\s*\d", re.I
    ),
    "budget": re.compile(
        r"[£€$]\s*\d|\d\s*(?:k|grand|pounds?|quid|euros?|gbp|eur|usd|dollars?)\b", re.I
    ),
    "handle": re.compile(r"(?<![\w.])@[a-z0-9._]{2,}|instagram\.com/", re.I),
}
_BUDGET_WORDS = re.compile(r"\b(?:budget|afford|stretch|spend|pay|go up to)\b", re.I)
_BARE_AMOUNT = re.compile(r"[~≈]?\s*\d[\d,.]*\s*")


def kinds_answered_in(text: str, kinds: Collection[str]) -> set[str]:
    """Which of `kinds` the text seems to carry an answer of as well."""
    return {kind for kind, pattern in _SIGNALS.items() if kind in kinds and pattern.search(text)}


def looks_like_budget(text: str) -> bool:
    """A currency, a budget word or a bare amount: "£450", "I could stretch to 450", "450"."""
    return bool(
        _SIGNALS["budget"].search(text)
        or _BUDGET_WORDS.search(text)
        or _BARE_AMOUNT.fullmatch(text)
    )
