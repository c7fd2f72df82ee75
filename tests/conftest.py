"""The world tests run in: one local stack per session, the app on it, and a member."""

from __future__ import annotations

import json
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalicelib.localstack import LocalStack, free_port  # noqa: E402

MiB = 1024 * 1024


@pytest.fixture(scope="session")
def served_port() -> int:
    """The port `served` listens on, chosen first: the bucket's CORS names the origin, port included."""
    return free_port()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, served_port: int):
    """SeaweedFS and moto on free loopback ports, provisioned; the environment points at them.

    pynamodb reads table names when chalicelib.models is imported, so the environment is
    set before anything imports the app.
    """
    local = LocalStack(data_dir=tmp_path_factory.mktemp("stack"))
    local.start()
    try:
        os.environ.update(local.environment())
        # Small limits so tests reach them with small files and few requests.
        os.environ.update(GUESS_LIMIT="5", MULTIPART_THRESHOLD=str(6 * MiB), MULTIPART_PART_SIZE=str(5 * MiB))
        local.provision(site_origins=["http://127.0.0.1", f"http://127.0.0.1:{served_port}"])
        os.environ.update(local.environment())
        from chalicelib.config import get_settings

        get_settings.cache_clear()
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def app(stack: LocalStack):
    from app import app as chalice_app

    return chalice_app


@pytest.fixture(scope="session")
def served(app, served_port: int):
    """The app over real HTTP on loopback, as `chalice local` serves it: its base URL."""
    from chalice.config import Config
    from chalice.local import create_local_server

    config = Config.create(chalice_stage="local", app_name="handover", project_dir=str(ROOT))
    server = create_local_server(app, config, "127.0.0.1", served_port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{served_port}"
    server.shutdown()


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright (Playwright's own browser download does not work here)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"real-browser tests need Chromium at {CHROMIUM} (Debian package `chromium`)")
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
    args += ["--disable-sync", "--no-first-run"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        yield browser
        browser.close()


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


def shared_file(api: Api, data: bytes = b"hello, world\n", name: str = "report.txt", **link: Any):
    """A completed file and a link to it: (file, link)."""
    created = api.call("POST", "/api/files", {"name": name, "size": len(data), "content_type": "text/plain"})
    assert created.status_code == 201, created.body
    upload(created.data["upload"], data)
    file_id = created.data["file"]["file_id"]
    assert api.call("POST", f"/api/files/{file_id}/complete").status_code == 200
    made = api.call("POST", f"/api/files/{file_id}/links", link)
    assert made.status_code == 201, made.body
    return created.data["file"], made.data["link"]
