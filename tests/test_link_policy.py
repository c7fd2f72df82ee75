"""The admins' expiry policy: a default for new links, a maximum, and a stricter one without login."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import Api, shared_file, signed_in

from chalicelib.models import get_or_none
from chalicelib.more_models import POLICY_KEY, LinkPolicyRecord

POLICY = "/api/admin/link-policy"


def _in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat(timespec="seconds")


@pytest.fixture
def admin(client, stack) -> Api:
    return Api(client, signed_in(stack, "root@example.com", groups=("members", "admins")))


@pytest.fixture
def policy(admin):
    """Set a policy for one test; every other test runs without one."""

    def put(**fields):
        answer = admin.call("PUT", POLICY, fields)
        assert answer.status_code == 200, answer.body
        return answer.data["policy"]

    yield put
    record = get_or_none(LinkPolicyRecord, POLICY_KEY)
    if record is not None:
        record.delete()


def test_without_a_policy_links_start_a_week_ahead_and_may_have_no_end(admin, member):
    answer = admin.call("GET", POLICY)

    assert answer.status_code == 200
    assert answer.data["policy"] == {
        "default_days": 7,
        "max_days": None,
        "max_days_without_login": None,
        "updated_at": None,
        "updated_by": None,
    }
    _, link = shared_file(member)
    assert link["valid_until"] is None


def test_the_api_refuses_an_end_past_the_maximum_and_a_stricter_one_without_login(policy, member):
    set_to = policy(default_days=3, max_days=30, max_days_without_login=7)
    file, _ = shared_file(member, valid_until=_in(2))
    links = f"/api/files/{file['file_id']}/links"

    refusals = [
        member.call("POST", links, {"valid_until": _in(10)}),
        member.call("POST", links, {"valid_until": None}),
        member.call("POST", links, {"valid_until": _in(31), "require_login": True}),
    ]
    with_login = member.call("POST", links, {"valid_until": _in(10), "require_login": True})

    assert set_to["updated_by"] == "member:root@example.com"
    for answer in refusals:
        assert answer.status_code == 400
        assert answer.data["error"]["code"] == "valid_until_past_policy"
    assert "7 days" in refusals[0].data["error"]["message"]
    assert with_login.status_code == 201
    # Opening a login link to anyone is a change the policy judges too; a label is not.
    token = with_login.data["link"]["token"]
    opened = member.call("PATCH", f"/api/links/{token}", {"require_login": False})
    assert opened.status_code == 400
    assert opened.data["error"]["code"] == "valid_until_past_policy"
    assert member.call("PATCH", f"/api/links/{token}", {"label": "kept"}).status_code == 200
    listed = member.call("GET", links).data["links"]
    assert len(listed) == 2
    assert all(item["require_login"] for item in listed if item["token"] == token)


def test_the_console_dialog_starts_at_the_default_and_knows_the_limits(policy, member, client):
    policy(default_days=3, max_days=60, max_days_without_login=14)
    file, _ = shared_file(member, valid_until=_in(1))

    page = member.call("GET", f"/console/items/{file['file_id']}?tab=links").body.decode()

    assert 'data-default-days="3"' in page
    assert 'data-max-days="60"' in page
    assert 'data-max-open-days="14"' in page
    assert 'data-end-required="true"' in page


@pytest.mark.parametrize(
    "fields",
    [
        {"default_days": 0, "max_days": None, "max_days_without_login": None},
        {"default_days": "7", "max_days": None, "max_days_without_login": None},
        {"default_days": 7, "max_days": 10, "max_days_without_login": 20},
        {"default_days": 20, "max_days": 10, "max_days_without_login": None},
        {"default_days": None, "max_days": 10, "max_days_without_login": None},
        {"default_days": 7, "max_days": 100000, "max_days_without_login": None},
    ],
)
def test_a_policy_that_contradicts_itself_is_refused_and_nothing_changes(admin, fields):
    answer = admin.call("PUT", POLICY, fields)

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "invalid_policy"
    assert get_or_none(LinkPolicyRecord, POLICY_KEY) is None


def test_only_admins_read_or_set_the_policy(member):
    assert member.call("GET", POLICY).status_code == 403
    put = member.call("PUT", POLICY, {"default_days": 1, "max_days": 1, "max_days_without_login": 1})
    assert put.status_code == 403
    assert get_or_none(LinkPolicyRecord, POLICY_KEY) is None
