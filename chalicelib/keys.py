"""The server secret (in Secrets Manager) and the keys derived from it."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from chalicelib.aws import secrets_manager
from chalicelib.config import get_settings


@lru_cache(maxsize=1)
def _server_secret() -> bytes:
    value = secrets_manager().get_secret_value(SecretId=get_settings().secret_id)
    return value["SecretString"].encode()


def derived_key(purpose: str) -> bytes:
    """A key for one purpose, so a MAC made for one use never verifies for another."""
    return hmac.new(_server_secret(), purpose.encode(), hashlib.sha256).digest()
