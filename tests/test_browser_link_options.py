"""A link's options in a real browser: the member edits a link in the console; the recipient meets
its password, its message and its download limit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import SCREENSHOTS, Api, shared_file, signed_in
from conftest import browser_expect as _expect

from chalicelib.models import get_or_none
from chalicelib.more_models import POLICY_KEY, LinkPolicyRecord

PASSWORD = "Secret-pass-1"


@pytest.fixture
def console(chromium, served, member):
    context = chromium.new_context(base_url=served, locale="en-GB", viewport={"width": 1280, "height": 1180})
    SCREENSHOTS.mkdir(exist_ok=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def recipient(chromium, served):
    context = chromium.new_context(accept_downloads=True, base_url=served, viewport={"width": 900, "height": 700})
    yield context.new_page()
    context.close()


def test_a_member_edits_a_link_and_the_recipient_needs_its_password(console, recipient, member):
    expect = _expect()
    data = b"Offer, final version\n"
    file, link = shared_file(member, data, name="Offer Acme.txt", label="first draft")
    token = link["token"]

    page = console
    page.goto(f"/console/items/{file['file_id']}?tab=links")
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    row = page.locator(f'tr.link-row[data-token-prefix="{token[:8]}"]')
    expect(row.get_by_text("first draft")).to_be_visible()

    # The Edit button opens the create dialog, prefilled with the link's options.
    row.get_by_role("button", name="Edit link first draft").click()
    dialog = page.get_by_role("dialog", name="Edit external link")
    expect(dialog.get_by_label("Label")).to_have_value("first draft")
    assert dialog.get_by_label("Allow upload").is_checked() is False
    dialog.get_by_label("Label").fill("for Acme legal")
    dialog.get_by_label("Message to recipients").fill("Hello Acme,\nthe <final> offer is attached.")
    dialog.get_by_label("Password", exact=False).first.fill("acme-offer-2026")
    dialog.get_by_label("Download limit").fill("3")
    page.screenshot(path=str(SCREENSHOTS / "console-link-edit.png"))
    dialog.get_by_label("Password", exact=False).first.fill("short")
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog.get_by_text("A password has 8 to 128 characters.")).to_be_visible()
    dialog.get_by_label("Password", exact=False).first.fill("acme-offer-2026")
    dialog.get_by_role("button", name="Save changes").click()

    # The table shows the changes; the history says what changed, never the password.
    row = page.locator(f'tr.link-row[data-token-prefix="{token[:8]}"]')
    expect(row.get_by_text("for Acme legal")).to_be_visible()
    expect(row.get_by_text("Password")).to_be_visible()
    expect(row.locator("td[data-label=Downloads]")).to_contain_text("of 3")
    history = member.call("GET", f"/api/files/{file['file_id']}/events").data["events"]
    changed = next(event for event in history if event["kind"] == "link_changed")
    assert changed["detail"]["password"] == "set"
    assert "acme-offer-2026" not in str(history)

    # The recipient sees only the password form, then the file, the message and who shared it.
    recipient.goto(f"/s/{token}")
    expect(recipient.get_by_role("heading", name="This link needs a password")).to_be_visible()
    expect(recipient.get_by_text("Offer Acme.txt")).to_have_count(0)
    recipient.get_by_label("Password").fill("not the one")
    recipient.get_by_role("button", name="Open").click()
    expect(recipient.get_by_text("That password is not right")).to_be_visible()
    recipient.screenshot(path=str(SCREENSHOTS / "recipient-password.png"), full_page=True)
    recipient.get_by_label("Password").fill("acme-offer-2026")
    recipient.get_by_role("button", name="Open").click()
    expect(recipient.get_by_role("heading", name="Offer Acme.txt")).to_be_visible()
    expect(recipient.get_by_text("the <final> offer is attached.")).to_be_visible()
    expect(recipient.get_by_text("Shared by alice@example.com")).to_be_visible()
    expect(recipient.get_by_text("3 of 3 downloads left")).to_be_visible()
    expect(recipient.get_by_text("for Acme legal")).to_have_count(0)
    recipient.screenshot(path=str(SCREENSHOTS / "recipient-landing-message.png"), full_page=True)
    with recipient.expect_download() as download:
        recipient.get_by_role("button", name="Download").click()
    assert download.value.suggested_filename == "Offer Acme.txt"
    with open(download.value.path(), "rb") as saved:
        assert saved.read() == data

    page.reload()
    row = page.locator(f'tr.link-row[data-token-prefix="{token[:8]}"]')
    expect(row.locator("td[data-label=Downloads]")).to_contain_text("1")
    expect(row.locator("td[data-label=Views]")).to_contain_text("1")


@pytest.fixture
def no_policy_after():
    """The policy this test sets is gone afterwards: every other test runs without one."""
    yield
    record = get_or_none(LinkPolicyRecord, POLICY_KEY)
    if record is not None:
        record.delete()


def test_an_admin_sets_the_link_policy_and_the_dialog_follows_it(console, stack, member, no_policy_after):
    expect = _expect()
    root = Api(member.client, signed_in(stack, "root@example.com", groups=("members", "admins")))
    file, _ = shared_file(root, name="Policy.txt", valid_until=(date.today() + timedelta(days=1)).isoformat())
    page = console
    page.goto("/admin?tab=links")
    page.get_by_label("Email").fill("root@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Default validity of a new link, in days").fill("3")
    page.get_by_label("Longest validity, in days").fill("60")
    page.get_by_label("Longest validity of a link that works without signing in, in days").fill("14")
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_text("Last set by member:root@example.com")).to_be_visible()
    expect(page.get_by_label("Longest validity, in days")).to_have_value("60")

    # Root is a member too: the create dialog starts at the default and keeps to the maximum.
    page.goto(f"/console/items/{file['file_id']}?tab=links")
    page.get_by_role("button", name="Create external link").click()
    dialog = page.get_by_role("dialog", name="Create external link")
    today = date(
        *page.evaluate("() => { const d = new Date(); return [d.getFullYear(), d.getMonth() + 1, d.getDate()]; }")
    )
    expect(dialog.get_by_label("Valid until")).to_have_value((today + timedelta(days=3)).isoformat())
    expect(dialog.get_by_role("button", name="Never", exact=True)).to_be_hidden()
    dialog.get_by_label("Valid until").fill((today + timedelta(days=30)).isoformat())
    dialog.get_by_role("button", name="Create link").click()
    expect(dialog.get_by_text("A link that works without login can be valid for at most 14 days.")).to_be_visible()
    dialog.get_by_label("Require login").check()
    dialog.get_by_role("button", name="Create link").click()
    expect(page.get_by_role("dialog").filter(has_text="Link created")).to_be_visible()
