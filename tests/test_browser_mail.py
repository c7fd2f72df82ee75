"""Email in a real browser: "Request access" on a link that is not for you, and the local outbox."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from conftest import SCREENSHOTS, shared_file, signed_in


@dataclass
class _OverHttp:
    """The member API over real HTTP, so the links a request mails name the served site."""

    site: str
    token: str

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        answer = requests.request(method, self.site + path, headers=headers, data=json.dumps(body) if body else None)
        answer.status_code, answer.body = answer.status_code, answer.content
        answer.data = answer.json() if answer.content[:1] == b"{" else None
        return answer


@pytest.fixture
def alice(served, stack) -> _OverHttp:
    return _OverHttp(served, signed_in(stack, "alice@example.com"))


def _sign_in(page, email: str, password: str = "Secret-pass-1") -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _deliver() -> None:
    """What Lambda does with the queue: each message to the app's own handler."""
    from app import send_mail
    from devstack import mail_worker

    mail_worker.drain(send_mail)


def test_someone_the_link_is_not_for_requests_access_and_the_owner_approves_from_the_mail(
    page, chromium, served, stack, alice
):
    outsider = f"ursula-{secrets.token_hex(3)}@elsewhere.example"
    signed_in(stack, outsider, groups=())
    _, link = shared_file(alice, name="Board minutes.pdf", recipients=["vera@partner.example"])

    page.goto(f"/s/{link['token']}")
    _sign_in(page, outsider)
    assert page.get_by_role("heading", name="You do not have access").is_visible()
    page.get_by_role("button", name="Request access").click()

    page.get_by_role("heading", name="Your request was sent").wait_for()
    _deliver()
    page.goto("/local-outbox/")
    mail = page.locator("[data-mail]").filter(has_text=f"{outsider} asks for access")
    assert mail.count() == 1
    assert "alice@example.com" in mail.locator("[data-to]").inner_text()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "local-outbox.png"), full_page=True)
    answer = mail.get_by_role("link").filter(has_text="/console/access/").get_attribute("href")

    # The owner, in a browser of their own, follows the mail's link, signs in and approves.
    context = chromium.new_context(base_url=served)
    owner = context.new_page()
    owner.goto(answer)
    _sign_in(owner, "alice@example.com")
    owner.get_by_role("heading", name=f"{outsider} asks for access").wait_for()
    owner.wait_for_load_state()  # the page's module script has run: Approve has its listener
    owner.get_by_role("button", name="Approve").click()
    owner.wait_for_url("**/console/items/**")
    context.close()

    page.goto(f"/s/{link['token']}")
    assert page.get_by_role("heading", name="Board minutes.pdf").is_visible()


def test_the_outbox_shows_a_shared_link_whose_address_opens_the_link(page, served, stack, alice):
    named = f"wanda-{secrets.token_hex(3)}@partner.example"
    signed_in(stack, named, groups=())
    _, link = shared_file(alice, name="Price list.pdf", recipients=[named])
    _deliver()

    page.goto("/local-outbox/")
    mail = page.locator("[data-mail]").filter(has_text=named)
    assert "Price list.pdf" in mail.locator("[data-subject]").inner_text()
    mail.get_by_role("link", name=link["url"]).click()
    _sign_in(page, named)

    page.wait_for_url(f"{served}/s/{link['token']}")
    assert page.get_by_role("heading", name="Price list.pdf").is_visible()
