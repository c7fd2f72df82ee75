"""What S3 itself refuses (SeaweedFS enforces it as S3 does): old or altered presigned URLs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests
import time_machine
from conftest import shared_file


def test_presigned_download_is_refused_once_expired(member, anonymous):
    _, link = shared_file(member)
    # Signed ten minutes ago with a five-minute life: S3 sees an expired URL now.
    with time_machine.travel(datetime.now(UTC) - timedelta(minutes=10)):
        location = anonymous.call("GET", f"/s/{link['token']}/download").headers["Location"]

    answer = requests.get(location)

    assert answer.status_code == 403
    assert b"expired" in answer.content


def test_tampered_presigned_download_is_refused(member, anonymous):
    first, first_link = shared_file(member, b"first file")
    second, _ = shared_file(member, b"second file")
    location = anonymous.call("GET", f"/s/{first_link['token']}/download").headers["Location"]

    other_key = location.replace(first["file_id"], second["file_id"])
    longer = location.replace("X-Amz-Expires=300", "X-Amz-Expires=604800")
    renamed = location.replace("filename", "filenamx", 1)

    for url in (other_key, longer, renamed):
        assert requests.get(url).status_code == 403
    assert requests.get(location).content == b"first file"


def test_presigned_upload_is_refused_for_another_size_or_key(member):
    created = member.call("POST", "/api/files", {"name": "exact.txt", "size": 5})
    plan = created.data["upload"]

    too_big = requests.post(plan["url"], data=plan["fields"], files={"file": ("f", b"123456")})
    elsewhere = requests.post(
        plan["url"], data={**plan["fields"], "key": "files/someone-else"}, files={"file": ("f", b"12345")}
    )

    assert too_big.status_code == 400
    assert b"EntityTooLarge" in too_big.content
    assert elsewhere.status_code == 403
    file_id = created.data["file"]["file_id"]
    assert member.call("POST", f"/api/files/{file_id}/complete").status_code == 409


def test_bucket_refuses_unsigned_reads(member, stack):
    file, _ = shared_file(member)

    answer = requests.get(f"{stack.s3_endpoint}/handover-files/files/{file['file_id']}")

    assert answer.status_code == 403
