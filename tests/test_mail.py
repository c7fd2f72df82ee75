"""Email through SES: what is sent, to whom, when, and what stops it; read from moto's recorded messages.

Requests only queue mail. The tests play Lambda's part as the dev stack does: the mail
worker hands each message on moto's SQS to the app's own `send_mail` handler, and the
daily job is the app's own `daily_mail`. What SES sent is read back from moto's
`/moto-api/data.json` (`ses.Message`), as the local outbox does.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import msgspec
import pytest
import time_machine
from conftest import Api, shared_file, signed_in, upload

from chalicelib import mail
from chalicelib.models import EventRecord


@pytest.fixture
def sent(app, stack):
    """Deliver whatever is queued (as Lambda would), then answer the mails sent to `address` since this test began."""
    from app import send_mail
    from devstack import mail_worker, outbox

    mail_worker.drain(send_mail)
    seen = {m["id"] for m in outbox.recorded(stack.mail_endpoint)}

    def to(address: str) -> list[dict[str, Any]]:
        mail_worker.drain(send_mail)
        found = [outbox.as_read(m) for m in outbox.recorded(stack.mail_endpoint) if m["id"] not in seen]
        return [m for m in found if address in m["to"]]

    return to


def _someone() -> str:
    return f"partner-{secrets.token_hex(4)}@example.org"


def _events(file_id: str, kind: str) -> list[EventRecord]:
    return [e for e in EventRecord.query(file_id) if e.kind == kind]


def _daily(app) -> None:
    from app import daily_mail
    from devstack import mail_worker

    daily_mail(mail_worker.scheduled_event(), None)


# --- named people on a link ---------------------------------------------------------------


def test_each_person_named_on_a_link_gets_one_mail_with_the_link(member, sent):
    first, second = _someone(), _someone()

    file, link = shared_file(member, name="Contract.pdf", recipients=[first, second])

    for address in (first, second):
        (letter,) = sent(address)
        assert "Contract.pdf" in letter["subject"]
        assert "alice@example.com" in letter["subject"]
        assert link["url"] in letter["links"]
        assert "Notify by email" in letter["text"]  # how to get no more of them
        assert letter["source"].endswith("<handover@handover.local>")
    assert {e.detail["to"] for e in _events(file["file_id"], "mail_sent")} == {first, second}


def test_unticking_notify_sends_named_people_nothing(member, sent):
    quiet = _someone()

    _, link = shared_file(member, recipients=[quiet], notify=False)

    assert link["notify"] is False
    assert sent(quiet) == []


def test_a_link_revoked_before_its_mail_went_out_sends_nothing(member, sent):
    late = _someone()
    _, link = shared_file(member, recipients=[late])

    assert member.call("DELETE", f"/api/links/{link['token']}").status_code == 200

    assert sent(late) == []


@pytest.mark.parametrize(
    "recipient",
    ["someone@example.org\r\nBcc: victim@example.org", "a@b.c\nX-Injected: 1", "not an address", "two@a.b,three@c.d"],
)
def test_addresses_that_could_add_a_header_are_refused_with_400(member, recipient):
    created = member.call("POST", "/api/files", {"name": "a.txt", "size": 1, "content_type": "text/plain"})
    upload(created.data["upload"], b"x")
    file_id = created.data["file"]["file_id"]
    member.call("POST", f"/api/files/{file_id}/complete")

    answer = member.call("POST", f"/api/files/{file_id}/links", {"recipients": [recipient]})

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "invalid_email"
    assert member.call("GET", f"/api/files/{file_id}/links").data["links"] == []


def test_a_recipient_list_over_the_limit_is_refused_with_400(member):
    created = member.call("POST", "/api/files", {"name": "a.txt", "size": 1, "content_type": "text/plain"})
    upload(created.data["upload"], b"x")
    file_id = created.data["file"]["file_id"]
    member.call("POST", f"/api/files/{file_id}/complete")

    answer = member.call("POST", f"/api/files/{file_id}/links", {"recipients": [_someone() for _ in range(51)]})

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "too_many_recipients"


# --- invitations ---------------------------------------------------------------------------


def test_an_invitation_is_mailed_to_the_invitee(member, sent):
    folder = member.call("POST", "/api/folders", {"name": "Tender"}).data["file"]
    invitee = _someone()

    invited = member.call("POST", f"/api/files/{folder['file_id']}/collaborators", {"email": invitee, "role": "upload"})

    assert invited.status_code == 201
    (letter,) = sent(invitee)
    assert "Tender" in letter["subject"]
    assert invited.data["invitation"]["url"] in letter["links"]
    assert "view and add files" in letter["text"]


def test_pending_invitations_are_listed_and_can_be_resent_or_cancelled(member, anonymous, sent):
    folder = member.call("POST", "/api/folders", {"name": "Bids"}).data["file"]
    invitee = _someone()
    member.call("POST", f"/api/files/{folder['file_id']}/collaborators", {"email": invitee})
    join = member.call("POST", f"/api/files/{folder['file_id']}/join-link", {}).data["join_link"]
    assert len(sent(invitee)) == 1

    listed = member.call("GET", f"/api/files/{folder['file_id']}/collaborators").data["invitations"]

    assert {i["kind"] for i in listed} == {"invitation", "join_link"}
    pending = next(i for i in listed if i["kind"] == "invitation")
    assert pending["email"] == invitee
    assert join["url"] in [i["url"] for i in listed]
    resent = member.call("POST", f"/api/files/{folder['file_id']}/invitations/{pending['invitation_id']}/resend")
    assert resent.status_code == 200
    assert len(sent(invitee)) == 2
    cancelled = member.call("DELETE", f"/api/files/{folder['file_id']}/invitations/{pending['invitation_id']}")
    assert cancelled.status_code == 204
    remaining = member.call("GET", f"/api/files/{folder['file_id']}/collaborators").data["invitations"]
    assert [i["kind"] for i in remaining] == ["join_link"]
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=7)):  # a guessing window of its own
        gone = anonymous.call("GET", urlsplit(pending["url"]).path, headers={"Accept": "text/html"})
    assert gone.status_code == 404


# --- uploads through a link ----------------------------------------------------------------


def _send_back(link: dict[str, Any], api: Api, data: bytes = b"signed\n") -> None:
    body = {"name": "signed.txt", "size": len(data), "content_type": "text/plain"}
    started = api.call("POST", f"/s/{link['token']}/uploads", body)
    assert started.status_code == 201, started.body
    upload(started.data["upload"], data)
    done = api.call("POST", f"/s/{link['token']}/uploads/{started.data['upload']['upload_id']}/complete")
    assert done.status_code == 200, done.body


@pytest.fixture
def owner(client, stack) -> tuple[Api, str]:
    """A member of their own, so their mailbox holds only what a test sends them."""
    address = f"owner-{secrets.token_hex(4)}@example.com"
    return Api(client, signed_in(stack, address)), address


def test_an_upload_through_a_link_mails_the_owner_who_sent_it_and_its_scan_state(owner, anonymous, sent):
    api, address = owner
    file, link = shared_file(api, name="Plan.txt", allow_upload=True)

    _send_back(link, anonymous)

    (letter,) = sent(address)
    assert api.call("GET", f"/api/files/{file['file_id']}").data["file"]["name"] in letter["subject"]
    assert "anonymous" not in letter["subject"] and "someone" in letter["subject"]
    assert any(state in letter["text"] for state in ("received", "pending", "clean"))
    assert any(f"/console/items/{file['file_id']}" in href for href in letter["links"])
    assert "turn it off" in letter["text"]


def test_notify_uploads_off_sends_the_owner_nothing(owner, anonymous, sent):
    api, address = owner
    _, link = shared_file(api, allow_upload=True, notify_uploads=False)

    _send_back(link, anonymous)

    assert sent(address) == []


def test_a_member_who_turned_upload_mails_off_gets_none(owner, anonymous, sent):
    api, address = owner
    _, link = shared_file(api, allow_upload=True)

    changed = api.call("PATCH", "/api/me/preferences", {"upload_received": False})
    _send_back(link, anonymous)

    assert changed.status_code == 200
    assert changed.data["preferences"]["upload_received"] is False
    assert sent(address) == []
    assert api.call("GET", "/api/me/preferences").data["preferences"] == {
        "email_on": True,
        "upload_received": False,
        "expiry_reminder": True,
        "access_request": True,
        "download_digest": True,
    }


@pytest.mark.parametrize(
    ("body", "code"),
    [({}, "missing_field"), ({"upload_received": "no"}, "invalid_field"), ({"newsletter": False}, "unknown_field")],
)
def test_bad_preferences_answer_400_and_change_nothing(owner, body, code):
    api, _ = owner

    answer = api.call("PATCH", "/api/me/preferences", body)

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == code
    assert all(api.call("GET", "/api/me/preferences").data["preferences"].values())


# --- the daily job: reminders and digests -----------------------------------------------------


def _download(api: Api, link: dict[str, Any]) -> None:
    answer = api.call("GET", f"/s/{link['token']}/download")
    if answer.status_code == 405:  # downloads counted on POST only
        answer = api.call("POST", f"/s/{link['token']}/download")
    assert answer.status_code in (302, 303), answer.body


def test_a_used_link_ending_within_three_days_gets_one_reminder(app, owner, anonymous, sent):
    api, address = owner
    ends = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    _, used = shared_file(api, name="Used.txt", valid_until=ends.isoformat())
    _, unused = shared_file(api, name="Unused.txt", valid_until=ends.isoformat())
    _download(anonymous, used)

    _daily(app)
    _daily(app)

    (letter,) = sent(address)
    assert "Used.txt" in letter["subject"]
    assert "turn it off" in letter["text"]


def test_a_link_ending_later_gets_its_reminder_only_when_three_days_remain(app, owner, anonymous, sent):
    api, address = owner
    ends = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)
    _, link = shared_file(api, name="Later.txt", valid_until=ends.isoformat())
    _download(anonymous, link)

    _daily(app)
    assert sent(address) == []
    with time_machine.travel(ends - timedelta(days=2)):
        _daily(app)

    assert len(sent(address)) == 1


def test_a_daily_digest_counts_yesterdays_downloads_in_one_mail(app, owner, anonymous, sent):
    api, address = owner
    _, link = shared_file(api, name="Brochure.txt", download_digest=True)
    _, quiet = shared_file(api, name="Quiet.txt")
    for _ in range(3):
        _download(anonymous, link)
    _download(anonymous, quiet)

    _daily(app)
    assert sent(address) == []  # today is not over
    with time_machine.travel(datetime.now(UTC) + timedelta(days=1)):
        _daily(app)
        _daily(app)

    (letter,) = sent(address)
    assert "Brochure.txt" in letter["subject"]
    assert "3 times" in letter["subject"]


# --- requests for access ------------------------------------------------------------------------


def test_someone_a_link_is_not_for_asks_for_access_and_the_owner_approves(owner, client, stack, sent):
    api, address = owner
    outsider = f"outsider-{secrets.token_hex(4)}@example.org"
    stranger = Api(client, signed_in(stack, outsider, groups=()))
    file, link = shared_file(api, name="Secret.txt", recipients=[_someone()])

    refused = stranger.call("GET", f"/s/{link['token']}", headers={"Accept": "text/html"})
    assert refused.status_code == 403
    assert "Request access" in refused.body.decode()
    for _ in range(3):
        asked = stranger.call("POST", f"/s/{link['token']}/request-access")
        assert asked.status_code == 200
        assert "request was sent" in asked.body.decode()

    (letter,) = sent(address)  # one mail however often they ask
    assert outsider in letter["subject"]
    (answer,) = [href for href in letter["links"] if "/console/access/" in href]
    address_of = urlsplit(answer)
    page = api.call("GET", f"{address_of.path}?{address_of.query}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and outsider in page.body.decode()
    approved = api.call("POST", f"/api/links/{link['token']}/access-requests", {"email": outsider, "approve": True})
    assert approved.status_code == 200
    assert outsider in approved.data["link"]["recipients"]
    assert stranger.call("GET", f"/s/{link['token']}", headers={"Accept": "text/html"}).status_code == 200
    again = api.call("POST", f"/api/links/{link['token']}/access-requests", {"email": outsider, "approve": True})
    assert again.status_code == 404
    assert _events(file["file_id"], "access_approved")


def test_an_ignored_request_changes_nothing_on_the_link(owner, client, stack, sent):
    api, _ = owner
    outsider = f"outsider-{secrets.token_hex(4)}@example.org"
    stranger = Api(client, signed_in(stack, outsider, groups=()))
    _, link = shared_file(api, recipients=[_someone()])
    stranger.call("POST", f"/s/{link['token']}/request-access")

    ignored = api.call("POST", f"/api/links/{link['token']}/access-requests", {"email": outsider, "approve": False})

    assert ignored.status_code == 200
    assert outsider not in ignored.data["link"]["recipients"]
    assert stranger.call("GET", f"/s/{link['token']}", headers={"Accept": "text/html"}).status_code == 403


# --- failures ----------------------------------------------------------------------------------


def test_a_mail_ses_refuses_is_recorded_in_the_history_and_not_retried(member, stack, sent):
    ses = stack.client("ses")
    nobody = _someone()
    file, _ = shared_file(member, recipients=[nobody])
    ses.delete_identity(Identity="handover.local")
    try:
        assert sent(nobody) == []
    finally:
        ses.verify_domain_identity(Domain="handover.local")

    (failed,) = _events(file["file_id"], "mail_failed")
    assert failed.detail["to"] == nobody
    assert failed.detail["reason"] == "MessageRejected"


def test_a_failing_send_is_retried_by_the_queue_then_recorded_and_dead_lettered(member, stack, sent):
    from chalicelib import aws

    nobody = _someone()
    file, _ = shared_file(member, recipients=[nobody])
    attempts: list[int] = []

    def unavailable(request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        attempts.append(1)
        return AWSResponse(request.url, 503, {}, _Raw(b'{"message": "unavailable"}'))

    events = aws.sesv2().meta.events
    events.register("before-send.sesv2.SendEmail", unavailable)
    try:
        assert sent(nobody) == []
    finally:
        events.unregister("before-send.sesv2.SendEmail", unavailable)

    assert len(attempts) >= mail.MAX_ATTEMPTS  # each receive by the queue, and botocore's own retry
    (failed,) = _events(file["file_id"], "mail_failed")
    assert failed.detail["to"] == nobody
    sqs = stack.client("sqs")
    dead = sqs.get_queue_url(QueueName=mail.DEAD_LETTERS)["QueueUrl"]
    parked = sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10).get("Messages", [])
    assert any(nobody in m["Body"] for m in parked)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any):
        yield self._body

    def read(self, *_: Any) -> bytes:
        body, self._body = self._body, b""
        return body


# --- headers, the outbox, and email off ------------------------------------------------------


@pytest.mark.unit
def test_text_becomes_a_header_only_without_line_breaks():
    assert mail.one_line("Plan\r\nBcc: x@y.z") == "Plan Bcc: x@y.z"
    assert mail.one_line("a\u2028b\x00c") == "a b c"
    assert not mail.valid_address("a@b.c\r\nBcc: x@y.z")
    assert not mail.valid_address("a@b.c, d@e.f")
    assert mail.valid_address("partner@example.org")


@pytest.mark.unit
def test_without_an_identity_email_is_off():
    from chalicelib.config import settings_from

    assert not settings_from({}).mail_on
    on = settings_from({"MAIL_IDENTITY": "example.com"})
    assert on.mail_on and on.sender == "handover@example.com"
    assert settings_from({"MAIL_IDENTITY": "files@example.com"}).sender == "files@example.com"
    assert settings_from({"MAIL_IDENTITY": "example.com", "MAIL_FROM": "team@example.com"}).sender == "team@example.com"


def test_the_local_outbox_lists_sent_mail_with_its_links(member, client, sent):
    named = _someone()
    _, link = shared_file(member, name="Outbox.txt", recipients=[named])
    assert len(sent(named)) == 1

    page = client.http.get("/local-outbox/", headers={"Accept": "text/html"})

    html = page.body.decode()
    assert page.status_code == 200
    assert named in html and "Outbox.txt" in html
    assert f'<a href="{link["url"]}">' in html


def test_the_console_email_page_shows_preferences_and_the_local_outbox(owner):
    api, _ = owner

    page = api.call("GET", "/console/email", headers={"Accept": "text/html"})

    html = page.body.decode()
    assert page.status_code == 200
    assert 'name="upload_received" checked' in html
    assert "/local-outbox/" in html
    assert "Email is off" not in html


def test_without_an_identity_nothing_is_queued_and_the_console_says_email_is_off(owner, sent, monkeypatch):
    from chalicelib import config, mail_pages

    off = msgspec.structs.replace(config.get_settings(), mail_identity="")
    monkeypatch.setattr(mail, "get_settings", lambda: off)
    monkeypatch.setattr(mail_pages, "get_settings", lambda: off)
    api, _ = owner
    named = _someone()

    file, link = shared_file(api, recipients=[named])
    page = api.call("GET", "/console/email", headers={"Accept": "text/html"})

    assert link["recipients"] == [named]  # the link works as ever; it is handed over by hand
    assert sent(named) == []
    assert _events(file["file_id"], "mail_failed") == []
    assert "Email is off" in page.body.decode()
