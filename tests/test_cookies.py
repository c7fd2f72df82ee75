"""Reading a cookie out of a Cookie header (no server needed)."""

from __future__ import annotations

import pytest

from chalicelib.sessions import cookie_value


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("handover_session=abc.def", "abc.def"),
        ("other=1; handover_session=abc.def; last=2", "abc.def"),
        ("  handover_session = abc.def ;", "abc.def"),
        ('handover_session="quoted value"', "quoted value"),
        ("handover_session=a=b=c", "a=b=c"),  # only the first = separates the name
        ("handover_session=", ""),
        ("x_handover_session=abc; handover_session_old=def", None),  # a name is matched whole
        ("handover_session", None),
        ("", None),
        (None, None),
        # One malformed cookie from another application on the domain hides nothing else.
        ('broken="unterminated; \\x; handover_session=abc', "abc"),
        ("=;;=; handover_session=abc", "abc"),
    ],
)
def test_the_named_cookie_is_found_whatever_else_the_header_holds(header, expected):
    assert cookie_value(header, "handover_session") == expected
