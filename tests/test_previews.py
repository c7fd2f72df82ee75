"""Previews on a file link's page: which files get one, and how S3 serves it."""

from __future__ import annotations

import html
import re

import pytest
import requests
from conftest import Api, scanned, upload

from chalicelib import previews, storage
from chalicelib.config import MiB


@pytest.mark.parametrize(
    ("content_type", "size", "kind"),
    [
        ("image/png", 1000, "image"),
        ("IMAGE/JPEG; charset=binary", 1000, "image"),
        ("image/webp", previews.MAX_BYTES["image"], "image"),
        ("image/png", previews.MAX_BYTES["image"] + 1, None),
        ("image/svg+xml", 1000, None),
        ("application/pdf", 40 * MiB, "pdf"),
        ("text/plain; charset=utf-8", 1000, "text"),
        ("text/csv", 1000, "text"),
        ("text/plain", previews.MAX_BYTES["text"] + 1, None),
        ("text/html", 1000, None),
        ("application/xhtml+xml", 1000, None),
        ("text/javascript", 1000, None),
        ("application/zip", 1000, None),
        ("image/png", 0, None),
    ],
)
def test_only_images_but_svg_pdfs_and_plain_text_under_their_cap_are_previewed(content_type, size, kind):
    assert previews.kind_of(content_type, size) == kind


def test_an_inline_disposition_keeps_the_encoded_name():
    assert storage.content_disposition("Grüße.pdf", "inline") == (
        "inline; filename=\"Grue.pdf\"; filename*=UTF-8''Gr%C3%BC%C3%9Fe.pdf"
    )


def _shared(api: Api, name: str, data: bytes, content_type: str) -> dict:
    created = api.call("POST", "/api/files", {"name": name, "size": len(data), "content_type": content_type})
    upload(created.data["upload"], data)
    file_id = created.data["file"]["file_id"]
    assert api.call("POST", f"/api/files/{file_id}/complete").status_code == 200
    scanned()
    return api.call("POST", f"/api/files/{file_id}/links", {}).data["link"]


def _preview_url(page: str) -> str | None:
    found = re.search(r'<(?:img|iframe) src="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else None


def test_a_preview_is_shown_inline_with_a_type_that_cannot_run(member, anonymous):
    pdf = _shared(member, "plan.pdf", b"%PDF-1.4 not really", "application/pdf")
    text = _shared(member, "notes.txt", b"<script>alert(1)</script>", "text/plain")

    for link, served_as, data in (
        (pdf, "application/pdf", b"%PDF-1.4 not really"),
        (text, "text/plain; charset=utf-8", b"<script>alert(1)</script>"),
    ):
        page = anonymous.call("GET", f"/s/{link['token']}").body.decode()
        shown = requests.get(_preview_url(page))
        assert shown.status_code == 200 and shown.content == data
        assert shown.headers["Content-Type"] == served_as
        assert shown.headers["Content-Disposition"].startswith("inline;")


def test_files_without_a_preview_only_download_and_a_preview_counts_no_download(member, anonymous):
    svg = _shared(member, "logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml")
    png = _shared(member, "dot.png", b"\x89PNG not really", "image/png")

    assert _preview_url(anonymous.call("GET", f"/s/{svg['token']}").body.decode()) is None
    assert _preview_url(anonymous.call("GET", f"/s/{png['token']}").body.decode()) is not None
    listed = member.call("GET", f"/api/files/{png['file_id']}/links").data["links"]
    assert listed[0]["downloads"] == 0
