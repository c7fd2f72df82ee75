"""Throttling of token guessing: misses on `/s/...` counted per source in a time window."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from chalicelib.config import get_settings
from chalicelib.errors import TooManyRequests
from chalicelib.models import ThrottleRecord


def count_miss(source: str) -> None:
    """Count one miss; past the limit, answer 429 instead of 404 until the window ends.

    One conditional counter per source and window (an atomic ADD), tidied by TTL.
    """
    settings = get_settings()
    window = settings.guess_window_seconds
    start = int(time.time()) // window * window
    counter = ThrottleRecord(f"{source}#{start}")
    tidy_at = datetime.fromtimestamp(start + 2 * window, tz=UTC)
    counter.update(actions=[ThrottleRecord.hits.add(1), ThrottleRecord.expires_at.set(tidy_at)])
    if counter.hits > settings.guess_limit:
        raise TooManyRequests("Too many unknown links from your address. Wait a few minutes.")
