"""Tokens in URLs: a random id plus an HMAC of it, so a table never holds a usable token.

Links use them, and so do invitations to folders (another purpose, so another key).
"""

from __future__ import annotations

import hmac
import re
import secrets

from chalicelib import keys

_ID_BYTES = 16  # 128 random bits
_MAC_BYTES = 16
_ID_CHARS = 22  # base64url of 16 bytes, unpadded
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{44}\Z")


LINKS = "link-token-v1"
INVITATIONS = "invitation-token-v1"


def _mac(item_id: str, purpose: str) -> str:
    return keys.mac(purpose, item_id, _MAC_BYTES)


def new_link_id() -> str:
    return keys.b64(secrets.token_bytes(_ID_BYTES))


def token_for(item_id: str, purpose: str = LINKS) -> str:
    return item_id + _mac(item_id, purpose)


def link_id_from(token: str, purpose: str = LINKS) -> str | None:
    """The id a token names, or None when the token is malformed or its MAC fails.

    Checked before any table read, so guessing costs us no DynamoDB request.
    """
    if not _TOKEN_RE.match(token):
        return None
    item_id, mac = token[:_ID_CHARS], token[_ID_CHARS:]
    return item_id if hmac.compare_digest(mac, _mac(item_id, purpose)) else None
