"""The text folds the parsers compare with: one for phrases, one for place names."""

from __future__ import annotations

import re
import unicodedata

from text_to_num import alpha2digit

# Emoji skin tones and the emoji presentation selector: "👍🏽" is "👍".
_EMOJI_MODIFIERS = str.maketrans(dict.fromkeys([*range(0x1F3FB, 0x1F400), 0xFE0F]))
# ASCII punctuation: dots and apostrophes vanish ("U.K.", "St. Albans"), the rest separates.
_ASCII_FOLD = str.maketrans(
    {
        **{chr(c): " " for c in range(128) if not chr(c).isalnum()},
        ".": None,
        "'": None,
        "`": None,
        "&": " and ",
    }
)
_NON_WORD = re.compile(r"[\W_]+")
# What separates the two ends of a range: "400-500", "10 to 15", "1k or 2k", "300 till 400".
RANGE_GAP = re.compile(r"^\s*(?:-|–|—|~|/|to|and|or|till|until)\s*$", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower-case, straight apostrophes, no skin tones, single spaces, no surrounding
    punctuation: how a short answer or a keyword is compared."""
    text = (text or "").replace("’", "'").replace("‘", "'").casefold()
    text = text.translate(_EMOJI_MODIFIERS)
    return " ".join(text.split()).strip(" .!?,;:")


def place_key(text: str) -> str:
    """Fold case, accents and punctuation so "U.K.", "Zürich" and "St. Albans" compare plainly."""
    if text.isascii():  # the common case, and all of the place index: keep it cheap
        return " ".join(text.lower().translate(_ASCII_FOLD).split())
    text = unicodedata.normalize("NFKD", text.casefold().replace("’", "'"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[.'`]", "", text.replace("&", " and "))
    return " ".join(_NON_WORD.sub(" ", text).split())


def words_to_digits(text: str) -> str:
    """ "five hundred" → "500"; the converter rejects some odd input, which then stays as is."""
    try:
        digits: str = alpha2digit(text, "en")
    except (ValueError, IndexError):
        return text
    return digits
