"""In a real browser: a folder's recipient downloads it all as one ZIP; a file's recipient sees a
preview of an image, and none of an SVG."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from conftest import SCREENSHOTS, Api, scanned, upload
from playwright.sync_api import expect


@pytest.fixture
def page(chromium, served):
    context = chromium.new_context(accept_downloads=True, base_url=served, viewport={"width": 1100, "height": 800})
    SCREENSHOTS.mkdir(exist_ok=True)
    yield context.new_page()
    context.close()


def _item(api: Api, name: str, data: bytes, content_type: str, folder_id: str | None = None) -> dict:
    body = {"name": name, "size": len(data), "content_type": content_type, "folder_id": folder_id}
    created = api.call("POST", "/api/files", body)
    assert created.status_code == 201, created.body
    upload(created.data["upload"], data)
    done = api.call("POST", f"/api/files/{created.data['file']['file_id']}/complete").data["file"]
    scanned()
    return done


def _folder(api: Api, name: str, parent: str | None = None) -> dict:
    return api.call("POST", "/api/folders", {"name": name, "folder_id": parent}).data["file"]


def _link(api: Api, item: dict) -> dict:
    return api.call("POST", f"/api/files/{item['file_id']}/links", {}).data["link"]


def _png(width: int, height: int) -> bytes:
    """A real PNG of one colour, made by hand (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x2f\x6f\xd8" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def test_recipient_downloads_a_whole_folder_as_one_zip(member, served, page):
    shared = _folder(member, "Site handover")
    drawings = _folder(member, "Drawings", shared["file_id"])
    contents = {
        "Site handover/Checklist.txt": b"1. keys\n2. meters\n",
        "Site handover/Drawings/ground floor.png": _png(40, 30),
        "Site handover/Drawings/notes.txt": b"see the ground floor",
    }
    _item(member, "Checklist.txt", contents["Site handover/Checklist.txt"], "text/plain", shared["file_id"])
    _item(
        member,
        "ground floor.png",
        contents["Site handover/Drawings/ground floor.png"],
        "image/png",
        drawings["file_id"],
    )
    _item(member, "notes.txt", contents["Site handover/Drawings/notes.txt"], "text/plain", drawings["file_id"])
    link = _link(member, shared)

    page.goto(f"{served}/s/{link['token']}")
    button = page.get_by_role("button", name="Download all")
    expect(button).to_be_visible()
    with page.expect_download(timeout=60_000) as info:
        button.click()
    archive = zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes()))
    page.screenshot(path=str(SCREENSHOTS / "recipient-folder.png"), full_page=True)

    assert info.value.suggested_filename == "Site handover.zip"
    assert {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")} == contents
    expect(page.locator("#download-all .zip-status")).to_contain_text("is ready")
    events = member.call("GET", f"/api/files/{shared['file_id']}/events").data["events"]
    assert [e["detail"] for e in events if e["kind"] == "link_downloaded"] == [
        {"file": "Site handover.zip", "files": "3"}
    ]


def test_download_all_is_offered_on_the_shared_folder_only_not_below_it(member, served, page):
    shared = _folder(member, "Outer")
    inner = _folder(member, "Inner", shared["file_id"])
    _item(member, "a.txt", b"a", "text/plain", inner["file_id"])
    link = _link(member, shared)

    page.goto(f"{served}/s/{link['token']}?folder={inner['file_id']}")

    expect(page.get_by_text("a.txt", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Download all")).to_have_count(0)
    page.goto(f"{served}/s/{link['token']}")
    expect(page.get_by_role("button", name="Download all")).to_be_visible()


def test_an_image_is_previewed_from_s3_and_an_svg_is_not(member, served, page):
    image = _link(member, _item(member, "photo.png", _png(64, 48), "image/png"))
    svg = _link(member, _item(member, "logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"))

    page.goto(f"{served}/s/{image['token']}")
    preview = page.get_by_role("img", name="Preview of photo.png")
    expect(preview).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
    assert preview.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [64, 48]
    page.screenshot(path=str(SCREENSHOTS / "recipient-preview.png"), full_page=True)

    page.goto(f"{served}/s/{svg['token']}")
    expect(page.get_by_role("button", name="Download")).to_be_visible()
    expect(page.locator(".preview")).to_have_count(0)
    expect(page.locator("img, iframe")).to_have_count(0)


def test_text_is_previewed_as_plain_text_in_a_sandboxed_frame(member, served, page):
    text = _link(member, _item(member, "notes.txt", "<b>not bold</b> · grüße".encode(), "text/plain"))

    page.goto(f"{served}/s/{text['token']}")
    frame = page.frame_locator("iframe[title='Preview of notes.txt']")

    expect(frame.locator("body")).to_have_text("<b>not bold</b> · grüße")
    assert page.locator("iframe").get_attribute("sandbox") == ""
