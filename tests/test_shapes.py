"""One declared shape per body and answer: what it refuses, what it encodes, what it documents (no server)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import msgspec
import pytest
from jsonschema import Draft202012Validator

from chalicelib import clock, names, shapes
from chalicelib.errors import BadRequest


def _code(shape: type[shapes.Body], body: object) -> str:
    with pytest.raises(BadRequest) as refused:
        shapes.decode(json.dumps(body).encode(), shape)
    return refused.value.code


@pytest.mark.parametrize("shape", shapes.BODIES, ids=lambda shape: shape.__name__)
def test_every_body_refuses_a_field_it_does_not_declare(shape):
    assert _code(shape, {"owner": "someone"}) == "unknown_field"


@pytest.mark.parametrize(
    ("shape", "raw", "code"),
    [
        (shapes.LinkChange, b'{"allow_upload": "\\ud800"}', "invalid_json"),
        (shapes.NewJoinLink, b'{"role": "\\ud800"}', "invalid_json"),
        (shapes.NewGroup, b'{"\\ud800": 1}', "invalid_json"),
        (shapes.NewName, b'{"name": "half \\ud800 a pair"}', "invalid_name"),
    ],
)
def test_a_lone_surrogate_anywhere_in_a_body_is_refused_with_a_code(shape, raw, code):
    with pytest.raises(BadRequest) as refused:
        shapes.decode(raw, shape)

    assert refused.value.code == code


def test_a_names_limit_is_declared_once_and_both_enforced_and_documented():
    longest = "n" * names.MAX_LENGTH

    assert shapes.decode(json.dumps({"name": longest}).encode(), shapes.NewName).name == longest
    assert _code(shapes.NewName, {"name": longest + "n"}) == "invalid_name"
    assert shapes.components()["NewName"]["properties"]["name"]["maxLength"] == names.MAX_LENGTH


@pytest.mark.parametrize(
    ("name", "ok"),
    [("team-1", True), ("a.b_c", True), ("has space", False), ("trailing\n", False), ("-first", False)]
    + [("é", False), ("x" * 64, True), ("x" * 65, False)],
)
def test_a_group_name_is_accepted_by_the_api_exactly_when_the_document_says_so(name, ok):
    pattern = shapes.components()["NewGroup"]["properties"]["name"]
    documented = Draft202012Validator(pattern).is_valid(name)
    try:
        shapes.decode(json.dumps({"name": name}).encode(), shapes.NewGroup)
        accepted = True
    except BadRequest as error:
        assert error.code == "invalid_group"
        accepted = False

    assert accepted == documented == ok


def test_answers_give_moments_in_whole_utc_seconds_as_the_api_always_has():
    moment = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    answer = shapes.Upload(
        upload_id="u", status="started", name="a.txt", size=1, content_type="text/plain", version_id=None,
        created_at=moment, updated_at=moment,
    )  # fmt: skip

    encoded = msgspec.json.decode(msgspec.json.encode(answer))

    assert encoded["created_at"] == clock.iso(moment)


def test_a_recipients_plan_carries_its_upload_id_and_a_members_does_not():
    plan = shapes.PostUpload(url="https://bucket.example/", fields={"key": "k"}, expires_at=clock.now())

    assert "upload_id" not in msgspec.json.decode(msgspec.json.encode(plan))
    recipient = msgspec.structs.replace(plan, upload_id="abc")
    assert msgspec.json.decode(msgspec.json.encode(recipient))["upload_id"] == "abc"
