"""Bad input gets a clear 400 with a stable code and changes nothing stored."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest
import requests
from conftest import shared_file

from chalicelib.models import FileRecord, LinkRecord


def _stored() -> tuple[int, int]:
    return FileRecord.count(), LinkRecord.count()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "invalid_json"),
        (b"", "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (json.dumps({"size": 3}).encode(), "missing_field"),
        (json.dumps({"name": "a.txt"}).encode(), "missing_field"),
        (json.dumps({"name": 5, "size": 3}).encode(), "invalid_field"),
        (json.dumps({"name": "a.txt", "size": "3"}).encode(), "invalid_field"),
        (json.dumps({"name": "a.txt", "size": 1.5}).encode(), "invalid_field"),
        (json.dumps({"name": "a.txt", "size": True}).encode(), "invalid_field"),
        (json.dumps({"name": "a.txt", "size": -1}).encode(), "invalid_size"),
        (json.dumps({"name": "a.txt", "size": 0}).encode(), "invalid_size"),
        (json.dumps({"name": "a.txt", "size": 10**15}).encode(), "file_too_large"),
        (json.dumps({"name": "  ", "size": 3}).encode(), "invalid_name"),
        (json.dumps({"name": "x" * 256, "size": 3}).encode(), "invalid_name"),
        (json.dumps({"name": "a\r\nb.txt", "size": 3}).encode(), "invalid_name"),
        (json.dumps({"name": "a.txt", "size": 3, "content_type": "not a type"}).encode(), "invalid_content_type"),
        (json.dumps({"name": "a.txt", "size": 3, "owner": "someone"}).encode(), "unknown_field"),
    ],
)
def test_bad_file_announcements_answer_400_and_store_nothing(member, body, code):
    before = _stored()

    answer = member.call("POST", "/api/files", raw=body)

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == code
    assert answer.data["error"]["message"]
    assert _stored() == before


def _moment(**delta) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"valid_until": _moment(days=-1)}, "valid_until_in_past"),
        ({"valid_until": "next tuesday"}, "invalid_valid_until"),
        ({"valid_until": "2026-13-45"}, "invalid_valid_until"),
        ({"valid_until": 1767225600}, "invalid_valid_until"),
        ({"valid_until": _moment(days=4000)}, "valid_until_too_far"),
        ({"allow_upload": "yes"}, "invalid_field"),
        ({"require_login": 1}, "invalid_field"),
        ({"expires": "tomorrow"}, "unknown_field"),
    ],
)
def test_bad_link_options_answer_400_and_store_nothing(member, body, code):
    file, _ = shared_file(member)
    before = _stored()

    answer = member.call("POST", f"/api/files/{file['file_id']}/links", body)

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == code
    assert _stored() == before


def test_bad_link_change_answers_400_and_leaves_the_link_as_it_was(member):
    _, link = shared_file(member, valid_until=_moment(days=3))

    for body in ({}, {"valid_until": "soon"}, {"valid_until": _moment(days=-3)}):
        assert member.call("PATCH", f"/api/links/{link['token']}", body).status_code == 400

    listed = member.call("GET", f"/api/files/{link['file_id']}/links").data["links"]
    assert listed[0]["valid_until"] == link["valid_until"]


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "limit=1000", "cursor=bm90LWpzb24", "cursor=%25%25"])
def test_bad_paging_answers_400(member, query):
    answer = member.call("GET", f"/api/files?{query}")

    assert answer.status_code == 400
    assert answer.data["error"]["code"] in {"invalid_limit", "invalid_cursor"}


def test_another_members_cursor_is_refused(member, other_member):
    shared_file(member)
    shared_file(member)
    cursor = member.call("GET", "/api/files?limit=1").data["next_cursor"]

    answer = other_member.call("GET", f"/api/files?cursor={cursor}")

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "invalid_cursor"


def test_wrong_method_answers_405_in_the_api_error_shape(member):
    answer = member.call("PUT", "/api/files")

    assert answer.status_code == 405
    assert answer.data["error"]["code"] == "method_not_allowed"


def test_a_name_with_quotes_dots_and_letters_round_trips_safely(member, anonymous):
    name = 'Ünïcødé "quoted" ../../etc/passwd ½.txt'

    file, link = shared_file(member, name=name)
    location = anonymous.call("GET", f"/s/{link['token']}/download").headers["Location"]
    disposition = requests.get(location).headers["Content-Disposition"]

    assert file["name"] == name
    fallback = disposition.split('filename="')[1].split('"')[0]
    assert fallback.isascii() and "/" not in fallback
    exact = unquote(disposition.split("filename*=UTF-8''")[1])
    assert exact == 'Ünïcødé "quoted" .._.._etc_passwd ½.txt'
    assert "\r" not in disposition and "\n" not in disposition


@pytest.mark.parametrize("file_id", ["x" * 3000, "..%2F..%2Fetc", "0" * 32])
def test_odd_file_ids_answer_404(member, file_id):
    assert member.call("GET", f"/api/files/{file_id}").status_code == 404
    assert member.call("POST", f"/api/files/{file_id}/complete").status_code == 404


def test_forged_cursor_for_own_listing_answers_400(member):
    forged = {"owner": {"S": "whoever"}, "created_at": {"N": "nonsense"}}
    shared_file(member)
    own = member.call("GET", "/api/files?limit=1").data["next_cursor"]
    decoded = json.loads(base64.urlsafe_b64decode(own))
    forged["owner"] = decoded["owner"]
    cursor = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()

    answer = member.call("GET", f"/api/files?cursor={cursor}")

    assert answer.status_code == 400
