"""Admins list, filter, search, sort and delete external users; the list is a projection of Cognito."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from conftest import Api, shared_file, signed_in
from spies import items_read
from test_sign_in import sign_in_through_pages

from chalicelib import search
from chalicelib.more_models import PersonRecord, SearchEntryRecord

SEED_DAY = datetime(2020, 1, 1, 9, 0, tzinfo=UTC)
RANGE = "signed_up_from=2020-01-01&signed_up_to=2020-02-28"


@pytest.fixture(scope="module")
def seeded(stack) -> list[PersonRecord]:
    """30 external users who signed up a day apart in January 2020; every other one signed in since."""
    people = []
    for n in range(1, 31):
        signed_up = SEED_DAY + timedelta(days=n - 1)
        login = signed_up + timedelta(days=40) if n % 2 == 0 else None
        record = PersonRecord(
            f"seed-{n:02d}",
            sub=f"seed-{n:02d}",
            email=f"p{n:02d}@seedling.example",
            name=f"Ada Seedling {n:02d}",
            phone=f"+4930555{n:04d}",
            status="CONFIRMED",
            signed_up_at=signed_up,
            last_login_at=login,
            last_login_key=login.isoformat().replace("+00:00", "Z") if login else "0",
            search=f"ada seedling {n:02d} p{n:02d}@seedling.example +4930555{n:04d}",
        )
        record.save()
        people.append(record)
    search.write(people)  # as sync would have indexed them
    return people


@pytest.fixture
def admin(client, stack) -> Api:
    return Api(client, signed_in(stack, "root@example.com", groups=("members", "admins")))


def _all_pages(admin: Api, query: str, limit: int) -> list[str]:
    names, cursor, pages = [], None, 0
    while True:
        answer = admin.call(
            "GET", f"/api/admin/external-users?{query}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        )
        assert answer.status_code == 200, answer.body
        names += [u["username"] for u in answer.data["users"]]
        cursor, pages = answer.data["next_cursor"], pages + 1
        if cursor is None:
            return names
        assert pages < 50


def test_sign_up_sort_in_both_directions_and_every_page_boundary(admin, seeded):
    expected = [r.username for r in seeded]

    assert _all_pages(admin, f"{RANGE}&sort=signed_up_at&order=asc", 7) == expected
    assert _all_pages(admin, f"{RANGE}&sort=signed_up_at&order=desc", 7) == expected[::-1]
    assert _all_pages(admin, f"{RANGE}&order=asc", 30) == expected
    assert _all_pages(admin, f"{RANGE}&order=asc", 1)[:3] == expected[:3]


def test_filter_by_sign_up_range(admin, seeded):
    found = _all_pages(admin, "signed_up_from=2020-01-05&signed_up_to=2020-01-10&order=asc", 50)

    assert found == [f"seed-{n:02d}" for n in range(5, 11)]


def test_filter_by_last_login_range_and_sort_by_last_login(admin, seeded):
    logged = _all_pages(admin, f"{RANGE}&last_login_from=2020-02-15&last_login_to=2020-02-20&order=asc", 50)
    by_login = _all_pages(admin, f"{RANGE}&sort=last_login_at&order=desc", 4)

    # Signed up 2020-01-(n) and signed in 40 days later: 2020-02-15..20 is n = 6..11, even ones only.
    assert logged == ["seed-06", "seed-08", "seed-10"]
    assert by_login[:15] == [f"seed-{n:02d}" for n in range(30, 0, -2)]
    assert set(by_login[15:]) == {f"seed-{n:02d}" for n in range(1, 31, 2)}  # never signed in: last


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("SEEDLING 1", [f"seed-{n}" for n in range(10, 20)]),
        ("p07@", ["seed-07"]),
        ("0555002", [f"seed-{n}" for n in range(20, 30)]),
    ],
)
def test_search_is_partial_and_case_insensitive(admin, seeded, term, expected):
    found = _all_pages(admin, f"{RANGE}&order=asc&q={requests.utils.quote(term)}", 3)

    assert found == expected


@pytest.mark.parametrize("term", ["+49 (30) 555-0020", "555 0020", "30.5550020", "0020"])
def test_phone_search_matches_the_digits_whatever_the_formatting(admin, seeded, term):
    found = _all_pages(admin, f"{RANGE}&q={requests.utils.quote(term)}", 50)

    assert found == ["seed-20"]


@pytest.mark.parametrize(("term", "found"), [("p07@", 1), ("seedling 2", 10), ("555002", 10)])
def test_a_search_reads_about_what_it_finds(admin, seeded, term, found):
    with items_read() as read:
        answer = admin.call("GET", f"/api/admin/external-users?{RANGE}&limit=5&q={requests.utils.quote(term)}")

    shown = len(answer.data["users"])
    assert shown == min(found, 5)
    # The index's entries for the term (one per person here) and the people on the page.
    assert read[0] <= found + shown


def _search_entries(username: str) -> list[str]:
    return [e.entry for e in SearchEntryRecord.scan(SearchEntryRecord.username == username)]


def test_the_search_index_follows_sign_up_edits_sync_and_deletion(served, stack, admin):
    cognito = stack.client("cognito-idp")
    signed_in(stack, "quentin@index.example", groups=())
    username = _username(stack, "quentin@index.example")
    cognito.admin_update_user_attributes(
        UserPoolId=stack.user_pool_id, Username=username, UserAttributes=[{"Name": "name", "Value": "Quentin Zyxwv"}]
    )
    sign_in_through_pages(requests.Session(), f"{served}/portal", "quentin@index.example")

    def found(term: str) -> list[str]:
        answer = admin.call("GET", f"/api/admin/external-users?q={requests.utils.quote(term)}")
        return [u["username"] for u in answer.data["users"]]

    assert found("ZYXWV") == [username]  # signed in: in the projection and the index
    cognito.admin_update_user_attributes(
        UserPoolId=stack.user_pool_id,
        Username=username,
        UserAttributes=[{"Name": "name", "Value": "Quentin Vwxyz"}, {"Name": "phone_number", "Value": "+15550199"}],
    )
    assert admin.call("POST", "/api/admin/external-users/sync").status_code == 200
    assert found("zyxwv") == []
    assert found("vwxyz") == [username]
    assert found("1 555 0199") == [username]

    assert admin.call("DELETE", f"/api/admin/external-users/{username}").status_code == 204
    assert found("vwxyz") == []
    assert _search_entries(username) == []


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("sort=name", "invalid_sort"),
        ("order=up", "invalid_order"),
        ("signed_up_from=yesterday", "invalid_time_range"),
        ("signed_up_from=0001-01-01T00:00:00%2B23:59", "invalid_time_range"),
        ("last_login_to=9999-12-31T23:59:59-23:59", "invalid_time_range"),
        ("limit=%D9%A1", "invalid_limit"),
        ("cursor=" + "W" * 40, "invalid_cursor"),
        ("limit=0", "invalid_limit"),
        ("cursor=garbage", "invalid_cursor"),
    ],
)
def test_bad_list_parameters_answer_400(admin, query, code):
    answer = admin.call("GET", f"/api/admin/external-users?{query}")

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == code


def test_only_admins_reach_the_admin_api(member, client, stack):
    external = Api(client, signed_in(stack, "outsider@partner.example", groups=()))

    assert member.call("GET", "/api/admin/external-users").data["error"]["code"] == "not_an_admin"
    assert external.call("GET", "/api/admin/external-users").status_code == 403
    assert member.call("POST", "/api/admin/external-users/delete", {"usernames": ["x"]}).status_code == 403


def _username(stack, email: str) -> str:
    return stack.client("cognito-idp").admin_get_user(UserPoolId=stack.user_pool_id, Username=email)["Username"]


def test_sign_in_records_the_last_login_and_sync_brings_in_everyone_else(served, stack, admin):
    signed_in(stack, "uma@partner.example", groups=())
    stack.create_user("victor@partner.example", "Secret-pass-1")
    sign_in_through_pages(requests.Session(), f"{served}/portal", "uma@partner.example")

    uma = PersonRecord.get(_username(stack, "uma@partner.example"))
    assert uma.last_login_at is not None and uma.email == "uma@partner.example"

    synced = admin.call("POST", "/api/admin/external-users/sync")
    found = admin.call("GET", "/api/admin/external-users?q=victor@partner").data["users"]

    assert synced.status_code == 200
    assert [u["email"] for u in found] == ["victor@partner.example"]
    assert found[0]["last_login_at"] is None
    team = admin.call("GET", "/api/admin/external-users?q=root@example.com").data["users"]
    assert team == []


def test_bulk_delete_reports_the_one_that_failed_and_deletes_the_rest(stack, admin, member, anonymous):
    emails = ["wendy@bulk.example", "xavier@bulk.example", "yara@bulk.example"]
    for email in emails:
        signed_in(stack, email, groups=())
    admin.call("POST", "/api/admin/external-users/sync")
    usernames = [_username(stack, e) for e in emails]
    team_member = _username(stack, "alice@example.com")
    _, link = shared_file(member, recipients=["wendy@bulk.example", "zoe@bulk.example"])
    _, only_xavier = shared_file(member, recipients=["xavier@bulk.example"])

    answer = admin.call(
        "POST", "/api/admin/external-users/delete", {"usernames": [usernames[0], team_member, usernames[1], "nobody"]}
    )

    assert answer.status_code == 200
    assert answer.data["deleted"] == usernames[:2]
    assert [(f["username"], f["code"]) for f in answer.data["failed"]] == [
        (team_member, "not_external"),
        ("nobody", "user_not_found"),
    ]
    cognito = stack.client("cognito-idp")
    for username in usernames[:2]:
        with pytest.raises(cognito.exceptions.UserNotFoundException):
            cognito.admin_get_user(UserPoolId=stack.user_pool_id, Username=username)
    assert cognito.admin_get_user(UserPoolId=stack.user_pool_id, Username=team_member)["Username"] == team_member
    assert cognito.admin_get_user(UserPoolId=stack.user_pool_id, Username=usernames[2])
    remaining = {u["username"] for u in admin.call("GET", "/api/admin/external-users?q=@bulk.example").data["users"]}
    assert remaining == {usernames[2]}
    links = {item["token"]: item for item in member.call("GET", f"/api/files/{link['file_id']}/links").data["links"]}
    assert links[link["token"]]["recipients"] == ["zoe@bulk.example"]
    assert links[link["token"]]["status"] == "active"
    xavier_link = member.call("GET", f"/api/files/{only_xavier['file_id']}/links").data["links"][0]
    assert xavier_link["status"] == "revoked"  # left for nobody, it would open to anyone signed in


def test_deleting_one_user_and_unknown_users(stack, admin):
    signed_in(stack, "abe@single.example", groups=())
    username = _username(stack, "abe@single.example")

    assert admin.call("DELETE", f"/api/admin/external-users/{username}").status_code == 204
    assert admin.call("DELETE", f"/api/admin/external-users/{username}").status_code == 404
    assert admin.call("POST", "/api/admin/external-users/delete", {"usernames": []}).status_code == 400


def test_the_admin_page_is_for_admins_only(client, stack, member, admin):
    anonymous = client.http.get("/admin")
    not_admin = client.http.get("/admin", headers={"Authorization": f"Bearer {member.token}"})
    allowed = client.http.get("/admin?tab=groups", headers={"Authorization": f"Bearer {admin.token}"})

    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
    assert not_admin.status_code == 403
    assert allowed.status_code == 200 and b"New group" in allowed.body


def test_an_admin_outside_the_team_gets_neither_the_admin_page_nor_the_api(client, stack):
    # In `admins` but not in `members`: the page and the API answer alike, not a page whose every action fails.
    outsider = signed_in(stack, "lone-admin@example.com", groups=("admins",))
    headers = {"Authorization": f"Bearer {outsider}"}

    page = client.http.get("/admin", headers=headers)
    api = client.http.get("/api/admin/external-users", headers=headers)

    assert page.status_code == 403
    assert api.status_code == 403
