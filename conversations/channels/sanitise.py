"""Hostile input stopped at the boundary: strict JSON, storable text and plausible timestamps.

Every inbound webhook body goes through here once, where it is parsed, so nothing further in
has to wonder whether a string holds a NUL, a lone surrogate, or whether a number is NaN.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta

from .base import PayloadError

# Real Cloud API payloads nest about ten deep; far more is an attack on the parser.
MAX_JSON_DEPTH = 64
# Meta sends ids and timestamps as strings; no real integer field comes near this.
MAX_INT_DIGITS = 32
# A provider timestamp outside this window of the receive time is not believed.
TIMESTAMP_PAST = timedelta(days=30)
TIMESTAMP_FUTURE = timedelta(days=1)

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_OPENERS = frozenset(b"[{")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def nesting_depth(raw: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest, found without parsing it."""
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_A_BRACKET)
    return _deepest(brackets)


def _deepest(brackets: bytes) -> int:
    depth = deepest = 0
    for byte in brackets:
        if byte in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def parse_json(raw: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> object:
    """Strict JSON (no NaN, Infinity, overflowing or huge numbers), its strings made storable."""
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_A_BRACKET)
    # No deeper than it has openers: the walk is only needed for a body with that many.
    if len(brackets) > max_depth and _deepest(brackets) > max_depth:
        raise PayloadError(f"body is nested deeper than {max_depth} levels")
    try:
        text = raw.decode("utf-8")
        data = _DECODER.decode(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PayloadError("body is not JSON") from None
    # Decoded strictly as UTF-8, a NUL or a lone surrogate can only come from a \u escape.
    return clean_tree(data) if "\\u" in text else data


def clean_text(text: str) -> str:
    """A string PostgreSQL can store: NULs dropped, lone surrogates replaced by U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii():
        text = _LONE_SURROGATE.sub("\ufffd", text)
    return text


def clean_tree(value: object) -> object:
    """`clean_text` applied to every string and key of a parsed JSON value (depth is bounded)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k): clean_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_tree(v) for v in value]
    return value


def plausible_time(moment: datetime | None, received_at: datetime) -> datetime:
    """The provider's time if it lies near the receive time, else the receive time itself.

    A year-5138 timestamp would make every later message look out of order, a year-1 one
    cannot be shown in local time; the original stays in the stored raw payload. The
    receive time is cut to whole seconds, the providers' resolution, so the client's next
    message, sent in the same second, is not taken for an older one.
    """
    if moment is None or not (
        received_at - TIMESTAMP_PAST <= moment <= received_at + TIMESTAMP_FUTURE
    ):
        return received_at.replace(microsecond=0)
    return moment


def _refuse_constant(name: str) -> float:
    raise PayloadError(f"body is not JSON: {name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise PayloadError(f"body is not JSON: {text[:20]} overflows a number")
    return number


def _bounded(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise PayloadError(f"body holds an integer longer than {MAX_INT_DIGITS} digits")
    return int(text)


# Built once: json.loads() with hooks builds a decoder (and its scanner) on every call.
_DECODER = json.JSONDecoder(
    parse_constant=_refuse_constant, parse_float=_finite, parse_int=_bounded
)
