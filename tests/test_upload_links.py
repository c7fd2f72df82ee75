"""What a link with upload asks and takes: who sends (off, optional, required), how large, which types;
and how the sender learns that their upload was accepted."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api, scanned, shared_file, signed_in, upload

from chalicelib.more_models import UploadRecord
from devstack.scanner import EICAR


def _start(api, link, data: bytes, name: str = "reply.txt", content_type: str = "text/plain", **sender: str):
    body = {"name": name, "size": len(data), "content_type": content_type, **sender}
    return api.call("POST", f"/s/{link['token']}/uploads", body)


def _send(api, link, data: bytes, name: str = "reply.txt", **sender: str) -> dict[str, Any]:
    started = _start(api, link, data, name, **sender)
    assert started.status_code == 201, started.body
    upload(started.data["upload"], data)
    done = api.call("POST", f"/s/{link['token']}/uploads/{started.data['upload']['upload_id']}/complete")
    assert done.status_code == 200, done.body
    return done.data["upload"]


def _uploads_of(file_id: str) -> list[UploadRecord]:
    return [u for u in UploadRecord.scan(UploadRecord.file_id == file_id)]


def _history(member, file_id: str) -> str:
    return member.call("GET", f"/console/items/{file_id}?tab=history").body.decode()


# --- who sends it --------------------------------------------------------------------------


def test_a_link_that_requires_a_sender_refuses_an_anonymous_upload_without_one(member, anonymous):
    file, link = shared_file(member, allow_upload=True, ask_sender="required")

    missing = _start(anonymous, link, b"who am i")
    half = _start(anonymous, link, b"who am i", sender_name="Pat")
    bad_email = _start(anonymous, link, b"who am i", sender_name="Pat", sender_email="not an email")

    assert (missing.status_code, missing.data["error"]["code"]) == (400, "sender_required")
    assert half.data["error"]["code"] == "sender_required"
    assert bad_email.data["error"]["code"] == "invalid_email"
    assert _uploads_of(file["file_id"]) == []


def test_the_sender_is_shown_on_the_version_and_in_the_history_marked_self_declared(member, anonymous):
    file, link = shared_file(member, allow_upload=True, ask_sender="optional")

    _send(anonymous, link, b"signed", sender_name=" Pat Partner ", sender_email="Pat@Partner.example")
    scanned()

    newest = member.call("GET", f"/api/files/{file['file_id']}/versions").data["versions"][0]
    assert (newest["sender_name"], newest["sender_email"], newest["sender_verified"]) == (
        "Pat Partner",
        "pat@partner.example",
        False,
    )
    tab = member.call("GET", f"/console/items/{file['file_id']}?tab=versions").body.decode()
    assert "Pat Partner &lt;pat@partner.example&gt; (self-declared)" in tab
    assert "from Pat Partner &lt;pat@partner.example&gt; (self-declared)" in _history(member, file["file_id"])


def test_an_optional_sender_may_stay_anonymous_and_an_off_link_keeps_nothing(member, anonymous):
    optional_file, optional = shared_file(member, allow_upload=True, ask_sender="optional")
    off_file, off = shared_file(member, allow_upload=True)

    _send(anonymous, optional, b"nobody")
    _send(anonymous, off, b"ignored", sender_name="Pat", sender_email="pat@partner.example")

    for file in (optional_file, off_file):
        newest = member.call("GET", f"/api/files/{file['file_id']}/versions").data["versions"][0]
        assert (newest["sender_name"], newest["sender_email"], newest["sender_verified"]) == (None, None, False)


def test_a_signed_in_sender_is_known_from_their_sign_in_not_self_declared(client, stack, member):
    partner = Api(client, signed_in(stack, "signed.partner@example.com", groups=()))
    partner_email = "signed.partner@example.com"
    file, link = shared_file(member, allow_upload=True, ask_sender="required", recipients=[partner_email])

    _send(partner, link, b"from a known partner", sender_name="Sam")

    newest = member.call("GET", f"/api/files/{file['file_id']}/versions").data["versions"][0]
    assert (newest["sender_name"], newest["sender_email"], newest["sender_verified"]) == (
        "Sam",
        "signed.partner@example.com",
        True,
    )
    assert "self-declared" not in _history(member, file["file_id"])


# --- what the link takes ------------------------------------------------------------------


def test_a_file_larger_than_the_link_takes_is_refused_before_any_url(member, anonymous):
    file, link = shared_file(member, allow_upload=True, max_upload_bytes=10)

    refused = _start(anonymous, link, b"x" * 11)
    fits = _start(anonymous, link, b"x" * 10)

    assert (refused.status_code, refused.data["error"]["code"]) == (400, "upload_too_large")
    assert "upload" not in refused.data
    assert fits.status_code == 201
    assert ["content-length-range", 10, 10] in _policy_conditions(fits.data["upload"])
    assert [u.size for u in _uploads_of(file["file_id"])] == [10]


def _policy_conditions(plan: dict[str, Any]) -> list[Any]:
    import base64
    import json

    return json.loads(base64.b64decode(plan["fields"]["policy"]))["conditions"]


@pytest.mark.parametrize(
    ("name", "content_type", "accepted"),
    [
        ("scan.PDF", "application/octet-stream", True),
        ("photo.png", "image/png", True),
        ("notes", "application/pdf", True),
        ("payload.exe", "application/pdf", False),
        ("payload.exe", "application/x-msdownload", False),
        ("page.html", "text/html", False),
    ],
)
def test_a_link_takes_only_the_types_it_allows(member, anonymous, name, content_type, accepted):
    _, link = shared_file(member, allow_upload=True, allowed_types=[".pdf", "image/*", "application/pdf"])

    answer = _start(anonymous, link, b"bytes", name=name, content_type=content_type)

    if accepted:
        assert answer.status_code == 201, answer.body
    else:
        assert (answer.status_code, answer.data["error"]["code"]) == (400, "type_not_allowed")


def test_a_links_upload_settings_are_shown_changed_and_checked(member):
    _, link = shared_file(member, allow_upload=True)
    assert (link["ask_sender"], link["max_upload_bytes"], link["allowed_types"]) == ("off", None, [])

    changed = member.call(
        "PATCH",
        f"/api/links/{link['token']}",
        {"ask_sender": "required", "max_upload_bytes": 1000, "allowed_types": [".PDF", ".pdf"]},
    )
    cleared = member.call("PATCH", f"/api/links/{link['token']}", {"max_upload_bytes": None})
    refusals = {
        code: member.call("PATCH", f"/api/links/{link['token']}", body).data["error"]["code"]
        for code, body in {
            "invalid_ask_sender": {"ask_sender": "sometimes"},
            "invalid_max_upload_bytes": {"max_upload_bytes": 0},
            "invalid_allowed_types": {"allowed_types": ["pdf"]},
        }.items()
    }

    assert changed.status_code == 200, changed.body
    assert (changed.data["link"]["ask_sender"], changed.data["link"]["allowed_types"]) == ("required", [".pdf"])
    assert changed.data["link"]["max_upload_bytes"] == 1000
    assert cleared.data["link"]["max_upload_bytes"] is None
    assert refusals == {code: code for code in refusals}


def test_the_landing_page_asks_who_sends_when_the_link_does(member, anonymous):
    _, asking = shared_file(member, allow_upload=True, ask_sender="required")
    _, silent = shared_file(member, allow_upload=True)

    asked = anonymous.call("GET", f"/s/{asking['token']}").body.decode()
    not_asked = anonymous.call("GET", f"/s/{silent['token']}").body.decode()

    assert 'name="sender_name"' in asked and 'name="sender_email"' in asked and "required" in asked
    assert 'name="sender_name"' not in not_asked


# --- the sender learns when it is accepted ---------------------------------------------------


def test_the_sender_sees_their_upload_pending_then_accepted_or_refused(member, anonymous, scanner):
    _, link = shared_file(member, allow_upload=True)

    with scanner.paused():
        clean = _send(anonymous, link, b"fine")
        infected = _send(anonymous, link, EICAR)
        waiting = anonymous.call("GET", f"/s/{link['token']}/uploads/{clean['upload_id']}").data["upload"]
    scanned()
    accepted = anonymous.call("GET", f"/s/{link['token']}/uploads/{clean['upload_id']}").data["upload"]
    refused = anonymous.call("GET", f"/s/{link['token']}/uploads/{infected['upload_id']}").data["upload"]
    unknown = anonymous.call("GET", f"/s/{link['token']}/uploads/{'A' * 22}")

    assert (clean["state"], waiting["state"]) == ("pending", "pending")
    assert (accepted["state"], refused["state"]) == ("clean", "infected")
    assert unknown.status_code == 404
