"""Browser sessions: a DynamoDB item per session, named by a signed id in an HttpOnly cookie."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from chalicelib import clock, keys
from chalicelib.config import get_settings
from chalicelib.models import SessionRecord, get_or_none

COOKIE = "handover_session"


def _mac(session_id: str, purpose: str) -> str:
    return keys.mac(purpose, session_id, 16)


def start(username: str, sub: str, label: str | None = None, who: str | None = None) -> tuple[SessionRecord, str]:
    """A new session and the cookie value that names it.

    `label` and `who` (how pages and the audit name the person) are kept as at sign-in;
    without them, pages ask Cognito.
    """
    now = clock.now()
    record = SessionRecord(
        session_id=secrets.token_urlsafe(24),
        username=username,
        sub=sub,
        label=label,
        who=who,
        created_at=now,
        expires_at=now + timedelta(hours=get_settings().session_hours),
    )
    record.save(condition=SessionRecord.session_id.does_not_exist())
    return record, f"{record.session_id}.{_mac(record.session_id, 'session-v1')}"


def current(cookie_header: str | None) -> SessionRecord | None:
    """The live session a Cookie header names; a tampered or expired one is ignored."""
    value = cookie_value(cookie_header, COOKIE)
    if not value or value.count(".") != 1:
        return None
    session_id, mac = value.split(".")
    if not hmac.compare_digest(mac, _mac(session_id, "session-v1")):
        return None
    record = get_or_none(SessionRecord, session_id)
    return record if record is not None and record.expires_at > clock.now() else None


def end(record: SessionRecord) -> None:
    record.delete()


def csrf_token(record: SessionRecord) -> str:
    """The token pages embed and state-changing requests made with the cookie send back."""
    return _mac(record.session_id, "csrf-v1")


def csrf_ok(record: SessionRecord, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(sent, csrf_token(record))


def cookie_value(cookie_header: str | None, name: str) -> str | None:
    """The value of cookie `name` in a Cookie header, or None.

    Split by hand rather than with http.cookies: that module costs ~3 ms of cold start, and
    one malformed cookie from another site on the domain made it drop the whole header.
    """
    for pair in (cookie_header or "").split(";"):
        key, equals, value = pair.partition("=")
        if equals and key.strip() == name:
            value = value.strip()
            return value[1:-1] if len(value) > 1 and value[0] == value[-1] == '"' else value
    return None


def set_cookie(name: str, value: str, seconds: int, secure: bool) -> str:
    """A Set-Cookie value: HttpOnly, SameSite=Lax, Secure on HTTPS."""
    flags = f"; Max-Age={seconds}; Path=/; HttpOnly; SameSite=Lax"
    return f"{name}={value}{flags}{'; Secure' if secure else ''}"
