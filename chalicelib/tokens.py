"""Link tokens: a random link id plus an HMAC of it, so the table never holds a usable token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from functools import lru_cache

from chalicelib.keys import derived_key

_ID_BYTES = 16  # 128 random bits
_MAC_BYTES = 16
_ID_CHARS = 22  # base64url of 16 bytes, unpadded
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{44}$")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@lru_cache(maxsize=1)
def _key() -> bytes:
    return derived_key("link-token-v1")


def _mac(link_id: str) -> str:
    return _b64(hmac.new(_key(), link_id.encode(), hashlib.sha256).digest()[:_MAC_BYTES])


def new_link_id() -> str:
    return _b64(secrets.token_bytes(_ID_BYTES))


def token_for(link_id: str) -> str:
    return link_id + _mac(link_id)


def link_id_from(token: str) -> str | None:
    """The link id a token names, or None when the token is malformed or its MAC fails.

    Checked before any table read, so guessing costs us no DynamoDB request.
    """
    if not _TOKEN_RE.match(token):
        return None
    link_id, mac = token[:_ID_CHARS], token[_ID_CHARS:]
    return link_id if hmac.compare_digest(mac, _mac(link_id)) else None
