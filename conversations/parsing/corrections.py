"""Replies to the confirmation summary: a correction ("change budget to 800", "budget: 800")
or an approval ("looks good"); which question a field name means is the flow's business."""

from __future__ import annotations

import re
from dataclasses import dataclass

from conversations.parsing.text import fold

_CORRECTION = re.compile(
    r"\b(?:change|update|set|make|correct|edit|fix|amend|switch)\s+(?:my\s+|the\s+)?"
    r"(?P<field>[^\W\d_][\w' -]*?)\s*(?:\bto\b|\binto\b|=|:|\bshould be\b)\s*(?P<value>\S.*)$",
    re.IGNORECASE | re.DOTALL,
)
# "the budget is 500 to 600 not 500": the old value named, so it is meant as a correction.
_RESTATED = re.compile(
    r"^(?:no,?\s+|sorry,?\s+|actually,?\s+|oops,?\s+)*(?:(?:my|the)\s+)?"
    r"(?P<field>[^\W\d_][\w' -]{0,30}?)\s+(?:is|should be|was meant to be|is actually)\s+"
    r"(?P<value>\S.*?)[,;]?\s+(?:not|rather than|instead of)\s+"
    r"(?!sure\b|certain\b|too\b|really\b|that\b)\S.*$",
    re.IGNORECASE | re.DOTALL,
)
_LABELLED = re.compile(r"^(?P<field>[^\W\d_][\w' -]{0,30}?)\s*[:=]\s*(?P<value>\S.*)$", re.DOTALL)
# Approving a summary ("looks good") is not a yes to a yes/no question, so only this step reads it.
_APPROVAL = re.compile(
    r"^(?:(?:it |that |this |all |everything )?(?:looks|sounds|is) (?:good|great|right|fine|"
    r"perfect)|all good|perfect|spot on|great|lovely|brilliant|good to go)\b[\s.!👍]*$",
    re.IGNORECASE,
)
_ARTICLE = re.compile(r"^(?:my|the|your)\s+")


@dataclass(frozen=True)
class Correction:
    """A field named and its new value; `asked` when a change verb says it is meant as one."""

    field: str
    value: str
    asked: bool


def parse_correction(text: str) -> Correction | None:
    """The field and value of "change budget to 800" or "budget: 800"; None otherwise."""
    verb = _CORRECTION.search(text) or _RESTATED.match(text.strip())
    match = verb or _LABELLED.match(text.strip())
    if match is None:
        return None
    value = match.group("value").strip().lstrip(":=- ").strip()
    return Correction(field_name(match.group("field")), value, asked=verb is not None)


def field_name(name: str) -> str:
    """How a field name is compared: "the Cover-up" and "cover up" are one name."""
    return _ARTICLE.sub("", fold(name.replace("-", " ")))


def is_approval(text: str) -> bool:
    return bool(_APPROVAL.match(text))
