"""The walking skeleton: a member shares a file, a recipient without an account downloads it."""

from __future__ import annotations

import os

import requests
from conftest import MiB, scanned, shared_file, upload


def test_member_shares_a_file_and_recipient_downloads_the_same_bytes(member, anonymous):
    data = os.urandom(2000) + "ünïcødé\n".encode()
    file, link = shared_file(member, data, name="Quarterly report.pdf")

    page = anonymous.call("GET", f"/s/{link['token']}")
    assert page.status_code == 200
    html = page.body.decode()
    assert "Quarterly report.pdf" in html
    assert f"/s/{link['token']}/download" in html

    redirect = anonymous.call("GET", f"/s/{link['token']}/download")
    assert redirect.status_code == 302
    fetched = requests.get(redirect.headers["Location"])
    assert fetched.status_code == 200
    assert fetched.content == data
    assert fetched.headers["Content-Disposition"].startswith("attachment;")


def test_large_file_goes_up_in_presigned_parts_and_comes_back_whole(member, anonymous):
    data = os.urandom(11 * MiB + 123)
    created = member.call("POST", "/api/files", {"name": "big.bin", "size": len(data)})
    plan = created.data["upload"]
    assert plan["method"] == "MULTIPART"
    assert [p["part_number"] for p in plan["parts"]] == [1, 2, 3]
    file_id = created.data["file"]["file_id"]

    upload({**plan, "parts": plan["parts"][:2]}, data)
    early = member.call("POST", f"/api/files/{file_id}/complete")
    assert early.status_code == 409
    assert early.data["error"]["code"] == "upload_incomplete"

    renewed = member.call("POST", f"/api/files/{file_id}/upload").data["upload"]
    assert [p["part_number"] for p in renewed["parts"]] == [3]
    assert renewed["parts_done"] == [1, 2]
    upload(renewed, data)
    done = member.call("POST", f"/api/files/{file_id}/complete")
    assert done.status_code == 200
    assert done.data["file"]["status"] == "ready"
    scanned()

    link = member.call("POST", f"/api/files/{file_id}/links", {}).data["link"]
    location = anonymous.call("GET", f"/s/{link['token']}/download").headers["Location"]
    assert requests.get(location).content == data


def test_a_file_never_completed_cannot_be_shared(member):
    created = member.call("POST", "/api/files", {"name": "draft.txt", "size": 5})
    file_id = created.data["file"]["file_id"]

    answer = member.call("POST", f"/api/files/{file_id}/links", {})

    assert answer.status_code == 409
    assert answer.data["error"]["code"] == "file_not_ready"


def test_complete_is_refused_until_the_bytes_are_in_storage(member):
    created = member.call("POST", "/api/files", {"name": "late.txt", "size": 5})
    file_id = created.data["file"]["file_id"]

    answer = member.call("POST", f"/api/files/{file_id}/complete")

    assert answer.status_code == 409
    assert answer.data["error"]["code"] == "upload_missing"
    assert member.call("GET", f"/api/files/{file_id}").data["file"]["status"] == "uploading"


def test_member_lists_own_files_newest_first_in_pages(member):
    names = [f"page-{n}.txt" for n in range(3)]
    for name in names:
        shared_file(member, b"x", name=name)

    first = member.call("GET", "/api/files?limit=2")
    second = member.call("GET", f"/api/files?limit=2&cursor={first.data['next_cursor']}")

    listed = [f["name"] for f in first.data["files"] + second.data["files"]]
    assert listed[:3] == list(reversed(names))


def test_deleting_a_file_stops_its_links_at_once(member, anonymous):
    file, link = shared_file(member)

    assert member.call("DELETE", f"/api/files/{file['file_id']}").status_code == 204

    assert anonymous.call("GET", f"/s/{link['token']}").status_code == 410
    assert anonymous.call("GET", f"/s/{link['token']}/download").status_code == 410
    assert member.call("GET", f"/api/files/{file['file_id']}").status_code == 404


def test_a_complete_cut_short_by_dynamodb_records_nothing_and_completing_again_finishes(member, anonymous, monkeypatch):
    from pynamodb.connection import Connection
    from pynamodb.transactions import TransactWrite

    from chalicelib import files

    data = os.urandom(7 * MiB)
    created = member.call("POST", "/api/files", {"name": "joined.bin", "size": len(data)})
    file_id = created.data["file"]["file_id"]
    upload(created.data["upload"], data)
    # S3 joins the parts, then DynamoDB cannot be reached for the writes that record it.
    dead = Connection(region="us-east-1", host="http://127.0.0.1:9", connect_timeout_seconds=1, max_retry_attempts=0)
    monkeypatch.setattr(files, "transaction", lambda: TransactWrite(connection=dead))

    failed = member.call("POST", f"/api/files/{file_id}/complete")

    assert failed.status_code == 500
    assert member.call("GET", f"/api/files/{file_id}").data["file"]["status"] == "uploading"
    assert member.call("GET", f"/api/files/{file_id}/versions").data["versions"] == []
    monkeypatch.undo()
    done = member.call("POST", f"/api/files/{file_id}/complete")
    assert done.status_code == 200
    assert done.data["file"]["status"] == "ready"
    assert len(member.call("GET", f"/api/files/{file_id}/versions").data["versions"]) == 1
    scanned()
    link = member.call("POST", f"/api/files/{file_id}/links", {}).data["link"]
    location = anonymous.call("GET", f"/s/{link['token']}/download").headers["Location"]
    assert requests.get(location).content == data
