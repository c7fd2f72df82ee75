"""Bad input gets a clear 400 with a stable code and changes nothing stored."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest
import requests
from conftest import scanned, shared_file, upload

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


_DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (_DEEP, "invalid_json"),
        (b'{"name": "a.txt", "size": 3, "folder_id": ' + _DEEP + b"}", "invalid_json"),
        (b'{"name": "invoice\\u202egpj.exe", "size": 3}', "invalid_name"),
        (b'{"name": "a\\u2066b.txt", "size": 3}', "invalid_name"),
        (b'{"name": "half \\ud800 a pair.txt", "size": 3}', "invalid_name"),
        (b'{"name": "c1 \\u0085 control.txt", "size": 3}', "invalid_name"),
        (b'{"name": "line\\u2028separator.txt", "size": 3}', "invalid_name"),
        (b'{"name": " . .. ", "size": 3}', "invalid_name"),
        (b'{"name": "..", "size": 3}', "invalid_name"),
        (b'{"name": "a.txt", "size": 3, "content_type": "text/plain\\n"}', "invalid_content_type"),
        (b'{"name": "a.txt", "size": 3, "content_type": "text/plain;\\r\\n x=y"}', "invalid_content_type"),
    ],
)
def test_hostile_announcements_answer_400_and_store_nothing(member, raw, code):
    before = _stored()

    answer = member.call("POST", "/api/files", raw=raw)

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == code
    assert _stored() == before


@pytest.mark.parametrize("path", ["/api/folders", "/api/files/{file_id}"])
def test_every_way_a_name_enters_refuses_names_that_lie(member, path):
    file, _ = shared_file(member)
    method = "POST" if path == "/api/folders" else "PATCH"

    answer = member.call(method, path.format(file_id=file["file_id"]), {"name": "photo\u202egpj.exe"})

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "invalid_name"
    assert member.call("GET", f"/api/files/{file['file_id']}").data["file"]["name"] == file["name"]


def test_names_are_stored_in_one_normal_form(member):
    decomposed = "Cafe\u0301.txt"  # "e" then a combining accent

    file, _ = shared_file(member, name=decomposed)

    assert file["name"] == "Caf\u00e9.txt"


@pytest.mark.parametrize(
    "valid_until",
    ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59.999999-12:00"],
)
def test_moments_pushed_out_of_range_by_their_offset_answer_400(member, valid_until):
    file, _ = shared_file(member)
    before = _stored()

    answer = member.call("POST", f"/api/files/{file['file_id']}/links", {"valid_until": valid_until})

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "invalid_valid_until"
    assert _stored() == before


@pytest.mark.parametrize("query", ["limit=%D9%A1%D9%A2", "limit=%C2%B2", "limit=12%0A", "limit=+5"])
def test_limits_of_digits_that_are_not_ascii_answer_400(member, query):
    answer = member.call("GET", f"/api/files?{query}")

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "invalid_limit"


def test_a_bottomless_cursor_answers_400(member):
    cursor = base64.urlsafe_b64encode(_DEEP).decode()

    answer = member.call("GET", f"/api/files?cursor={cursor}")

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize("group", ["team\u202e", "a\u0085b", "grp\n"])
def test_group_names_that_lie_answer_400(member, group):
    file, _ = shared_file(member)

    answer = member.call("POST", f"/api/files/{file['file_id']}/links", {"groups": [group]})

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "invalid_group"


@pytest.mark.parametrize(
    "content_type",
    ["text/html", "image/svg+xml", "application/xhtml+xml", "text/javascript", "text/xml; charset=utf-8"],
)
def test_active_content_downloads_as_inert_bytes_and_keeps_its_stored_type(member, anonymous, content_type):
    data = b"<script>alert(document.domain)</script>"
    created = member.call("POST", "/api/files", {"name": "page.html", "size": len(data), "content_type": content_type})
    upload(created.data["upload"], data)
    file_id = created.data["file"]["file_id"]
    member.call("POST", f"/api/files/{file_id}/complete")
    scanned()
    link = member.call("POST", f"/api/files/{file_id}/links", {}).data["link"]

    location = anonymous.call("GET", f"/s/{link['token']}/download").headers["Location"]
    served = requests.get(location)
    version = member.call("GET", f"/api/files/{file_id}/versions").data["versions"][0]
    own_download = member.call("GET", f"/api/files/{file_id}/versions/{version['version_id']}/download")
    owners_copy = requests.get(own_download.headers["Location"])

    assert served.content == data
    assert served.headers["Content-Type"] == "application/octet-stream"
    assert owners_copy.headers["Content-Type"] == "application/octet-stream"
    assert member.call("GET", f"/api/files/{file_id}").data["file"]["content_type"] == content_type


def test_ordinary_types_download_as_themselves(member, anonymous):
    _, link = shared_file(member, b"plain words\n", name="notes.txt")

    location = anonymous.call("GET", f"/s/{link['token']}/download").headers["Location"]

    assert requests.get(location).headers["Content-Type"] == "text/plain"
