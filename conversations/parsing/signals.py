"""What looks like a budget in passing (a client writing again after the consultation);
slot filling (fragments.py) finds the fragments of an answer during it."""

from __future__ import annotations

import re

_CURRENCY_AMOUNT = re.compile(
    r"[£€$]\s*\d|\d\s*(?:k|grand|pounds?|quid|euros?|gbp|eur|usd|dollars?)\b", re.I
)
_BUDGET_WORDS = re.compile(r"\b(?:budget|afford|stretch|spend|pay|go up to)\b", re.I)
_BARE_AMOUNT = re.compile(r"[~≈]?\s*\d[\d,.]*\s*")


def looks_like_budget(text: str) -> bool:
    """A currency, a budget word or a bare amount: "£450", "I could stretch to 450", "450"."""
    return bool(
        _CURRENCY_AMOUNT.search(text) or _BUDGET_WORDS.search(text) or _BARE_AMOUNT.fullmatch(text)
    )
