"""The External links tab with the keyboard alone: a member creates, edits and revokes a link with
Tab, Shift+Tab, Enter, Space, Escape and typing, and after every dialog the focus is somewhere useful."""

from __future__ import annotations

import pytest
from conftest import browser_expect as _expect
from conftest import scanned, upload

PASSWORD = "Secret-pass-1"


@pytest.fixture
def console(chromium, served, member):
    context = chromium.new_context(base_url=served, locale="en-GB", viewport={"width": 1280, "height": 1000})
    yield context.new_page()
    context.close()


def _file(member, name: str) -> str:
    data = b"keyboard only\n"
    created = member.call("POST", "/api/files", {"name": name, "size": len(data), "content_type": "text/plain"})
    assert created.status_code == 201, created.body
    upload(created.data["upload"], data)
    file_id = created.data["file"]["file_id"]
    assert member.call("POST", f"/api/files/{file_id}/complete").status_code == 200
    scanned()
    return file_id


def _focused(locator) -> bool:
    return locator.evaluate("element => element === document.activeElement")


def _tab_to(page, locator, key: str = "Tab", limit: int = 80) -> None:
    """Press Tab (or Shift+Tab) until the control has the focus, as a keyboard user would."""
    for _ in range(limit):
        if _focused(locator):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{locator} is not reachable with {key}")


def _focus_inside(page, dialog_id: str | None = None) -> bool:
    return page.evaluate(
        "id => { const d = id ? document.getElementById(id) : document.querySelector('dialog[open]');"
        " return Boolean(d && d.open && d.contains(document.activeElement)); }",
        dialog_id,
    )


def test_a_member_creates_edits_and_revokes_a_link_with_the_keyboard(console, member):
    expect = _expect()
    file_id = _file(member, "Keys.txt")
    page = console
    page.goto(f"/console/items/{file_id}?tab=links")
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    create = page.get_by_role("button", name="Create external link")
    expect(create).to_be_enabled()

    # Create: the dialog takes the focus; Escape closes it and gives the focus back to its opener.
    _tab_to(page, create)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Create external link")
    expect(dialog).to_be_visible()
    assert _focus_inside(page, "link-dialog")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert _focused(create)
    assert member.call("GET", f"/api/files/{file_id}/links").data["links"] == []

    page.keyboard.press("Space")
    expect(dialog).to_be_visible()
    _tab_to(page, dialog.get_by_label("Require login"))
    page.keyboard.press("Space")
    expect(dialog.get_by_label("Require login")).to_be_checked()
    _tab_to(page, dialog.get_by_role("button", name="Create link"))
    page.keyboard.press("Enter")
    done = page.get_by_role("button", name="Done")
    expect(done).to_be_focused()
    page.keyboard.press("Enter")
    links = member.call("GET", f"/api/files/{file_id}/links").data["links"]
    assert len(links) == 1 and links[0]["require_login"] is True and links[0]["label"] is None
    token = links[0]["token"]
    message = page.locator("#console-message")
    expect(message).to_have_text("Link created.")
    expect(message).to_be_focused()

    # Edit: Tab forwards to the row's Edit button; Shift+Tab back to the Label field; Enter saves.
    edit = page.get_by_role("button", name=f"Edit link {token[:8]}")
    _tab_to(page, edit)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Edit external link")
    expect(dialog).to_be_visible()
    assert _focus_inside(page, "link-dialog")
    _tab_to(page, dialog.get_by_role("button", name="Save changes"))
    _tab_to(page, dialog.get_by_label("Label"), key="Shift+Tab")
    page.keyboard.type("for Acme legal")
    page.keyboard.press("Enter")
    expect(message).to_have_text("Link changed.")
    expect(message).to_be_focused()
    assert member.call("GET", f"/api/files/{file_id}/links").data["links"][0]["label"] == "for Acme legal"

    # Revoke: the confirmation starts on Cancel (Enter alone keeps the link) and hands the focus back.
    revoke = page.get_by_role("button", name=f"Revoke link {token[:8]}")
    _tab_to(page, revoke)
    page.keyboard.press("Enter")
    confirm = page.get_by_role("dialog", name="Are you sure?")
    expect(confirm).to_be_visible()
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Enter")
    expect(confirm).to_be_hidden()
    expect(revoke).to_be_focused()
    assert member.call("GET", f"/api/files/{file_id}/links").data["links"][0]["status"] == "active"
    page.keyboard.press("Enter")
    expect(confirm).to_be_visible()
    page.keyboard.press("Tab")
    expect(confirm.get_by_role("button", name="Revoke link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(message).to_have_text("Link revoked: it no longer works for anyone.")
    expect(message).to_be_focused()
    assert member.call("GET", f"/api/files/{file_id}/links").data["links"][0]["status"] == "revoked"
