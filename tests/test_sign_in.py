"""Sign-in through the hosted login page (the local stand-in), sessions, and who a link is for."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import requests
import time_machine
from conftest import shared_file, signed_in
from spies import aws_operations

PASSWORD = "Secret-pass-1"


_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def _form_fields(html: str) -> dict[str, str]:
    return {unescape(name): unescape(value) for name, value in _HIDDEN.findall(html)}


def sign_in_through_pages(browser: requests.Session, start: str, email: str, password: str = PASSWORD):
    """Follow a page into the hosted login stand-in, sign in, and follow the way back."""
    to_login = browser.get(start)
    assert "/local-login/oauth2/authorize" in to_login.url, to_login.url
    fields = _form_fields(to_login.text)
    site = start.split("/", 3)[:3]
    return browser.post(f"{'/'.join(site)}/local-login/login", data={**fields, "email": email, "password": password})


@pytest.fixture
def browser() -> requests.Session:
    return requests.Session()


def test_named_recipient_signs_in_lands_back_on_the_link_and_downloads(served, stack, member, browser):
    signed_in(stack, "carol@partner.example", groups=())
    data = b"for carol only"
    _, link = shared_file(member, data, recipients=["Carol@Partner.example"])
    assert link["require_login"] is True

    landed = sign_in_through_pages(browser, f"{served}/s/{link['token']}", "carol@partner.example")

    assert landed.url == f"{served}/s/{link['token']}"
    assert landed.status_code == 200
    assert "carol@partner.example" in landed.text
    download = browser.get(f"{served}/s/{link['token']}/download")
    assert download.content == data
    events = member.call("GET", f"/api/files/{link['file_id']}/links")  # the link still counts it
    assert events.data["links"][0]["downloads"] == 1


def test_session_cookie_is_httponly_and_samesite(served, stack, browser):
    signed_in(stack, "dave@partner.example", groups=())

    sign_in_through_pages(browser, f"{served}/portal", "dave@partner.example")

    cookie = next(c for c in browser.cookies if c.name == "handover_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert cookie.get_nonstandard_attr("SameSite") == "Lax"
    assert not cookie.secure  # plain HTTP locally; Secure is set on HTTPS


def test_someone_else_gets_a_403_page_saying_who_they_are(served, stack, member, browser):
    signed_in(stack, "eve@elsewhere.example", groups=())
    _, link = shared_file(member, recipients=["frank@partner.example"])

    page = sign_in_through_pages(browser, f"{served}/s/{link['token']}", "eve@elsewhere.example")

    assert page.status_code == 403
    assert "eve@elsewhere.example" in page.text
    assert "Sign in with another account" in page.text
    assert browser.get(f"{served}/s/{link['token']}/download", allow_redirects=False).status_code == 403


def test_group_membership_counts_at_access_time(served, stack, member, browser):
    cognito = stack.client("cognito-idp")
    cognito.create_group(UserPoolId=stack.user_pool_id, GroupName="auditors")
    signed_in(stack, "grace@audit.example", groups=())
    _, link = shared_file(member, groups=["auditors"])
    url = f"{served}/s/{link['token']}"

    assert sign_in_through_pages(browser, url, "grace@audit.example").status_code == 403

    cognito.admin_add_user_to_group(UserPoolId=stack.user_pool_id, Username="grace@audit.example", GroupName="auditors")
    assert browser.get(url).status_code == 200

    cognito.admin_remove_user_from_group(
        UserPoolId=stack.user_pool_id, Username="grace@audit.example", GroupName="auditors"
    )
    assert browser.get(url).status_code == 403


def test_an_unverified_email_never_matches_a_recipient(served, stack, member, browser):
    cognito = stack.client("cognito-idp")
    stack.create_user("heidi@partner.example", PASSWORD)
    cognito.admin_update_user_attributes(
        UserPoolId=stack.user_pool_id,
        Username="heidi@partner.example",
        UserAttributes=[{"Name": "email_verified", "Value": "false"}],
    )
    _, link = shared_file(member, recipients=["heidi@partner.example"])

    page = sign_in_through_pages(browser, f"{served}/s/{link['token']}", "heidi@partner.example")

    assert page.status_code == 403


def test_a_deleted_account_loses_its_session_at_once(served, stack, member, browser):
    signed_in(stack, "ivan@partner.example", groups=())
    _, link = shared_file(member, recipients=["ivan@partner.example"])
    url = f"{served}/s/{link['token']}"
    assert sign_in_through_pages(browser, url, "ivan@partner.example").status_code == 200

    stack.client("cognito-idp").admin_delete_user(UserPoolId=stack.user_pool_id, Username="ivan@partner.example")

    assert "/auth/login" in browser.get(url, allow_redirects=False).headers["Location"]


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_next_pointing_off_site_is_refused(served, target):
    answer = requests.get(f"{served}/auth/login", params={"next": target}, allow_redirects=False)

    assert answer.status_code == 400
    assert "Location" not in answer.headers


def test_callback_with_a_forged_state_or_without_the_login_cookie_is_refused(served, browser):
    started = browser.get(f"{served}/auth/login?next=/portal", allow_redirects=False)
    assert started.status_code == 302

    forged = browser.get(f"{served}/auth/callback", params={"code": "x", "state": "forged"}, allow_redirects=False)
    stranger = requests.get(f"{served}/auth/callback", params={"code": "x", "state": "y"}, allow_redirects=False)

    assert forged.status_code == 400
    assert stranger.status_code == 400
    assert "handover_session" not in browser.cookies


def test_a_tampered_or_expired_session_is_ignored(served, stack, browser):
    signed_in(stack, "judy@partner.example", groups=())
    sign_in_through_pages(browser, f"{served}/portal", "judy@partner.example")
    good = browser.cookies["handover_session"]

    tampered = requests.get(f"{served}/portal", cookies={"handover_session": good[:-2] + "xx"}, allow_redirects=False)
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=13)):
        from chalice.test import Client

        from app import app

        with Client(app) as client:
            expired = client.http.get("/portal", headers={"Cookie": f"handover_session={good}"})

    assert tampered.status_code == 302
    assert expired.status_code == 302
    assert browser.get(f"{served}/portal", allow_redirects=False).status_code == 200


def test_sign_out_ends_the_session_here_and_at_the_login_page(served, stack, browser):
    signed_in(stack, "kim@partner.example", groups=())
    sign_in_through_pages(browser, f"{served}/portal", "kim@partner.example")
    old = browser.cookies["handover_session"]

    out = browser.get(f"{served}/auth/logout")

    assert out.url == f"{served}/"
    assert [r.headers["Location"].split("?")[0] for r in out.history][:1] == [f"{served}/local-login/logout"]
    replay = requests.get(f"{served}/portal", cookies={"handover_session": old}, allow_redirects=False)
    assert replay.status_code == 302


def test_portal_lists_only_working_links_released_to_the_person(served, stack, member, browser):
    cognito = stack.client("cognito-idp")
    cognito.create_group(UserPoolId=stack.user_pool_id, GroupName="suppliers")
    signed_in(stack, "liam@supplier.example", groups=("suppliers",))
    _, by_email = shared_file(member, name="by-email.txt", recipients=["liam@supplier.example"])
    _, by_group = shared_file(member, name="by-group.txt", groups=["suppliers"])
    _, revoked = shared_file(member, name="revoked.txt", recipients=["liam@supplier.example"])
    shared_file(member, name="someone-else.txt", recipients=["mia@supplier.example"])
    shared_file(member, name="public.txt")
    member.call("DELETE", f"/api/links/{revoked['token']}")

    portal = sign_in_through_pages(browser, f"{served}/portal", "liam@supplier.example")

    assert portal.url == f"{served}/portal"
    for name in ("by-email.txt", "by-group.txt"):
        assert name in portal.text
    for name in ("revoked.txt", "someone-else.txt", "public.txt"):
        assert name not in portal.text
    assert by_email["token"] in portal.text and by_group["token"] in portal.text


def test_external_users_never_reach_the_member_api(served, stack, browser):
    signed_in(stack, "noah@partner.example", groups=())
    sign_in_through_pages(browser, f"{served}/portal", "noah@partner.example")

    answer = browser.get(f"{served}/api/files")

    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "not_a_member"


def test_members_use_the_api_with_their_session_and_a_csrf_token(served, stack, member, browser):
    _, link = shared_file(member)
    sign_in_through_pages(browser, f"{served}/portal", "alice@example.com")
    home = browser.get(f"{served}/")
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', home.text).group(1)

    listed = browser.get(f"{served}/api/files")
    without = browser.delete(f"{served}/api/links/{link['token']}")
    wrong = browser.delete(f"{served}/api/links/{link['token']}", headers={"X-CSRF-Token": csrf[:-1] + "x"})
    revoked = browser.delete(f"{served}/api/links/{link['token']}", headers={"X-CSRF-Token": csrf})

    assert listed.status_code == 200
    assert without.status_code == 403 and without.json()["error"]["code"] == "csrf_failed"
    assert wrong.status_code == 403
    assert revoked.status_code == 200


def test_every_refusal_and_granted_access_is_audited_with_who(served, stack, member):
    signed_in(stack, "olga@partner.example", groups=())
    signed_in(stack, "pete@elsewhere.example", groups=())
    _, link = shared_file(member, recipients=["olga@partner.example"])
    url = f"{served}/s/{link['token']}"

    requests.get(url, allow_redirects=False)
    sign_in_through_pages(requests.Session(), url, "pete@elsewhere.example")
    sign_in_through_pages(requests.Session(), url, "olga@partner.example")

    from chalicelib.models import EventRecord

    events = [(e.kind, e.actor) for e in EventRecord.query(link["file_id"]) if e.kind != "link_created"]
    assert ("login_required", "anonymous") in events
    assert ("access_refused", "email:pete@elsewhere.example") in events
    assert ("access_granted", "email:olga@partner.example") in events
    assert ("link_opened", "email:olga@partner.example") in events


def test_a_public_link_names_a_signed_in_visitor_without_asking_cognito(served, stack, member, browser):
    signed_in(stack, "gina@partner.example", groups=())
    sign_in_through_pages(browser, f"{served}/portal", "gina@partner.example")
    data = b"for anyone"
    _, public = shared_file(member, data)
    _, restricted = shared_file(member, data, recipients=["gina@partner.example"])

    with aws_operations("AWSCognitoIdentityProviderService.") as public_calls:
        page = browser.get(f"{served}/s/{public['token']}")
        download = browser.get(f"{served}/s/{public['token']}/download")
    with aws_operations("AWSCognitoIdentityProviderService.") as restricted_calls:
        restricted_page = browser.get(f"{served}/s/{restricted['token']}")

    assert page.status_code == 200
    assert "Signed in as <strong>gina@partner.example</strong>" in page.text
    assert download.content == data
    assert public_calls == []
    # A link for named people asks Cognito who the visitor is now.
    assert restricted_page.status_code == 200
    assert "AdminGetUser" in restricted_calls
    events = member.call("GET", f"/api/files/{public['file_id']}/events").data["events"]
    assert {e["kind"]: e["who"] for e in events}["link_downloaded"] == "email:gina@partner.example"
