"""The admin's search of external users: an index of every place text begins in a name,
an email or a phone number, so a search reads about as many items as it finds.

A substring of someone's text is the beginning of one of its suffixes. The index holds
each suffix (up to MAX_SUFFIX characters) under its first three characters, so the
people whose text contains a term are the entries that begin with it: one Query on one
key, with `begins_with` on the sort key. Text is compared normalised (NFKC, case-folded,
runs of white space as one space); phone numbers as their digits, so "+49 30 5550",
"030-5550" and "305550" find the same number.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from chalicelib.more_models import PersonRecord, SearchEntryRecord

GRAM = 3  # shorter terms are searched the old way (see people.list_external)
MAX_SUFFIX = 64  # longer terms are looked up by their first 64 characters, then checked whole
MAX_HITS = 500  # a term found in more entries than this is too broad for the index
_SEPARATOR = "\t"  # between the suffix and the username; normalised text holds no tab
_PHONE_LIKE = re.compile(r"[\d\s+()./-]+")
_WHITE_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Hit:
    username: str
    signed_up_at: datetime


def normalise(text: str) -> str:
    """Text as the index compares it: NFKC, case-folded, white space as single spaces."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _WHITE_SPACE.sub(" ", "".join(c for c in folded if c.isprintable() or c.isspace())).strip()


def digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())


def term(typed: str) -> str | None:
    """What the index looks up for a search: a phone number as its digits, other text
    normalised; None when shorter than three characters."""
    text = normalise(typed)
    found = digits(text) if _PHONE_LIKE.fullmatch(text) else text
    return found if len(found) >= GRAM else None


def _texts(record: PersonRecord) -> list[str]:
    texts = [normalise(record.name or ""), normalise(record.email or ""), digits(record.phone or "")]
    return [text for text in texts if len(text) >= GRAM]


def contains(record: PersonRecord, looked_up: str) -> bool:
    return any(looked_up in text for text in _texts(record))


def entries(record: PersonRecord | None) -> set[str]:
    """The index's entries for one person."""
    if record is None:
        return set()
    return {
        f"{text[start : start + MAX_SUFFIX]}{_SEPARATOR}{record.username}"
        for text in _texts(record)
        for start in range(len(text) - GRAM + 1)
    }


def follow(previous: PersonRecord | None, current: PersonRecord | None) -> None:
    """Bring the index in line with a change of one person (sign-up, sync, edit, deletion)."""
    old, new = entries(previous), entries(current)
    moved = previous is not None and current is not None and previous.signed_up_at != current.signed_up_at
    stale, fresh = old - new, new if moved else new - old  # every entry carries the sign-up time
    if not stale and not fresh:
        return
    with SearchEntryRecord.batch_write() as batch:
        for entry in stale:
            batch.delete(SearchEntryRecord(entry[:GRAM], entry))
        for entry in fresh:
            batch.save(_entry(entry, current))  # type: ignore[arg-type]  # fresh entries come from current


def write(records: Iterable[PersonRecord]) -> None:
    """Index people new to the index, in bulk."""
    with SearchEntryRecord.batch_write() as batch:
        for record in records:
            for entry in entries(record):
                batch.save(_entry(entry, record))


def _entry(entry: str, record: PersonRecord) -> SearchEntryRecord:
    return SearchEntryRecord(entry[:GRAM], entry, username=record.username, signed_up_at=record.signed_up_at)


def hits(looked_up: str) -> list[Hit] | None:
    """Everyone whose text contains `looked_up` (a `term`), once each; None when the term is
    in more than MAX_HITS entries, too broad for the index to be the cheaper way."""
    key = looked_up[:MAX_SUFFIX]
    found: dict[str, Hit] = {}
    entries_read = SearchEntryRecord.query(key[:GRAM], SearchEntryRecord.entry.startswith(key), limit=MAX_HITS + 1)
    for read, entry in enumerate(entries_read, start=1):
        if read > MAX_HITS:
            return None
        found.setdefault(entry.username, Hit(entry.username, entry.signed_up_at))
    return list(found.values())
