"""The one check every name passes on its way in (no server needed)."""

from __future__ import annotations

import pytest

from chalicelib import names
from chalicelib.errors import BadRequest


@pytest.mark.parametrize(
    "name",
    [
        "Quarterly report.pdf",
        "Ünïcødé ½.txt",
        "家族の写真.jpg",
        "👩‍👩‍👧 family.png",  # zero-width joiners hold emoji together: allowed
        ".profile",
        "a" * 255,
    ],
)
def test_ordinary_names_pass_as_they_are(name):
    assert names.clean(name) == name


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("invoice\u202egpj.exe", "reverse the reading direction"),
        ("a\u2066b", "reverse the reading direction"),
        ("a\u200fb", "reverse the reading direction"),
        ("a\u061cb", "reverse the reading direction"),
        ("half \ud800 pair", "valid Unicode"),
        ("tab\there", "control characters"),
        ("c1 \x85 control", "control characters"),
        ("del\x7f", "control characters"),
        ("line\u2028separator", "control characters"),
        ("", "empty"),
        ("   ", "empty"),
        ("..", "only dots and spaces"),
        (" . . ", "only dots and spaces"),
        ("a" * 256, "at most 255"),
    ],
)
def test_names_that_lie_or_break_are_refused_with_a_reason(name, why):
    with pytest.raises(BadRequest) as refused:
        names.clean(name)

    assert refused.value.code == "invalid_name"
    assert why in refused.value.message


def test_names_are_stored_in_one_normal_form_and_trimmed():
    assert names.clean("  Cafe\u0301.txt ") == "Caf\u00e9.txt"


def test_a_name_that_is_not_text_is_an_invalid_field():
    with pytest.raises(BadRequest) as refused:
        names.clean(42)

    assert refused.value.code == "invalid_field"
