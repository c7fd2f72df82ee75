"""A file's versions: each checked upload is one, the owner lists them and downloads any of them."""

from __future__ import annotations

import requests
from conftest import scanned, shared_file


def test_a_members_upload_is_the_files_first_version(member):
    file, _ = shared_file(member, b"first", name="first.txt")

    answer = member.call("GET", f"/api/files/{file['file_id']}/versions")

    assert answer.status_code == 200
    (version,) = answer.data["versions"]
    assert version["name"] == "first.txt"
    assert version["size"] == 5
    assert version["uploaded_by"].startswith("member:")
    assert version["link_token"] is None
    assert version["current"] is True
    assert version["uploaded_at"].endswith("Z")
    assert answer.data["next_cursor"] is None


def test_the_owner_downloads_a_version_under_its_own_name(member):
    file, _ = shared_file(member, b"bytes of v1", name="Ünïcødé v1.txt")
    version = member.call("GET", f"/api/files/{file['file_id']}/versions").data["versions"][0]

    redirect = member.call("GET", f"/api/files/{file['file_id']}/versions/{version['version_id']}/download")

    assert redirect.status_code == 302
    assert version["download_url"].endswith(f"/api/files/{file['file_id']}/versions/{version['version_id']}/download")
    fetched = requests.get(redirect.headers["Location"])
    assert fetched.content == b"bytes of v1"
    assert "filename*=UTF-8''%C3%9Cn%C3%AFc%C3%B8d%C3%A9%20v1.txt" in fetched.headers["Content-Disposition"]


def test_unknown_versions_and_other_members_files_answer_404(member, other_member):
    file, _ = shared_file(member)
    other_file, _ = shared_file(other_member)
    others_version = other_member.call("GET", f"/api/files/{other_file['file_id']}/versions").data["versions"][0]

    unknown = member.call("GET", f"/api/files/{file['file_id']}/versions/nope/download")
    borrowed = member.call("GET", f"/api/files/{file['file_id']}/versions/{others_version['version_id']}/download")
    not_mine = member.call("GET", f"/api/files/{other_file['file_id']}/versions")

    assert (unknown.status_code, unknown.data["error"]["code"]) == (404, "version_not_found")
    assert (borrowed.status_code, borrowed.data["error"]["code"]) == (404, "version_not_found")
    assert (not_mine.status_code, not_mine.data["error"]["code"]) == (404, "file_not_found")


def test_versions_are_listed_a_page_at_a_time(member, anonymous):
    file, link = shared_file(member, b"v1", allow_upload=True)
    for body in (b"v2", b"v3"):
        plan = anonymous.call(
            "POST", f"/s/{link['token']}/uploads", {"name": "v.txt", "size": len(body), "content_type": "text/plain"}
        ).data["upload"]
        requests.post(plan["url"], data=plan["fields"], files={"file": ("f", body)})
        assert anonymous.call("POST", f"/s/{link['token']}/uploads/{plan['upload_id']}/complete").status_code == 200
    scanned()

    first = member.call("GET", f"/api/files/{file['file_id']}/versions?limit=2")
    second = member.call("GET", f"/api/files/{file['file_id']}/versions?limit=2&cursor={first.data['next_cursor']}")
    bad = member.call("GET", f"/api/files/{file['file_id']}/versions?cursor=bm90LWpzb24")

    listed = first.data["versions"] + second.data["versions"]
    assert [(v["size"], v["current"]) for v in listed] == [(2, True), (2, False), (2, False)]
    assert len({v["version_id"] for v in listed}) == 3
    assert second.data["next_cursor"] is None
    assert bad.status_code == 400
