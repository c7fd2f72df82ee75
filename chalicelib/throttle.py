"""Throttling of guessing: misses on `/s/...` and `/join/...` counted per source in a time window, and wrong
link passwords counted per link and per source."""

from __future__ import annotations

import ipaddress
import time
from datetime import UTC, datetime

from chalicelib.config import get_settings
from chalicelib.errors import TooManyRequests
from chalicelib.models import get_or_none
from chalicelib.more_models import ThrottleRecord


def source_of(ip: str | None) -> str:
    """Who is guessing: an IPv4 address, or an IPv6 /64 (one host is given a whole /64 to pick from)."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def count_miss(ip: str | None) -> None:
    """Count one miss of a token in a URL; past the limit, answer 429 instead of 404 until the window ends.

    One conditional counter per source and window (an atomic ADD), tidied by TTL.
    """
    settings = get_settings()
    window = settings.guess_window_seconds
    start = int(time.time()) // window * window
    counter = ThrottleRecord(f"{source_of(ip)}#{start}")
    tidy_at = datetime.fromtimestamp(start + 2 * window, tz=UTC)
    counter.update(actions=[ThrottleRecord.hits.add(1), ThrottleRecord.expires_at.set(tidy_at)])
    if counter.hits > settings.guess_limit:
        raise TooManyRequests("Too many unknown links from your address. Wait a few minutes.")


# Wrong link passwords allowed per window: from one source, and on one link from everywhere
# (a slow hash alone does not stop a botnet; the cost is that a flood locks out the link a while).
PASSWORD_GUESSES_PER_SOURCE = 10
PASSWORD_GUESSES_PER_LINK = 50


def _password_keys(link_id: str, ip: str | None) -> list[tuple[str, int]]:
    start = _window_start()
    return [
        (f"password#{source_of(ip)}#{start}", PASSWORD_GUESSES_PER_SOURCE),
        (f"password-link#{link_id}#{start}", PASSWORD_GUESSES_PER_LINK),
    ]


def _window_start() -> int:
    window = get_settings().guess_window_seconds
    return int(time.time()) // window * window


def check_password_guesses(link_id: str, ip: str | None) -> None:
    """Refuse before checking a password when this source or this link has guessed wrong too often."""
    for key, limit in _password_keys(link_id, ip):
        counter = get_or_none(ThrottleRecord, key)
        if counter is not None and counter.hits >= limit:
            raise TooManyRequests("Too many wrong passwords. Wait a few minutes, then try again.", "too_many_guesses")


def count_wrong_password(link_id: str, ip: str | None) -> None:
    """Count one wrong password, for this source and for this link (atomic ADDs, tidied by TTL)."""
    tidy_at = datetime.fromtimestamp(_window_start() + 2 * get_settings().guess_window_seconds, tz=UTC)
    for key, _ in _password_keys(link_id, ip):
        ThrottleRecord(key).update(actions=[ThrottleRecord.hits.add(1), ThrottleRecord.expires_at.set(tidy_at)])
