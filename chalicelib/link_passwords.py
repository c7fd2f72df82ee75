"""Link passwords: a slow salted hash kept on the link, and the short signed cookie that remembers a
recipient typed it.

The password itself is never stored, logged, audited or put in a URL: it arrives in a POST
body and only its scrypt hash is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from chalicelib import keys, sessions

# scrypt's cost: 16 MiB and some tens of milliseconds per guess, well inside a Lambda's memory.
_N, _R, _P, _LENGTH = 2**14, 8, 1, 32
_COOKIE_PURPOSE = "link-password-v1"
COOKIE_SECONDS = 2 * 60 * 60  # short: a recipient types it again after a couple of hours


def hash_password(password: str) -> str:
    """`scrypt$N$r$p$salt$hash`, everything a later check needs."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _N, _R, _P)
    return f"scrypt${_N}${_R}${_P}${keys.b64(salt)}${keys.b64(digest)}"


def matches(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        expected = keys.unb64(digest)
        found = _scrypt(password, keys.unb64(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return scheme == "scrypt" and hmac.compare_digest(found, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=_LENGTH)


def cookie_name(link_id: str) -> str:
    """One cookie per link, so a recipient can hold several links' passwords at once."""
    return f"handover_link_{link_id[:10]}"


def _seal_of(stored: str) -> str:
    """What the cookie binds to: this very hash, so a changed or removed password ends every cookie."""
    return keys.mac(_COOKIE_PURPOSE, stored, 12)


def unlock_cookie(link_id: str, stored: str, secure: bool) -> str:
    """The Set-Cookie that remembers, for a short while, that this browser typed the link's password."""
    value = keys.seal(_COOKIE_PURPOSE, {"l": link_id, "h": _seal_of(stored)}, COOKIE_SECONDS)
    return sessions.set_cookie(cookie_name(link_id), value, COOKIE_SECONDS, secure)


def unlocked(link_id: str, stored: str, cookie_header: str | None) -> bool:
    """Whether a request carries this link's cookie, made for its current password."""
    data = keys.unseal(_COOKIE_PURPOSE, sessions.cookie_value(cookie_header, cookie_name(link_id)))
    return bool(data) and data.get("l") == link_id and data.get("h") == _seal_of(stored)
