"""Recipients send a new version back through a link: straight to S3, checked, every version kept."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import time_machine
from conftest import MiB, scanned, shared_file, upload

from chalicelib import tokens
from chalicelib.config import settings_from
from chalicelib.models import EventRecord
from chalicelib.more_models import UploadRecord, VersionRecord
from devstack.localstack import lifecycle_rules


def _start(api, link, data: bytes, name: str = "reply.txt", content_type: str = "text/plain"):
    body = {"name": name, "size": len(data), "content_type": content_type}
    return api.call("POST", f"/s/{link['token']}/uploads", body)


def _complete(api, link, upload_id: str):
    return api.call("POST", f"/s/{link['token']}/uploads/{upload_id}/complete")


def _send_back(api, link, data: bytes, name: str = "reply.txt") -> dict[str, Any]:
    started = _start(api, link, data, name)
    assert started.status_code == 201, started.body
    upload(started.data["upload"], data)
    done = _complete(api, link, started.data["upload"]["upload_id"])
    assert done.status_code == 200, done.body
    scanned()
    return done.data["upload"]


def _download(api, link) -> bytes:
    redirect = api.call("GET", f"/s/{link['token']}/download")
    assert redirect.status_code == 302, redirect.body
    return requests.get(redirect.headers["Location"]).content


def _put_parts_in_parallel(parts: list[dict[str, Any]], part_size: int, data: bytes) -> None:
    def put(part: dict[str, Any]) -> int:
        start = (part["part_number"] - 1) * part_size
        return requests.put(part["url"], data=data[start : start + part_size]).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert set(pool.map(put, parts)) == {200}


def _events(file_id: str, kind: str) -> list[EventRecord]:
    return [e for e in EventRecord.query(file_id) if e.kind == kind]


def _versions(member, file_id: str) -> list[dict[str, Any]]:
    answer = member.call("GET", f"/api/files/{file_id}/versions")
    assert answer.status_code == 200, answer.body
    return answer.data["versions"]


# --- small files: one presigned POST to a staging key ----------------------------------


def test_small_upload_by_presigned_post_becomes_the_version_the_link_serves(member, anonymous):
    file, link = shared_file(member, b"the original\n", allow_upload=True)
    reply = b"signed and sent back\n"

    started = _start(anonymous, link, reply, name="signed.txt")

    assert started.status_code == 201
    plan = started.data["upload"]
    assert plan["method"] == "POST"
    assert plan["fields"]["key"] == f"uploads/{file['file_id']}/{plan['upload_id']}"
    assert plan["fields"]["x-amz-meta-upload-id"] == plan["upload_id"]
    upload(plan, reply)
    done = _complete(anonymous, link, plan["upload_id"])

    assert done.status_code == 200
    scanned()
    assert done.data["upload"]["status"] == "completed"
    assert _download(anonymous, link) == reply
    described = member.call("GET", f"/api/files/{file['file_id']}").data["file"]
    assert (described["name"], described["size"]) == (file["name"], len(reply))


def test_staged_bytes_are_removed_once_they_became_a_version(member, anonymous, stack):
    file, link = shared_file(member, allow_upload=True)
    done = _send_back(anonymous, link, b"tidy")

    staged = stack.client("s3").list_object_versions(
        Bucket="handover-files", Prefix=f"uploads/{file['file_id']}/{done['upload_id']}"
    )

    assert staged.get("Versions", []) == [] and staged.get("DeleteMarkers", []) == []


def test_s3_itself_refuses_a_body_larger_than_the_policy_allows(member, anonymous):
    _, link = shared_file(member, allow_upload=True)
    plan = _start(anonymous, link, b"12345").data["upload"]

    too_big = requests.post(plan["url"], data=plan["fields"], files={"file": ("f", b"123456")})

    assert too_big.status_code == 400
    assert b"EntityTooLarge" in too_big.content
    refused = _complete(anonymous, link, plan["upload_id"])
    assert refused.status_code == 409
    assert refused.data["error"]["code"] == "upload_missing"


@pytest.mark.parametrize("field", ["key", "x-amz-meta-upload-id", "Content-Type"])
def test_s3_itself_refuses_a_form_field_changed(member, anonymous, field):
    file, link = shared_file(member, b"keep me", allow_upload=True)
    plan = _start(anonymous, link, b"12345").data["upload"]
    # The file's own key is the tempting target: it must not be writable by a recipient.
    changed = {"key": f"files/{file['file_id']}", "x-amz-meta-upload-id": "x" * 22, "Content-Type": "text/html"}

    answer = requests.post(plan["url"], data={**plan["fields"], field: changed[field]}, files={"file": ("f", b"12345")})

    assert answer.status_code == 403
    assert b"AccessDenied" in answer.content
    assert _download(anonymous, link) == b"keep me"


def test_completing_without_the_object_is_refused_and_records_nothing(member, anonymous):
    file, link = shared_file(member, allow_upload=True)
    plan = _start(anonymous, link, b"never sent").data["upload"]

    answer = _complete(anonymous, link, plan["upload_id"])

    assert answer.status_code == 409
    assert answer.data["error"]["code"] == "upload_missing"
    assert len(_versions(member, file["file_id"])) == 1
    assert UploadRecord.get(plan["upload_id"]).status == "started"  # it may still be sent and completed


def test_completing_with_a_different_size_is_refused(member, anonymous, stack):
    file, link = shared_file(member, b"original", allow_upload=True)
    plan = _start(anonymous, link, b"five!").data["upload"]
    # Only someone holding the bucket's own keys could do this: the policy fixes the size.
    stack.client("s3").put_object(Bucket="handover-files", Key=plan["fields"]["key"], Body=b"six!!!")

    answer = _complete(anonymous, link, plan["upload_id"])

    assert answer.status_code == 409
    assert answer.data["error"]["code"] == "size_mismatch"
    assert len(_versions(member, file["file_id"])) == 1
    assert _download(anonymous, link) == b"original"


# --- large files: multipart, parts in parallel, resumable -------------------------------


def test_a_64_mib_upload_goes_in_parallel_parts_and_comes_back_whole(member, anonymous):
    file, link = shared_file(member, allow_upload=True)
    data = os.urandom(64 * MiB)

    plan = _start(anonymous, link, data, name="big.bin", content_type="application/octet-stream").data["upload"]
    assert plan["method"] == "MULTIPART"
    assert len(plan["parts"]) == 13  # 5 MiB parts in the tests
    _put_parts_in_parallel(plan["parts"], plan["part_size"], data)
    done = _complete(anonymous, link, plan["upload_id"])

    scanned()
    assert done.status_code == 200, done.body
    assert hashlib.sha256(_download(anonymous, link)).digest() == hashlib.sha256(data).digest()
    assert _versions(member, file["file_id"])[0]["size"] == 64 * MiB


def test_an_interrupted_upload_resumes_from_the_parts_already_in_s3(member, anonymous):
    _, link = shared_file(member, allow_upload=True)
    data = os.urandom(18 * MiB + 7)
    plan = _start(anonymous, link, data, name="big.bin").data["upload"]
    assert [p["part_number"] for p in plan["parts"]] == [1, 2, 3, 4]
    _put_parts_in_parallel(plan["parts"][:2], plan["part_size"], data)  # the first half; then the tab closed

    early = _complete(anonymous, link, plan["upload_id"])
    resumed = anonymous.call("POST", f"/s/{link['token']}/uploads/{plan['upload_id']}/plan")

    assert early.status_code == 409
    assert early.data["error"]["code"] == "upload_incomplete"
    assert resumed.status_code == 200
    fresh = resumed.data["upload"]
    assert fresh["parts_done"] == [1, 2]
    assert [p["part_number"] for p in fresh["parts"]] == [3, 4]
    _put_parts_in_parallel(fresh["parts"], fresh["part_size"], data)
    assert _complete(anonymous, link, plan["upload_id"]).status_code == 200
    scanned()
    assert _download(anonymous, link) == data


def test_a_part_url_refuses_a_body_of_another_length(member, anonymous):
    _, link = shared_file(member, allow_upload=True)
    data = os.urandom(7 * MiB)
    plan = _start(anonymous, link, data, name="big.bin").data["upload"]

    last = plan["parts"][-1]
    answer = requests.put(last["url"], data=data[5 * MiB :] + b"more")

    assert answer.status_code == 403


# --- many recipients, every version kept -----------------------------------------------


def test_two_concurrent_uploads_give_two_versions_and_nothing_is_overwritten(member, served):
    file, link = shared_file(member, b"v1", allow_upload=True)
    uploads_url = f"{served}/s/{link['token']}/uploads"
    replies = {"from-anna.txt": b"anna's version", "from-ben.txt": b"ben's version!"}

    def send(name: str) -> dict[str, Any]:
        data = replies[name]
        started = requests.post(uploads_url, json={"name": name, "size": len(data), "content_type": "text/plain"})
        assert started.status_code == 201, started.text
        plan = started.json()["upload"]
        upload(plan, data)
        done = requests.post(f"{uploads_url}/{plan['upload_id']}/complete")
        assert done.status_code == 200, done.text
        return done.json()["upload"]

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(send, replies))
    scanned()

    listed = _versions(member, file["file_id"])
    assert len(listed) == 3
    assert {v["version_id"] for v in listed[:2]} == {r["version_id"] for r in results}
    newest = listed[0]
    assert newest["current"] is True
    # The link serves the newest version, whichever landed last.
    served_bytes = requests.get(f"{served}/s/{link['token']}/download").content
    assert served_bytes == replies[newest["sent_as"]]
    for version in listed:
        assert requests.get(_member_download(member, file, version)).status_code == 200


def _member_download(member, file, version) -> str:
    answer = member.call("GET", f"/api/files/{file['file_id']}/versions/{version['version_id']}/download")
    assert answer.status_code == 302, answer.body
    return answer.headers["Location"]


def test_after_an_upload_the_link_serves_new_bytes_and_the_owner_still_gets_the_old(member, anonymous):
    file, link = shared_file(member, b"first draft", name="draft.txt", allow_upload=True)

    _send_back(anonymous, link, b"second draft", name="draft v2.txt")

    assert _download(anonymous, link) == b"second draft"
    newest, oldest = _versions(member, file["file_id"])
    assert (newest["name"], newest["sent_as"]) == ("draft.txt", "draft v2.txt")
    assert (newest["uploaded_by"], newest["link_token"]) == ("anonymous", link["token"])
    assert newest["ip"] == "127.0.0.1"
    assert (oldest["name"], oldest["link_token"]) == ("draft.txt", None)
    assert oldest["uploaded_by"].startswith("member:")
    old = requests.get(_member_download(member, file, oldest))
    assert old.content == b"first draft"
    assert 'filename="draft.txt"' in old.headers["Content-Disposition"]


def test_every_link_of_the_file_serves_the_new_version(member, anonymous):
    file, link = shared_file(member, b"old", allow_upload=True)
    other = member.call("POST", f"/api/files/{file['file_id']}/links", {}).data["link"]

    _send_back(anonymous, link, b"new")

    assert _download(anonymous, other) == b"new"


def test_completing_twice_records_one_version(member, anonymous):
    file, link = shared_file(member, allow_upload=True)
    plan = _start(anonymous, link, b"once").data["upload"]
    upload(plan, b"once")

    first = _complete(anonymous, link, plan["upload_id"])
    second = _complete(anonymous, link, plan["upload_id"])

    assert first.status_code == second.status_code == 200
    assert first.data["upload"]["version_id"] == second.data["upload"]["version_id"]
    assert len(_versions(member, file["file_id"])) == 2


# --- refusals: a clear 4xx, nothing stored, an event of the file -------------------------


def _stored_uploads() -> int:
    return UploadRecord.count()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "big.bin", "size": 6 * 1024**3}, 400, "file_too_large"),
        ({"name": "empty.txt", "size": 0}, 400, "invalid_size"),
        ({"name": "", "size": 3}, 400, "invalid_name"),
        ({"name": "a.txt"}, 400, "missing_field"),
    ],
)
def test_bad_upload_announcements_are_refused_and_store_nothing(member, anonymous, body, status, code):
    file, link = shared_file(member, allow_upload=True)
    before = _stored_uploads()

    answer = anonymous.call("POST", f"/s/{link['token']}/uploads", body)

    assert answer.status_code == status
    assert answer.data["error"]["code"] == code
    assert _stored_uploads() == before
    assert [e.detail["code"] for e in _events(file["file_id"], "upload_refused")] == [code]


def test_a_link_without_allow_upload_refuses_uploads(member, anonymous):
    file, link = shared_file(member)
    before = _stored_uploads()

    answer = _start(anonymous, link, b"nope")

    assert answer.status_code == 403
    assert answer.data["error"]["code"] == "upload_not_allowed"
    assert answer.headers["Content-Type"] == "application/json"
    assert _stored_uploads() == before
    assert len(_events(file["file_id"], "upload_refused")) == 1


def test_a_login_required_link_requires_login_for_uploading_too(member, anonymous):
    _, link = shared_file(member, allow_upload=True, require_login=True)

    answer = _start(anonymous, link, b"who am I")

    assert answer.status_code == 401
    assert answer.data["error"]["code"] == "login_required"


def test_revoked_or_expired_links_refuse_uploads_even_half_way(member, anonymous):
    file, link = shared_file(member, allow_upload=True, valid_until=(datetime.now(UTC) + timedelta(days=1)).isoformat())
    plan = _start(anonymous, link, b"late").data["upload"]
    upload(plan, b"late")

    with time_machine.travel(datetime.now(UTC) + timedelta(days=2)):
        expired = _complete(anonymous, link, plan["upload_id"])
    member.call("DELETE", f"/api/links/{link['token']}")
    revoked = _complete(anonymous, link, plan["upload_id"])
    fresh = _start(anonymous, link, b"again")

    assert (expired.status_code, expired.data["error"]["code"]) == (410, "link_expired")
    assert (revoked.status_code, revoked.data["error"]["code"]) == (410, "link_revoked")
    assert (fresh.status_code, fresh.data["error"]["code"]) == (410, "link_revoked")
    assert len(_versions(member, file["file_id"])) == 1
    codes = [e.detail["code"] for e in _events(file["file_id"], "upload_refused")]
    assert sorted(codes) == ["link_expired", "link_revoked", "link_revoked"]


def test_turning_allow_upload_off_stops_uploads_under_way(member, anonymous):
    _, link = shared_file(member, allow_upload=True)
    plan = _start(anonymous, link, b"halfway").data["upload"]
    upload(plan, b"halfway")

    member.call("PATCH", f"/api/links/{link['token']}", {"allow_upload": False})
    answer = _complete(anonymous, link, plan["upload_id"])

    assert answer.status_code == 403
    assert answer.data["error"]["code"] == "upload_not_allowed"


def test_an_upload_is_only_reachable_through_its_own_link(member, anonymous):
    _, link = shared_file(member, allow_upload=True)
    _, other_link = shared_file(member, allow_upload=True)
    plan = _start(anonymous, link, b"mine").data["upload"]

    for upload_id, through in ((plan["upload_id"], other_link), ("A" * 22, link), ("not-an-upload", link)):
        answer = _complete(anonymous, through, upload_id)
        assert answer.status_code == 404
        assert answer.data["error"]["code"] == "upload_not_found"


def test_unknown_links_answer_json_404_on_the_upload_api(anonymous):
    # A throttle window of its own: other tests' misses from this address do not count here.
    with time_machine.travel(datetime.now(UTC) + timedelta(days=100)):
        answer = anonymous.call("POST", "/s/nonsense/uploads", {"name": "a.txt", "size": 1})

    assert answer.status_code == 404
    assert answer.data["error"]["code"] == "link_not_found"


def test_an_upload_abandoned_past_the_lifecycle_age_cannot_be_resumed(member, anonymous):
    _, link = shared_file(member, allow_upload=True)
    plan = _start(anonymous, link, os.urandom(7 * MiB), name="big.bin").data["upload"]

    with time_machine.travel(datetime.now(UTC) + timedelta(days=8)):
        answer = anonymous.call("POST", f"/s/{link['token']}/uploads/{plan['upload_id']}/plan")

    assert answer.status_code == 409
    assert answer.data["error"]["code"] == "upload_expired"


def test_the_bucket_aborts_abandoned_uploads_and_keeps_versions_by_default(stack):
    rules = stack.client("s3").get_bucket_lifecycle_configuration(Bucket="handover-files")["Rules"]

    by_id = {rule["ID"]: rule for rule in rules}
    assert by_id["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert by_id["remove-staged-uploads"]["Filter"] == {"Prefix": "uploads/"}
    assert "expire-noncurrent-versions" not in by_id  # off unless NONCURRENT_VERSION_DAYS is set


def test_noncurrent_versions_expire_only_when_configured():
    rules = lifecycle_rules(settings_from({"NONCURRENT_VERSION_DAYS": "30", "INCOMPLETE_UPLOAD_DAYS": "3"}))

    by_id = {rule["ID"]: rule for rule in rules}
    assert by_id["expire-noncurrent-versions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert by_id["expire-noncurrent-versions"]["Filter"] == {"Prefix": "files/"}
    assert by_id["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 3}


# --- audit -------------------------------------------------------------------------------


def test_every_upload_started_and_completed_is_an_event_of_the_file(member, anonymous):
    file, link = shared_file(member, allow_upload=True)

    done = _send_back(anonymous, link, b"audited")

    started = _events(file["file_id"], "upload_started")
    completed = _events(file["file_id"], "upload_completed")
    assert [e.detail["upload_id"] for e in started] == [done["upload_id"]]
    assert [e.detail["version_id"] for e in completed] == [done["version_id"]]
    link_id = tokens.link_id_from(link["token"])
    assert {e.link_id for e in started + completed} == {link_id}
    assert all(e.actor == "anonymous" and e.ip == "127.0.0.1" for e in started + completed)
    assert VersionRecord.count(file["file_id"]) == 2


# --- the file keeps its identity --------------------------------------------------------


def test_a_recipient_cannot_rename_the_file_or_change_its_type(member, anonymous):
    file, link = shared_file(member, b"%PDF the contract", name="contract.pdf", allow_upload=True)

    started = _start(
        anonymous, link, b"MZ not a contract", name="contract.exe", content_type="application/x-msdownload"
    )
    upload(started.data["upload"], b"MZ not a contract")
    assert _complete(anonymous, link, started.data["upload"]["upload_id"]).status_code == 200
    scanned()

    described = member.call("GET", f"/api/files/{file['file_id']}").data["file"]
    assert (described["name"], described["content_type"]) == ("contract.pdf", "text/plain")
    redirect = anonymous.call("GET", f"/s/{link['token']}/download")
    served = requests.get(redirect.headers["Location"])
    assert served.content == b"MZ not a contract"
    assert 'filename="contract.pdf"' in served.headers["Content-Disposition"]
    assert served.headers["Content-Type"] == "text/plain"
    page = anonymous.call("GET", f"/s/{link['token']}").body.decode()
    assert "contract.pdf" in page and "contract.exe" not in page
    newest = _versions(member, file["file_id"])[0]
    assert (newest["name"], newest["content_type"], newest["sent_as"]) == ("contract.pdf", "text/plain", "contract.exe")


def test_the_owners_new_name_survives_a_recipient_upload(member, anonymous):
    file, link = shared_file(member, b"v1", name="draft.txt", allow_upload=True)
    renamed = member.call("PATCH", f"/api/files/{file['file_id']}", {"name": "Final report.txt"})
    assert renamed.status_code == 200

    _send_back(anonymous, link, b"v2 from outside", name="my-copy.txt")

    assert member.call("GET", f"/api/files/{file['file_id']}").data["file"]["name"] == "Final report.txt"
    redirect = anonymous.call("GET", f"/s/{link['token']}/download")
    served = requests.get(redirect.headers["Location"])
    assert served.content == b"v2 from outside"
    assert 'filename="Final report.txt"' in served.headers["Content-Disposition"]
