"""Sign-in in a real browser: Chromium follows a link, signs in, and downloads or is refused."""

from __future__ import annotations

from conftest import SCREENSHOTS, shared_file, signed_in
from playwright.sync_api import expect


def _sign_in(page, email: str, password: str = "Secret-pass-1") -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_named_recipient_signs_in_comes_back_to_the_link_and_downloads(page, served, stack, member):
    signed_in(stack, "olivia@partner.example", groups=())
    data = b"quarterly numbers\n"
    _, link = shared_file(member, data, name="Numbers Q3.csv", recipients=["olivia@partner.example"])

    page.goto(f"/s/{link['token']}")
    assert "/local-login/oauth2/authorize" in page.url
    _sign_in(page, "olivia@partner.example")

    page.wait_for_url(f"{served}/s/{link['token']}")
    assert page.get_by_role("heading", name="Numbers Q3.csv").is_visible()
    assert page.get_by_text("olivia@partner.example").is_visible()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "landing-signed-in.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    assert download.value.suggested_filename == "Numbers Q3.csv"
    with open(download.value.path(), "rb") as saved:
        assert saved.read() == data


def test_the_wrong_person_sees_who_they_are_and_can_switch_account(page, served, stack, member):
    signed_in(stack, "peggy@elsewhere.example", groups=())
    signed_in(stack, "quinn@partner.example", groups=())
    _, link = shared_file(member, recipients=["quinn@partner.example"])

    page.goto(f"/s/{link['token']}")
    _sign_in(page, "peggy@elsewhere.example")

    assert page.get_by_role("heading", name="You do not have access").is_visible()
    assert page.get_by_text("peggy@elsewhere.example").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "not-allowed.png"), full_page=True)
    page.get_by_role("link", name="Sign in with another account").click()
    _sign_in(page, "quinn@partner.example")
    page.wait_for_url(f"{served}/s/{link['token']}")
    assert page.get_by_role("button", name="Download").is_visible()


def test_a_new_partner_signs_up_and_finds_what_was_shared_in_the_portal(page, served, member):
    _, link = shared_file(member, name="Welcome pack.pdf", recipients=["rita@newpartner.example"])
    shared_file(member, name="Not for Rita.pdf", recipients=["sam@newpartner.example"])

    page.goto("/portal")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Name").fill("Rita Newpartner")
    page.get_by_label("Email").fill("rita@newpartner.example")
    page.get_by_label("Password").fill("Rita-pass-123")
    page.get_by_role("button", name="Sign up").click()
    code = page.locator("#confirmation-code").inner_text()
    page.get_by_label("Confirmation code").fill(code)
    page.get_by_role("button", name="Confirm and sign in").click()

    page.wait_for_url(f"{served}/portal")
    assert page.get_by_text("Welcome pack.pdf").is_visible()
    assert page.get_by_text("Not for Rita.pdf").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "portal.png"), full_page=True)

    # Her name heads the page; her profile takes a phone number written as people write them.
    page.get_by_role("link", name="Rita Newpartner").click()
    page.get_by_label("Phone").fill("+44 20 7946 0958")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.get_by_label("Phone")).to_have_value("+442079460958")
    page.get_by_label("Phone").fill("12345")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Not saved: phone must be an international number")
