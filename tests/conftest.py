"""The world tests run in: one local stack per session, the app on it, and a member."""

from __future__ import annotations

import json
import os
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.localstack import LocalStack, free_port  # noqa: E402

MiB = 1024 * 1024


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory):
    """SeaweedFS and moto on free loopback ports, provisioned; the environment points at them.

    Settings are read once, so the environment is set before anything reads them; the
    models are bound to them here (and again by the app), and a test that never asked for
    the stack finds them unbound and fails loudly.
    """
    local = LocalStack(
        data_dir=tmp_path_factory.mktemp("stack"), app_url=f"http://127.0.0.1:{free_port()}", cli_login_port=free_port()
    )
    local.start()
    try:
        os.environ.update(local.environment())
        # Small limits so tests reach them with small files and few requests.
        os.environ.update(GUESS_LIMIT="5", MULTIPART_THRESHOLD=str(6 * MiB), MULTIPART_PART_SIZE=str(5 * MiB))
        local.provision()
        os.environ.update(local.environment())
        from chalicelib import models
        from chalicelib.config import get_settings

        get_settings.cache_clear()
        models.bind(get_settings())
        yield local
    finally:
        from devstack import scanner

        if scanner.running is not None:
            scanner.running.stop()
        local.stop()


@pytest.fixture(scope="session")
def app(stack: LocalStack):
    from app import app as chalice_app

    return chalice_app


@pytest.fixture(scope="session")
def served(app, stack: LocalStack) -> str:
    """The app over real HTTP, as `chalice local` serves it, for browsers and redirects."""
    from chalice.config import Config
    from chalice.local import create_local_server

    port = int(stack.app_url.rsplit(":", 1)[1])
    server = create_local_server(app, Config.create(chalice_stage="local", app_name="handover"), "127.0.0.1", port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield stack.app_url
    server.server.shutdown()


CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "tests" / "screenshots"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--browser-today",
        metavar="YYYY-MM-DD",
        help="run the browsers on another day (at today's time), to check pages on every day of the year",
    )


_TIERS = ("unit", "integration", "browser")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test's tier, from what it needs: Chromium (browser), the local stack (integration), nothing (unit).

    A module that needs something no fixture shows (a subprocess, `chalice package`) says so
    with `pytestmark = pytest.mark.integration`.
    """
    for item in items:
        if any(item.get_closest_marker(tier) for tier in _TIERS):
            continue
        needs = set(item.fixturenames)
        tier = "browser" if "chromium" in needs else "integration" if "stack" in needs else "unit"
        item.add_marker(tier)


class _BrowserOnAnotherDay:
    """The browser, each new context's clock moved to another day; everything else as it is."""

    def __init__(self, browser: Any, day: date) -> None:
        self._browser = browser
        self._shift = datetime.combine(day, datetime.now(UTC).time(), tzinfo=UTC) - datetime.now(UTC)

    def new_context(self, **options: Any) -> Any:
        context = self._browser.new_context(**options)
        context.clock.set_system_time(datetime.now(UTC) + self._shift)
        return context

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


@pytest.fixture(scope="session")
def chromium(request: pytest.FixtureRequest):
    """Debian's Chromium driven by Playwright (Playwright's own browser download does not work here)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}: `apt-get install chromium` (CI installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
            + ["--disable-sync", "--no-first-run"],
        )
        day = request.config.getoption("--browser-today")
        yield _BrowserOnAnotherDay(browser, date.fromisoformat(day)) if day else browser
        browser.close()


def browser_expect():
    """Playwright's expect, waiting up to 15 s: pages reload after an action, slowly on a busy machine."""
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    return expect


def refuse_as_expired(route: Any) -> None:
    """Answer a browser's request to S3 as S3 answers a presigned URL that has expired."""
    headers = {"Access-Control-Allow-Origin": "*", "Content-Type": "application/xml"}
    body = "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
    route.fulfill(status=403, headers=headers, body=body)


@pytest.fixture
def page(chromium, served):
    """A fresh browser context (no cookies) and a page in it."""
    context = chromium.new_context(accept_downloads=True, base_url=served)
    yield context.new_page()
    context.close()


@pytest.fixture
def client(app):
    from chalice.test import Client

    with Client(app) as test_client:
        yield test_client


@dataclass
class Api:
    """The member API through Chalice's test client, as one signed-in person."""

    client: Any
    token: str | None

    def call(self, method: str, path: str, body: Any = None, raw: bytes | None = None, headers=None):
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(self.client.http, method.lower())(path, headers=all_headers, body=payload)
        response.data = json.loads(response.body) if response.body[:1] in (b"{", b"[") else None
        return response


_users: dict[str, str] = {}


def signed_in(stack: LocalStack, email: str, groups: tuple[str, ...] = ("members",)) -> str:
    """The ID token of a user, created on first use."""
    if email not in _users:
        stack.create_user(email, "Secret-pass-1", groups=groups)
        _users[email] = stack.sign_in(email, "Secret-pass-1")["IdToken"]
    return _users[email]


@pytest.fixture
def member(client, stack) -> Api:
    return Api(client, signed_in(stack, "alice@example.com"))


@pytest.fixture
def other_member(client, stack) -> Api:
    return Api(client, signed_in(stack, "bob@example.com"))


@pytest.fixture
def anonymous(client) -> Api:
    return Api(client, None)


def upload(plan: dict[str, Any], data: bytes) -> None:
    """Send bytes to S3 the way a browser or script follows an upload plan."""
    if plan["method"] == "POST":
        response = requests.post(plan["url"], data=plan["fields"], files={"file": ("blob", data)})
        assert response.status_code == 204, response.text
        return
    size = plan["part_size"]
    for part in plan["parts"]:
        start = (part["part_number"] - 1) * size
        response = requests.put(part["url"], data=data[start : start + size])
        assert response.status_code == 200, response.text


def scanned() -> None:
    """Have the dev stack's stand-in scanner scan everything that arrived, as GuardDuty would a moment later."""
    from devstack import scanner

    assert scanner.running is not None, "the app starts the stand-in scanner in the local stage"
    scanner.running.scan_now()


@pytest.fixture
def scanner(app):
    """The stand-in for GuardDuty's malware scan that the app runs in the local stage."""
    from devstack import scanner

    return scanner.running


def shared_file(api: Api, data: bytes = b"hello, world\n", name: str = "report.txt", **link: Any):
    """A completed and scanned (clean) file and a link to it: (file, link)."""
    created = api.call("POST", "/api/files", {"name": name, "size": len(data), "content_type": "text/plain"})
    assert created.status_code == 201, created.body
    upload(created.data["upload"], data)
    file_id = created.data["file"]["file_id"]
    assert api.call("POST", f"/api/files/{file_id}/complete").status_code == 200
    scanned()
    made = api.call("POST", f"/api/files/{file_id}/links", link)
    assert made.status_code == 201, made.body
    return created.data["file"], made.data["link"]
