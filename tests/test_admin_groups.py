"""Admins manage directory groups; links naming a group follow it, and membership counts at once."""

from __future__ import annotations

import pytest
from conftest import Api, shared_file, signed_in


@pytest.fixture
def admin(client, stack) -> Api:
    return Api(client, signed_in(stack, "root@example.com", groups=("members", "admins")))


def _groups(admin: Api) -> dict[str, list[str]]:
    listed = admin.call("GET", "/api/admin/groups").data["groups"]
    return {g["name"]: sorted(p["email"] for p in g["people"]) for g in listed}


def test_admin_creates_a_group_and_adds_and_removes_people(admin, stack, client):
    partner = Api(client, signed_in(stack, "gina@partner.example", groups=()))
    assert admin.call("POST", "/api/admin/groups", {"name": "engineering-partners"}).status_code == 201

    assert (
        admin.call(
            "POST", "/api/admin/groups/engineering-partners/people", {"person": "Gina@Partner.example"}
        ).status_code
        == 204
    )
    assert _groups(admin)["engineering-partners"] == ["gina@partner.example"]
    assert (
        admin.call("DELETE", "/api/admin/groups/engineering-partners/people/gina%40partner.example").status_code == 204
    )
    assert _groups(admin)["engineering-partners"] == []
    assert "members" not in _groups(admin)
    assert partner.call("GET", "/api/files").status_code == 403


def test_renaming_a_group_keeps_its_people_and_its_links(admin, stack, member):
    signed_in(stack, "hank@partner.example", groups=())
    admin.call("POST", "/api/admin/groups", {"name": "reviewers"})
    admin.call("POST", "/api/admin/groups/reviewers/people", {"person": "hank@partner.example"})
    _, link = shared_file(member, groups=["reviewers"])

    renamed = admin.call("PATCH", "/api/admin/groups/reviewers", {"name": "senior-reviewers"})

    assert renamed.status_code == 200
    assert _groups(admin).get("senior-reviewers") == ["hank@partner.example"]
    assert "reviewers" not in _groups(admin)
    listed = member.call("GET", f"/api/files/{link['file_id']}/links").data["links"][0]
    assert listed["groups"] == ["senior-reviewers"]
    assert listed["status"] == "active"


def test_deleting_a_group_takes_it_off_links_and_revokes_links_left_for_nobody(admin, member):
    admin.call("POST", "/api/admin/groups", {"name": "temporary"})
    _, only_group = shared_file(member, groups=["temporary"])
    _, mixed = shared_file(member, groups=["temporary"], recipients=["ivy@partner.example"])

    assert admin.call("DELETE", "/api/admin/groups/temporary").status_code == 204

    first = member.call("GET", f"/api/files/{only_group['file_id']}/links").data["links"][0]
    second = member.call("GET", f"/api/files/{mixed['file_id']}/links").data["links"][0]
    assert first["status"] == "revoked" and first["groups"] == []
    assert second["status"] == "active" and second["groups"] == [] and second["recipients"] == ["ivy@partner.example"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/api/admin/groups", {"name": "has space"}, 400, "invalid_group"),
        ("POST", "/api/admin/groups", {"name": "members"}, 400, "team_group"),
        ("DELETE", "/api/admin/groups/admins", None, 400, "team_group"),
        ("DELETE", "/api/admin/groups/no-such-group", None, 404, "group_not_found"),
        ("POST", "/api/admin/groups/no-such-group/people", {"person": "x@y.example"}, 404, "group_not_found"),
        ("POST", "/api/admin/groups", {"name": "dup", "extra": 1}, 400, "unknown_field"),
    ],
)
def test_bad_group_requests_answer_4xx(admin, method, path, body, status, code):
    answer = admin.call(method, path, body)

    assert answer.status_code == status
    assert answer.data["error"]["code"] == code


def test_unknown_people_and_existing_groups_are_refused(admin):
    admin.call("POST", "/api/admin/groups", {"name": "dupes"})

    assert admin.call("POST", "/api/admin/groups", {"name": "dupes"}).data["error"]["code"] == "group_exists"
    unknown = admin.call("POST", "/api/admin/groups/dupes/people", {"person": "ghost@nowhere.example"})
    assert unknown.status_code == 404 and unknown.data["error"]["code"] == "user_not_found"


def test_members_who_are_not_admins_cannot_manage_groups(member):
    assert member.call("POST", "/api/admin/groups", {"name": "sneaky"}).status_code == 403
    assert member.call("GET", "/api/admin/groups").status_code == 403
