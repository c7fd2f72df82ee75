"""Collaborators: members invite people outside the team to folders, or let them ask to join."""

from __future__ import annotations

import pytest
import requests
from conftest import Api, signed_in
from test_folders_and_history import _file_in, _folder
from test_sign_in import sign_in_through_pages


@pytest.fixture
def admin(client, stack) -> Api:
    return Api(client, signed_in(stack, "root@example.com", groups=("members", "admins")))


def _on(served: str, url: str) -> str:
    """A URL the API handed out (through the test client, without a port) on the served app."""
    return served + "/" + url.split("/", 3)[3]


def _username(stack, email: str) -> str:
    return stack.client("cognito-idp").admin_get_user(UserPoolId=stack.user_pool_id, Username=email)["Username"]


def test_an_invited_partner_signs_in_and_works_on_the_folder(served, stack, member):
    signed_in(stack, "kai@partner.example", groups=())
    folder = _folder(member, "Joint project")
    doc = _file_in(member, folder["file_id"], "brief.txt", b"the brief")
    outside = _file_in(member, _folder(member, "Internal")["file_id"], "internal.txt", b"no")
    invited = member.call("POST", f"/api/files/{folder['file_id']}/collaborators", {"email": "Kai@Partner.example"})
    assert invited.status_code == 201
    browser = requests.Session()

    landed = sign_in_through_pages(browser, _on(served, invited.data["invitation"]["url"]), "kai@partner.example")

    assert landed.url == f"{served}/portal/folders/{folder['file_id']}"
    assert "brief.txt" in landed.text
    assert "Joint project" in browser.get(f"{served}/portal").text
    download = browser.get(f"{served}/portal/folders/{folder['file_id']}/files/{doc['file_id']}/download")
    assert download.content == b"the brief"
    refused = browser.get(f"{served}/portal/folders/{folder['file_id']}/files/{outside['file_id']}/download")
    assert refused.status_code == 404
    listed = member.call("GET", f"/api/files/{folder['file_id']}/collaborators").data["collaborators"]
    assert [(c["person"], c["role"]) for c in listed] == [("email:kai@partner.example", "view")]


def test_an_invitation_works_only_for_the_invited_email(served, stack, member):
    signed_in(stack, "lena@partner.example", groups=())
    folder = _folder(member, "For Mo")
    invited = member.call("POST", f"/api/files/{folder['file_id']}/collaborators", {"email": "mo@partner.example"})

    page = sign_in_through_pages(
        requests.Session(), _on(served, invited.data["invitation"]["url"]), "lena@partner.example"
    )

    assert page.status_code == 403
    assert "mo@partner.example" in page.text
    assert member.call("GET", f"/api/files/{folder['file_id']}/collaborators").data["collaborators"] == []


def test_people_ask_to_join_through_the_join_link_and_the_member_decides(served, stack, member):
    for email in ("nia@partner.example", "otto@partner.example"):
        signed_in(stack, email, groups=())
    folder = _folder(member, "Open call")
    link = member.call("POST", f"/api/files/{folder['file_id']}/join-link", {"role": "upload"}).data["join_link"]
    nia, otto = requests.Session(), requests.Session()

    asked = sign_in_through_pages(nia, _on(served, link["url"]), "nia@partner.example")
    sign_in_through_pages(otto, _on(served, link["url"]), "otto@partner.example")

    assert "request" in asked.text and "Open call" in asked.text
    assert nia.get(f"{served}/portal/folders/{folder['file_id']}").status_code == 404
    pending = member.call("GET", f"/api/files/{folder['file_id']}/collaborators").data["requests"]
    by_email = {r["email"]: r["request_id"] for r in pending}
    path = f"/api/files/{folder['file_id']}/requests"
    assert member.call("POST", f"{path}/{by_email['nia@partner.example']}", {"approve": True}).status_code == 200
    assert member.call("POST", f"{path}/{by_email['otto@partner.example']}", {"approve": False}).status_code == 200
    again = member.call("POST", f"{path}/{by_email['otto@partner.example']}", {"approve": True})
    assert again.status_code == 409
    assert nia.get(f"{served}/portal/folders/{folder['file_id']}").status_code == 200
    assert otto.get(f"{served}/portal/folders/{folder['file_id']}").status_code == 404
    collaborators = member.call("GET", f"/api/files/{folder['file_id']}/collaborators").data
    assert [(c["person"], c["role"]) for c in collaborators["collaborators"]] == [
        ("email:nia@partner.example", "upload")
    ]
    assert collaborators["requests"] == []


def test_admin_sees_collaborators_with_their_folders_and_removes_them(served, stack, member, admin):
    signed_in(stack, "pia@partner.example", groups=())
    first, second = _folder(member, "Alpha"), _folder(member, "Beta")
    browser = requests.Session()
    for folder in (first, second):
        url = member.call("POST", f"/api/files/{folder['file_id']}/collaborators", {"email": "pia@partner.example"})
        if folder is first:
            sign_in_through_pages(browser, _on(served, url.data["invitation"]["url"]), "pia@partner.example")
        else:
            browser.get(_on(served, url.data["invitation"]["url"]))
    username = _username(stack, "pia@partner.example")

    listed = {c["username"]: c["folders"] for c in admin.call("GET", "/api/admin/collaborators").data["collaborators"]}
    folders = admin.call("GET", f"/api/admin/collaborators/{username}/folders").data["folders"]

    assert listed[username] == 2
    assert sorted(f["name"] for f in folders) == ["Alpha", "Beta"]
    path = f"/api/admin/collaborators/{username}/folders/{first['file_id']}"
    assert admin.call("DELETE", path).status_code == 204
    assert "Alpha" not in browser.get(f"{served}/portal").text
    assert browser.get(f"{served}/portal/folders/{first['file_id']}").status_code == 404
    assert admin.call("DELETE", f"/api/admin/collaborators/{username}").status_code == 204
    remaining = {c["username"] for c in admin.call("GET", "/api/admin/collaborators").data["collaborators"]}
    assert username not in remaining  # in no folder: not listed


def test_members_remove_collaborators_of_their_own_folders(served, stack, member, other_member):
    signed_in(stack, "quentin@partner.example", groups=())
    folder = _folder(member, "Mine to share")
    url = member.call("POST", f"/api/files/{folder['file_id']}/collaborators", {"email": "quentin@partner.example"})
    browser = requests.Session()
    sign_in_through_pages(browser, _on(served, url.data["invitation"]["url"]), "quentin@partner.example")
    path = f"/api/files/{folder['file_id']}/collaborators/quentin%40partner.example"

    assert other_member.call("DELETE", path).status_code == 404
    assert member.call("DELETE", path).status_code == 204
    assert browser.get(f"{served}/portal/folders/{folder['file_id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "code"),
    [({"email": "not-an-email"}, "invalid_email"), ({"email": "a@b.example", "role": "owner"}, "invalid_role")],
)
def test_bad_invitations_answer_400(member, body, code):
    folder = _folder(member, "Invites")

    answer = member.call("POST", f"/api/files/{folder['file_id']}/collaborators", body)

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == code


def test_only_folders_have_collaborators_and_only_their_owners_invite(member, other_member):
    file = _file_in(member, _folder(member, "Holder")["file_id"], "plain.txt", b"x")
    folder = _folder(member, "Private team")

    not_folder = member.call("POST", f"/api/files/{file['file_id']}/collaborators", {"email": "a@b.example"})
    stranger = other_member.call("POST", f"/api/files/{folder['file_id']}/collaborators", {"email": "a@b.example"})

    assert not_folder.status_code == 400 and not_folder.data["error"]["code"] == "not_a_folder"
    assert stranger.status_code == 404


def test_a_forged_or_unknown_invitation_answers_404(served):
    assert requests.get(f"{served}/join/{'A' * 44}", allow_redirects=False).status_code == 404
    assert requests.get(f"{served}/join/nonsense", allow_redirects=False).status_code == 404


def test_collaborators_who_may_upload_add_files_to_the_folder(served, stack, member):
    import re

    from conftest import upload

    for email in ("rosa@partner.example", "sven@partner.example"):
        signed_in(stack, email, groups=())
    folder = _folder(member, "Deliveries")
    browsers = {}
    for email, role in (("rosa@partner.example", "upload"), ("sven@partner.example", "view")):
        invited = member.call("POST", f"/api/files/{folder['file_id']}/collaborators", {"email": email, "role": role})
        browsers[email] = requests.Session()
        page = sign_in_through_pages(browsers[email], _on(served, invited.data["invitation"]["url"]), email)
        browsers[email].headers["X-CSRF-Token"] = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        assert ("Send files to this folder" in page.text) == (role == "upload")
    rosa, sven = browsers["rosa@partner.example"], browsers["sven@partner.example"]
    base = f"{served}/portal/folders/{folder['file_id']}/uploads"
    data = b"delivery note"

    started = rosa.post(base, json={"name": "note.txt", "size": len(data), "content_type": "text/plain"})
    assert started.status_code == 201, started.text
    plan = started.json()["upload"]
    upload(plan, data)
    stolen = sven.post(f"{base}/{plan['upload_id']}/complete")
    done = rosa.post(f"{base}/{plan['upload_id']}/complete")

    assert stolen.status_code == 403 and stolen.json()["error"]["code"] == "upload_not_allowed"
    assert done.status_code == 200, done.text
    listed = member.call("GET", f"/api/files?folder_id={folder['file_id']}").data["files"]
    assert [(f["name"], f["status"]) for f in listed] == [("note.txt", "ready")]
    no_csrf = requests.Session()
    no_csrf.cookies.update(rosa.cookies)
    assert no_csrf.post(base, json={"name": "x.txt", "size": 1}).status_code == 403


def test_a_collaborator_stays_listed_after_signing_in_again_and_after_a_sync(served, stack, member, admin):
    signed_in(stack, "quinn@partner.example", groups=())
    folder = _folder(member, "Gamma")
    invited = member.call("POST", f"/api/files/{folder['file_id']}/collaborators", {"email": "quinn@partner.example"})
    sign_in_through_pages(requests.Session(), _on(served, invited.data["invitation"]["url"]), "quinn@partner.example")
    username = _username(stack, "quinn@partner.example")

    # A second visit signs in afresh, which writes their record again from Cognito.
    sign_in_through_pages(requests.Session(), f"{served}/portal", "quinn@partner.example")
    after_sign_in = {
        c["username"]: c["folders"] for c in admin.call("GET", "/api/admin/collaborators").data["collaborators"]
    }
    assert admin.call("POST", "/api/admin/external-users/sync").status_code == 200
    after_sync = {
        c["username"]: c["folders"] for c in admin.call("GET", "/api/admin/collaborators").data["collaborators"]
    }

    assert after_sign_in[username] == 1
    assert after_sync[username] == 1


def test_the_member_who_invited_is_who_added_the_collaborator(served, stack, member):
    signed_in(stack, "rhea@partner.example", groups=())
    folder = _folder(member, "Delta")
    invited = member.call("POST", f"/api/files/{folder['file_id']}/collaborators", {"email": "rhea@partner.example"})

    sign_in_through_pages(requests.Session(), _on(served, invited.data["invitation"]["url"]), "rhea@partner.example")

    listed = member.call("GET", f"/api/files/{folder['file_id']}/collaborators").data["collaborators"]
    assert [(c["person"], c["added_by"]) for c in listed] == [
        ("email:rhea@partner.example", "member:alice@example.com")
    ]
