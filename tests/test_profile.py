"""A signed-in person's profile: their name and phone in Cognito, found by the admin's search."""

from __future__ import annotations

import re

import pytest
import requests
from conftest import Api, signed_in
from test_sign_in import sign_in_through_pages

from chalicelib.profile import phone_e164


@pytest.fixture
def admin(client, stack) -> Api:
    return Api(client, signed_in(stack, "root@example.com", groups=("members", "admins")))


def _signed_in_profile(served: str, stack, email: str) -> tuple[requests.Session, str]:
    signed_in(stack, email, groups=())
    browser = requests.Session()
    page = sign_in_through_pages(browser, f"{served}/profile", email)
    assert page.status_code == 200 and "Your profile" in page.text
    return browser, re.search(r'name="csrf-token" content="([^"]+)"', page.text)[1]


def _attributes(stack, email: str) -> dict[str, str]:
    user = stack.client("cognito-idp").admin_get_user(UserPoolId=stack.user_pool_id, Username=email)
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}


def test_a_partner_sets_name_and_phone_and_the_admin_finds_them_by_either(served, stack, admin):
    browser, csrf = _signed_in_profile(served, stack, "wanda@profile.example")

    saved = browser.post(
        f"{served}/profile",
        json={"name": "Wanda Maximoff", "phone": "+353 1 555 0142"},
        headers={"X-CSRF-Token": csrf},
    )

    assert saved.status_code == 200 and saved.json() == {"name": "Wanda Maximoff", "phone": "+35315550142"}
    assert _attributes(stack, "wanda@profile.example")["phone_number"] == "+35315550142"
    for term in ("+353 1 555", "555-0142", "Maximoff"):
        found = admin.call("GET", f"/api/admin/external-users?q={requests.utils.quote(term)}").data["users"]
        assert [u["email"] for u in found] == ["wanda@profile.example"], term
    assert "Wanda Maximoff" in browser.get(f"{served}/portal").text


def test_a_profile_change_is_refused_in_words_and_changes_nothing(served, stack):
    browser, csrf = _signed_in_profile(served, stack, "xena@profile.example")
    headers = {"X-CSRF-Token": csrf}

    wrong_phone = browser.post(f"{served}/profile", json={"name": "Xena", "phone": "12345"}, headers=headers)
    no_name = browser.post(f"{served}/profile", json={"name": "  ", "phone": None}, headers=headers)
    no_csrf = browser.post(f"{served}/profile", json={"name": "Xena"})

    assert wrong_phone.status_code == 400 and wrong_phone.json()["error"]["code"] == "invalid_phone"
    assert no_name.status_code == 400 and no_name.json()["error"]["code"] == "invalid_name"
    assert no_csrf.status_code == 403
    assert "name" not in _attributes(stack, "xena@profile.example")


def test_phone_numbers_are_kept_in_e164_whatever_the_formatting():
    assert phone_e164("+1 (555) 010-0199") == "+15550100199"
    assert phone_e164("0049 30 555 0100") == "+49305550100"
    assert phone_e164("  ") is None
    for wrong in ("555 0100", "+0 123 4567", "+1 555 abc", "+1234567890123456"):
        with pytest.raises(Exception, match="international number"):
            phone_e164(wrong)
