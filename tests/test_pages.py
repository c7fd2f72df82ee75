"""Recipient pages: readable, escaped, and sent with the headers that keep tokens private."""

from __future__ import annotations

from conftest import shared_file


def _assert_private(headers) -> None:
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "noindex" in headers["X-Robots-Tag"]


def test_landing_page_describes_the_file_and_keeps_the_token_private(member, anonymous):
    _, link = shared_file(member, b"x" * 2048, name="plan.txt", valid_until="2026-12-31")

    page = anonymous.call("GET", f"/s/{link['token']}")

    _assert_private(page.headers)
    html = page.body.decode()
    assert '<meta name="robots" content="noindex, nofollow">' in html
    for fact in ("plan.txt", "2.0 KB", "text/plain", "31 Dec 2026", "Download"):
        assert fact in html


def test_names_are_escaped_on_pages(member, anonymous):
    _, link = shared_file(member, name="<script>alert(1)</script>.txt")

    html = anonymous.call("GET", f"/s/{link['token']}").body.decode()

    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.txt" in html


def test_error_pages_are_readable_and_private(anonymous):
    page = anonymous.call("GET", "/s/not-a-real-link")

    assert page.status_code == 404
    assert page.headers["Content-Type"].startswith("text/html")
    _assert_private(page.headers)
    assert "Ask the person who sent it" in page.body.decode()


def test_stylesheet_is_served_and_nothing_else_from_static(anonymous):
    assert anonymous.call("GET", "/static/handover.css").status_code == 200
    assert anonymous.call("GET", "/static/..%2Fbase.html").status_code == 404
    assert anonymous.call("GET", "/static/missing.css").status_code == 404
