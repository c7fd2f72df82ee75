"""A member's email preferences: which kinds of mail about their files they get (all, until turned off)."""

from __future__ import annotations

from chalicelib import shapes
from chalicelib.config import get_settings
from chalicelib.models import get_or_none
from chalicelib.more_models import MailRecord

# The mails a member gets about their own files; each can be turned off.
KINDS = shapes.MAIL_KINDS


def _key(sub: str) -> str:
    return f"prefs#{sub}"


def turned_off(sub: str) -> set[str]:
    record = get_or_none(MailRecord, _key(sub), "-")
    return set(record.off or ()) if record else set()


def wants(sub: str, kind: str) -> bool:
    return kind not in turned_off(sub)


def describe(sub: str) -> shapes.Preferences:
    off = turned_off(sub)
    return shapes.Preferences(email_on=get_settings().mail_on, **{kind: kind not in off for kind in KINDS})


def change(sub: str, change: shapes.PreferencesChange) -> shapes.Preferences:
    """Turn kinds of mail on or off; the others stay as they were."""
    off = turned_off(sub)
    for kind, on in change.fields.items():
        if on:
            off.discard(kind)
        else:
            off.add(kind)
    MailRecord(_key(sub), "-", off=sorted(off)).save()
    return describe(sub)
