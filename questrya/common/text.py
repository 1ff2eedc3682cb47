"""Text helpers for what players type: cleaning and folding for comparison."""

from __future__ import annotations

import re
import unicodedata

# Format characters (Cf) include zero-width spaces and joiners and bidi overrides: invisible,
# they would make two equal-looking titles differ or reorder what others see.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs"})
_WHITESPACE_RUN = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[\W_]+")


def clean_text(raw: str) -> str:
    """NFC-normalise, drop control/invisible characters, collapse whitespace, trim."""
    normalised = unicodedata.normalize("NFC", raw)
    visible = "".join(
        " " if char.isspace() else char
        for char in normalised
        if char.isspace() or unicodedata.category(char) not in _INVISIBLE_CATEGORIES
    )
    return _WHITESPACE_RUN.sub(" ", visible).strip()


def fold(text: str) -> str:
    """Fold case, accents and punctuation so "Pokémon: Red" and "pokemon red" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    without_marks = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NOT_WORD.sub(" ", without_marks).strip()


def shorten(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
