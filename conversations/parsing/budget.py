"""Budget answers ("£1,200", "1.5k", "400-500", "about 300 quid") as an amount in minor units;
a range keeps both ends."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

import pycountry

from conversations.parsing.errors import ParseError
from conversations.parsing.text import RANGE_GAP, words_to_digits

# ISO 4217 minor-unit exponents that are not 2 (pycountry does not carry them).
_EXPONENTS = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI"), 0
    ),
    **dict.fromkeys(("VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
_SYMBOLS = {
    "£": "GBP",
    "€": "EUR",
    "$": "USD",
    "us$": "USD",
    "a$": "AUD",
    "au$": "AUD",
    "c$": "CAD",
    "ca$": "CAD",
    "nz$": "NZD",
    "¥": "JPY",
    "₹": "INR",
}
# Lower-case words and codes people write after a number; other ISO codes only in capitals,
# since many are English words ("all", "try", "top", "cup").
_WORDS = {
    "pound": "GBP",
    "pounds": "GBP",
    "quid": "GBP",
    "sterling": "GBP",
    "gbp": "GBP",
    "euro": "EUR",
    "euros": "EUR",
    "eur": "EUR",
    "dollar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "usd": "USD",
    "aud": "AUD",
    "cad": "CAD",
    "nzd": "NZD",
    "chf": "CHF",
}
_DISPLAY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
_MULTIPLIERS = {"k": 1000, "grand": 1000, "thousand": 1000}

_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*")
_MULT_AFTER = re.compile(r"\s*(k|grand|thousand)\b", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(r"\s*([£€$¥₹]|[A-Za-z]+)")
_CURRENCY_BEFORE = re.compile(
    r"((?:\b(?:us|au|a|c|ca|nz))?\$|[£€¥₹]|\b[A-Za-z]{3})\s*$", re.IGNORECASE
)
# A minus sign is a negative amount unless an amount sits right before it (then it is a range).
_MINUS = re.compile(r"(?:^|(?<=[^\w]))[-−]\s*(?:[£€$]\s*)?\d")
_AMOUNT_BEFORE = re.compile(r"\d\s*(?:k|grand|thousand|[A-Za-z]{3,9}|[£€$¥₹])?\s*$", re.IGNORECASE)
_NEGATIVE_WORDS = re.compile(r"\b(?:minus|negative)\s+[£€$]?\s*\d", re.IGNORECASE)
_A_GRAND = re.compile(r"\ba (grand|thousand|k)\b", re.IGNORECASE)


# Above this many units of the studio's own currency a budget is a slip ("400k"), not a plan.
PLAUSIBLE_MAXIMUM = 50_000


@dataclass(frozen=True)
class Budget:
    """An amount in the currency's minor unit (pence, cents) and its ISO 4217 code; a range
    ("£500-600") keeps its upper end in `max_minor`."""

    amount_minor: int
    currency: str
    max_minor: int | None = None

    @property
    def display(self) -> str:
        if self.max_minor is None:
            return format_money(self.amount_minor, self.currency)
        return format_money_range(self.amount_minor, self.max_minor, self.currency)


@dataclass
class _Amount:
    start: int
    end: int
    number: Decimal
    multiplier: int
    currency: str | None

    @property
    def value(self) -> Decimal:
        return self.number * self.multiplier


def exponent(currency: str) -> int:
    """The ISO 4217 minor-unit exponent of `currency` (2 for most)."""
    return _EXPONENTS.get(currency, 2)


def format_money(amount_minor: int, currency: str) -> str:
    """'£1,200', '€99.50', '1,000 CHF'."""
    exp = exponent(currency)
    major = Decimal(amount_minor).scaleb(-exp)
    text = f"{major:,.0f}" if major == major.to_integral_value() else f"{major:,.{exp}f}"
    symbol = _DISPLAY_SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def format_money_range(low_minor: int, high_minor: int, currency: str) -> str:
    """'£500–600', '1,000–1,500 CHF': the currency written once."""
    low, high = format_money(low_minor, currency), format_money(high_minor, currency)
    symbol = _DISPLAY_SYMBOLS.get(currency)
    if symbol:
        return f"{low}–{high.removeprefix(symbol)}"
    return f"{low.removesuffix(f' {currency}')}–{high}"


@cache
def _iso_codes() -> frozenset[str]:
    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


def _currency_of(token: str) -> str | None:
    lowered = token.lower()
    if lowered in _SYMBOLS:
        return _SYMBOLS[lowered]
    if lowered in _WORDS:
        return _WORDS[lowered]
    if len(token) == 3 and token.isupper() and token in _iso_codes():
        return token
    return None


def _to_decimal(raw: str, *, has_multiplier: bool) -> Decimal | None:
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", raw):
        cleaned = raw.replace(",", "")
    elif not has_multiplier and re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?", raw):
        # Continental grouping: "1.200" or "1.200,50".
        cleaned = raw.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d+,\d{1,2}", raw):
        cleaned = raw.replace(",", ".")
    elif re.fullmatch(r"\d+(?:\.\d+)?", raw):
        cleaned = raw
    else:
        return None
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def _amounts(text: str) -> list[_Amount]:
    found = []
    for match in _NUMBER.finditer(text):
        start, end = match.span()
        multiplier = 1
        mult = _MULT_AFTER.match(text, end)
        if mult:
            multiplier = _MULTIPLIERS[mult.group(1).lower()]
            end = mult.end()
        number = _to_decimal(match.group(), has_multiplier=multiplier != 1)
        if number is None:
            continue
        currency = None
        after = _CURRENCY_AFTER.match(text, end)
        if after and (code := _currency_of(after.group(1))):
            currency, end = code, after.end()
        before = _CURRENCY_BEFORE.search(text, 0, start)
        if before and (code := _currency_of(before.group(1))):
            currency = currency or code
            start = before.start()
        found.append(_Amount(start, end, number, multiplier, currency))
    return found


def _link_ranges(amounts: list[_Amount], text: str) -> dict[int, _Amount]:
    """In "400-500 pounds" or "1-2k" the lower bound takes the upper bound's unit; returns
    each range's upper end by the position of its lower end."""
    upper = {}
    for low, high in itertools.pairwise(amounts):
        if not RANGE_GAP.match(text[low.end : high.start]):
            continue
        if low.currency is None:
            low.currency = high.currency
        if low.multiplier == 1 and high.multiplier != 1 and low.number < high.number:
            low.multiplier = high.multiplier
        if high.currency in (None, low.currency):
            upper[low.start] = high
    return upper


def _minor(value: Decimal, currency: str) -> int:
    return int(value.scaleb(exponent(currency)).to_integral_value(rounding=ROUND_HALF_UP))


def _is_negative(text: str) -> bool:
    if _NEGATIVE_WORDS.search(text):
        return True
    return any(not _AMOUNT_BEFORE.search(text, 0, m.start()) for m in _MINUS.finditer(text))


def parse_budget(
    text: str,
    *,
    minimum: int = 50,
    default_currency: str = "GBP",
    maximum: int = 1_000_000,
    plausible: int = PLAUSIBLE_MAXIMUM,
) -> Budget:
    """Parse a budget; a range keeps both ends. `minimum`, `maximum` and `plausible` (the most
    believable in the default currency) are major units."""
    cleaned = (text or "").strip().replace("\u00a0", " ")
    if not cleaned:
        raise ParseError("Please give a budget, for example £400.")
    cleaned = words_to_digits(cleaned)
    cleaned = _A_GRAND.sub(r"1 \1", cleaned)
    if _is_negative(cleaned):
        raise ParseError("The budget needs to be more than zero.")
    amounts = _amounts(cleaned)
    if not amounts:
        raise ParseError("I couldn't find an amount. Please give a number, for example £400.")
    upper = _link_ranges(amounts, cleaned)
    chosen = next((a for a in amounts if a.currency), amounts[0])
    currency = chosen.currency or default_currency
    value = chosen.value
    if value <= 0:
        raise ParseError("The budget needs to be more than zero.")
    exp = exponent(currency)
    if value < minimum:
        minimum_text = format_money(minimum * 10**exp, currency)
        raise ParseError(f"The minimum budget is {minimum_text}.")
    if value > maximum:
        raise ParseError("That amount looks too large. Please give your budget in numbers.")
    if currency == default_currency and value > plausible:
        example = format_money(400 * 10**exp, currency)
        raise ParseError(
            f"{format_money(_minor(value, currency), currency)} is more than a tattoo usually "
            f"costs. Please reply with your budget, for example {example}."
        )
    high = upper.get(chosen.start)
    high_value = high.value if high is not None else None
    if high_value is not None and value < high_value <= min(maximum, plausible):
        return Budget(_minor(value, currency), currency, _minor(high_value, currency))
    return Budget(_minor(value, currency), currency)
