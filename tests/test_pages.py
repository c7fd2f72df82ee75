"""Recipient pages: readable, escaped, and sent with the headers that keep tokens private."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import time_machine
from conftest import shared_file

from chalicelib import pages


def _assert_private(headers) -> None:
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "noindex" in headers["X-Robots-Tag"]


def test_landing_page_describes_the_file_and_keeps_the_token_private(member, anonymous):
    until = datetime.now(UTC).date() + timedelta(days=40)
    _, link = shared_file(member, b"x" * 2048, name="plan.txt", valid_until=str(until))
    # A bare date ends with that day in UTC; the page writes it as pages.readable does.
    shown = pages.readable(datetime.combine(until, time(23, 59, 59), tzinfo=UTC))

    page = anonymous.call("GET", f"/s/{link['token']}")

    _assert_private(page.headers)
    html = page.body.decode()
    assert '<meta name="robots" content="noindex, nofollow">' in html
    for fact in ("plan.txt", "2.0 KB", "text/plain", shown, "Download"):
        assert fact in html


def test_names_are_escaped_on_pages(member, anonymous):
    _, link = shared_file(member, name="<script>alert(1)</script>.txt")

    html = anonymous.call("GET", f"/s/{link['token']}").body.decode()

    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.txt" in html


def test_error_pages_are_readable_and_private(anonymous):
    # A throttle window of its own: other tests' misses from this address do not count here.
    with time_machine.travel(datetime.now(UTC) + timedelta(days=230)):
        page = anonymous.call("GET", "/s/not-a-real-link")

    assert page.status_code == 404
    assert page.headers["Content-Type"].startswith("text/html")
    _assert_private(page.headers)
    assert "Ask the person who sent it" in page.body.decode()


def test_stylesheet_is_served_and_nothing_else_from_static(anonymous):
    assert anonymous.call("GET", "/static/handover.css").status_code == 200
    assert anonymous.call("GET", "/static/..%2Fbase.html").status_code == 404
    assert anonymous.call("GET", "/static/missing.css").status_code == 404


def test_every_page_has_an_icon_and_asking_for_favicon_ico_finds_it(anonymous):
    icon = anonymous.call("GET", "/favicon.ico")

    assert icon.status_code == 200 and icon.headers["Content-Type"] == "image/svg+xml"
    assert icon.body == anonymous.call("GET", "/static/favicon.svg").body
    assert '<link rel="icon" href="' in anonymous.call("GET", "/").body.decode()


def test_only_a_link_that_accepts_uploads_offers_the_upload_form(member, anonymous):
    _, plain = shared_file(member)
    _, open_for_uploads = shared_file(member, allow_upload=True)

    without = anonymous.call("GET", f"/s/{plain['token']}").body.decode()
    with_form = anonymous.call("GET", f"/s/{open_for_uploads['token']}").body.decode()

    assert 'id="upload"' not in without
    assert "upload.js" not in without
    # Hidden until the script runs: without JavaScript the page still downloads.
    assert '<section class="upload" id="upload" hidden' in with_form
    assert f'/s/{open_for_uploads["token"]}/uploads"' in with_form
    assert '<script type="module" src="' in with_form and '/static/upload.js"></script>' in with_form


def test_pages_may_connect_to_the_bucket_and_nowhere_else(member, anonymous, stack):
    _, link = shared_file(member, allow_upload=True)
    headers = anonymous.call("GET", f"/s/{link['token']}").headers

    directives = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    assert directives["connect-src"] == f"'self' {stack.s3_endpoint}"
    assert directives["script-src"] == "'self'"


def test_the_uploader_script_is_served_as_javascript(anonymous):
    answer = anonymous.call("GET", "/static/upload.js")

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/javascript")
