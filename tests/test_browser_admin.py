"""The admin page in a real browser: filter, sort and bulk-delete external users; remove collaborators."""

from __future__ import annotations

import requests
from conftest import SCREENSHOTS, signed_in
from test_browser_sign_in import _sign_in
from test_folders_and_history import _file_in, _folder


def _as_admin(page, stack, path: str) -> None:
    signed_in(stack, "root@example.com", groups=("members", "admins"))
    page.goto(path)
    _sign_in(page, "root@example.com")


def test_admin_filters_sorts_and_bulk_deletes_external_users(page, served, stack):
    emails = [f"{name}@bulk-ui.example" for name in ("amy", "ben", "cid")]
    for email in emails:
        stack.create_user(email, "Secret-pass-1")
    _as_admin(page, stack, "/admin")
    page.wait_for_url(f"{served}/admin")
    with page.expect_navigation():
        page.evaluate(
            "fetch('/api/admin/external-users/sync', {method: 'POST', headers: {'X-CSRF-Token': "
            "document.querySelector('meta[name=csrf-token]').content}}).then(() => location.reload())"
        )

    page.get_by_label("Search").fill("@bulk-ui.example")
    page.get_by_label("Sort by").select_option("signed_up_at")
    page.get_by_label("Order").select_option("asc")
    page.get_by_role("button", name="Show").click()
    rows = page.locator("table.admin-table tbody tr")
    assert [rows.nth(i).locator("td").nth(2).inner_text() for i in range(rows.count())] == emails
    page.get_by_label("Order").select_option("desc")
    page.get_by_role("button", name="Show").click()
    assert rows.first.locator("td").nth(2).inner_text() == emails[-1]
    # The column header sorts too: sorted newest first by it, it flips to oldest first.
    page.get_by_role("link", name="Signed up").click()
    assert [rows.nth(i).locator("td").nth(2).inner_text() for i in range(rows.count())] == emails
    assert page.get_by_role("columnheader", name="Signed up").get_attribute("aria-sort") == "ascending"
    page.get_by_label("Select everyone listed").check()
    assert all(page.get_by_label(f"Select {email}").is_checked() for email in emails)
    page.get_by_label("Select everyone listed").uncheck()
    assert not any(page.get_by_label(f"Select {email}").is_checked() for email in emails)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "admin-external-users.png"), full_page=True)

    page.get_by_label(f"Select {emails[0]}").check()
    page.get_by_label(f"Select {emails[2]}").check()
    page.get_by_role("button", name="Delete selected").click()
    question = page.get_by_role("dialog", name="Are you sure?")
    questions = [question.locator("p").inner_text()]
    with page.expect_navigation():
        question.get_by_role("button", name="Delete").click()

    assert questions and questions[0].startswith("Delete 2 users?")
    assert [rows.nth(i).locator("td").nth(2).inner_text() for i in range(rows.count())] == [emails[1]]


def test_a_partner_invited_to_a_folder_sees_it_until_an_admin_removes_them(page, chromium, served, stack, member):
    folder = _folder(member, "Launch plan")
    _file_in(member, folder["file_id"], "timeline.txt", b"Q1")

    owner = chromium.new_context(base_url=served).new_page()
    owner.goto(f"/console/items/{folder['file_id']}?tab=collaborators")
    _sign_in(owner, "alice@example.com")
    owner.get_by_label("Email").fill("dora@launch.example")
    owner.get_by_role("button", name="Invite").click()
    invitation = owner.locator("[data-invitation-url]")
    invitation.wait_for()
    path = "/" + invitation.inner_text().split("/", 3)[3]
    owner.screenshot(path=str(SCREENSHOTS / "console-collaborators.png"), full_page=True)

    partner = chromium.new_context(base_url=served).new_page()
    partner.goto(path)
    partner.get_by_role("link", name="Sign up").click()
    partner.get_by_label("Name").fill("Dora Launch")
    partner.get_by_label("Email").fill("dora@launch.example")
    partner.get_by_label("Password").fill("Dora-pass-123")
    partner.get_by_role("button", name="Sign up").click()
    partner.get_by_label("Confirmation code").fill(partner.locator("#confirmation-code").inner_text())
    partner.get_by_role("button", name="Confirm and sign in").click()
    partner.wait_for_url(f"{served}/portal/folders/{folder['file_id']}")
    assert partner.get_by_role("link", name="Download timeline.txt").is_visible()
    partner.goto("/portal")
    assert partner.get_by_role("link", name="Launch plan").is_visible()
    owner.reload()
    assert owner.get_by_role("cell", name="dora@launch.example").is_visible()

    _as_admin(page, stack, "/admin?tab=collaborators")
    page.wait_for_url(f"{served}/admin?tab=collaborators")
    page.get_by_role("link", name="Folders of Dora Launch").click()
    assert page.get_by_role("heading", name="Folders of Dora Launch").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "admin-collaborators.png"), full_page=True)
    page.get_by_role("button", name="Remove from this folder").click()
    with page.expect_navigation():
        page.get_by_role("dialog").get_by_role("button", name="Remove from this folder").click()
    assert page.get_by_role("alert").get_by_text("Dora Launch removed from Launch plan.").is_visible()

    partner.goto("/portal")
    assert partner.get_by_text("Launch plan").count() == 0
    assert requests.get(f"{served}/portal/folders/{folder['file_id']}", allow_redirects=False).status_code in (302, 404)
    for context in (owner.context, partner.context):
        context.close()
