"""Names people choose (files, folders, groups): the one check every name passes on its way in.

A name is shown to other people, so it must not lie about itself: bidirectional controls
turn `invoice\u202egpj.exe` into what reads as `invoiceexe.jpg`, control characters break
lines and headers, and an unpaired surrogate cannot even be stored in DynamoDB.
"""

from __future__ import annotations

import unicodedata

from chalicelib.errors import BadRequest

MAX_LENGTH = 255
# Explicit directional formatting (U+202A–U+202E, U+2066–U+2069) and the marks that
# steer it (ALM, LRM, RLM); zero-width joiners stay, emoji need them.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# C0, DEL and C1 controls (Cc), unpaired surrogates (Cs), line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def problem(text: str) -> str | None:
    """What is wrong with the characters of `text`, in words a person can act on; None if nothing."""
    for char in text:
        if char in _BIDI_CONTROLS:
            return "must not contain characters that reverse the reading direction"
        category = unicodedata.category(char)
        if category == "Cs":
            return "must be valid Unicode text"
        if category in _REFUSED_CATEGORIES:
            return "must not contain control characters such as line breaks"
    return None


def clean(value: object, field: str = "name", max_length: int = MAX_LENGTH) -> str:
    """A name as it will be stored: NFC, trimmed, and free of characters that could disguise it."""
    if not isinstance(value, str):
        raise BadRequest(f"{field} must be a string.", "invalid_field")
    wrong = problem(value)
    if wrong:
        raise BadRequest(f"{field} {wrong}.", "invalid_name")
    name = unicodedata.normalize("NFC", value).strip()
    if not name:
        raise BadRequest(f"{field} must not be empty.", "invalid_name")
    if not name.strip(". "):
        raise BadRequest(f"{field} must not be only dots and spaces.", "invalid_name")
    if len(name) > max_length:
        raise BadRequest(f"{field} must be at most {max_length} characters.", "invalid_name")
    return name


def normalise_email(address: str) -> str:
    """The form emails are compared in: NFKC, trimmed, lower-case."""
    return unicodedata.normalize("NFKC", address).strip().lower()
