"""Throttling of token guessing: misses on `/s/...` and `/join/...` counted per source in a time window."""

from __future__ import annotations

import ipaddress
import time
from datetime import UTC, datetime

from chalicelib.config import get_settings
from chalicelib.errors import TooManyRequests
from chalicelib.models import ThrottleRecord


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
