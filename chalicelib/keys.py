"""The server key (an SSM Parameter Store SecureString) and the keys derived from it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from functools import lru_cache
from typing import Any

from chalicelib.aws import ssm
from chalicelib.config import get_settings


@lru_cache(maxsize=1)
def _server_secret() -> bytes:
    """The server key, read once per container; the first container ever makes it.

    A SecureString under the AWS-managed key costs nothing while idle (a Secrets Manager
    secret bills monthly). CloudFormation cannot create a SecureString, so the first
    reader writes one with a put that cannot overwrite: when two cold starts race, the
    loser reads the winner's key, and no key that signed a link is ever replaced.
    """
    client = ssm()
    name = get_settings().server_key_parameter
    try:
        return client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"].encode()
    except client.exceptions.ParameterNotFound:
        pass
    key = secrets.token_urlsafe(48)
    try:
        client.put_parameter(
            Name=name,
            Value=key,
            Type="SecureString",  # with no KeyId: the AWS-managed key alias/aws/ssm, free
            Overwrite=False,
            Description="Handover: HMAC key of link tokens and sessions. Changing it invalidates every link.",
        )
    except client.exceptions.ParameterAlreadyExists:
        return client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"].encode()
    return key.encode()


@lru_cache(maxsize=8)
def derived_key(purpose: str) -> bytes:
    """A key for one purpose, so a MAC made for one use never verifies for another."""
    return hmac.new(_server_secret(), purpose.encode(), hashlib.sha256).digest()


def b64(raw: bytes) -> str:
    """URL-safe base64 without padding: what tokens, cookies and form fields carry."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def mac(purpose: str, text: str, size: int = 32) -> str:
    """An HMAC of `text` under the key for `purpose`, cut to `size` bytes, as URL-safe text."""
    return b64(hmac.new(derived_key(purpose), text.encode(), hashlib.sha256).digest()[:size])


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(purpose: str, data: dict[str, Any], seconds: int) -> str:
    """`data` signed for one purpose and a limited time, for a cookie or a form field."""
    payload = b64(json.dumps({**data, "exp": int(time.time()) + seconds}, separators=(",", ":")).encode())
    return f"{payload}.{mac(purpose, payload)}"


def unseal(purpose: str, sealed: str | None) -> dict[str, Any] | None:
    """The data of a sealed value, or None when tampered with, made for another purpose, or expired."""
    if not sealed or sealed.count(".") != 1:
        return None
    payload, signature = sealed.split(".")
    if not hmac.compare_digest(signature, mac(purpose, payload)):
        return None
    try:
        data = json.loads(unb64(payload))
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("exp", 0) < time.time():
        return None
    return data
