"""The server key: an SSM SecureString made once, at first use, and never replaced."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from chalicelib import aws, keys
from chalicelib.config import get_settings


def _expected(key: str, purpose: str) -> bytes:
    return hmac.new(key.encode(), purpose.encode(), hashlib.sha256).digest()


@pytest.fixture
def fresh_container(stack):
    """Forget the key as a new Lambda container would; put the stack's key back afterwards."""
    client = aws.ssm()
    name = get_settings().server_key_parameter
    keys.derived_key("session")  # the key the rest of the session signs with exists
    before = client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    keys._server_secret.cache_clear()
    keys.derived_key.cache_clear()
    yield client, name
    client.put_parameter(Name=name, Value=before, Type="SecureString", Overwrite=True)
    keys._server_secret.cache_clear()
    keys.derived_key.cache_clear()


def test_first_use_makes_a_secure_string_and_later_containers_read_it(fresh_container):
    client, name = fresh_container
    client.delete_parameter(Name=name)

    made = keys.derived_key("links")
    stored = client.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    keys._server_secret.cache_clear()
    keys.derived_key.cache_clear()

    assert stored["Type"] == "SecureString"
    assert len(stored["Value"]) >= 64  # 48 random bytes, URL-safe base64
    assert made == _expected(stored["Value"], "links")
    assert keys.derived_key("links") == made


def test_an_existing_key_is_used_and_never_overwritten(fresh_container):
    client, name = fresh_container
    client.put_parameter(Name=name, Value="k" * 64, Type="SecureString", Overwrite=True)

    assert keys.derived_key("links") == _expected("k" * 64, "links")
    assert client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == "k" * 64


def test_a_cold_start_that_loses_the_race_uses_the_winners_key(fresh_container, stack):
    client, name = fresh_container
    client.delete_parameter(Name=name)
    other_container = stack.client("ssm")

    def another_container_writes_first(**_):
        other_container.put_parameter(Name=name, Value="w" * 64, Type="SecureString", Overwrite=False)

    client.meta.events.register("before-call.ssm.PutParameter", another_container_writes_first)
    try:
        derived = keys.derived_key("links")
    finally:
        client.meta.events.unregister("before-call.ssm.PutParameter", another_container_writes_first)

    assert derived == _expected("w" * 64, "links")
    assert client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == "w" * 64
