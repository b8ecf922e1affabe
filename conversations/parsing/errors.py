"""What every parser returns or raises; its own module so the parsers and the package import
it without importing each other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ParseError(ValueError):
    """An answer could not be understood; `reason` is short and safe to show the client."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ParsedAnswer:
    """A parsed answer: `value` is JSON-serialisable for storing, `display` is for summaries."""

    value: Any
    display: str
