"""In a real browser: a recipient sends a new version from the landing page and gets the same bytes back."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import MiB, refuse_as_expired, shared_file
from playwright.sync_api import expect


@pytest.fixture
def context(chromium):
    context = chromium.new_context(accept_downloads=True)
    yield context
    context.close()


def _send(page, path: Path) -> None:
    page.set_input_files("#upload input[type=file]", str(path))
    page.click("#upload button")
    # The partner learns that the malware scan accepted it (the dev stack's stand-in scans it).
    expect(page.locator("#upload .upload-status")).to_contain_text("Accepted: no malware found", timeout=60_000)
    assert page.eval_on_selector("#upload progress", "bar => bar.value") == 100


def _download(page) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.get_by_role("button", name="Download").click()
    return info.value.suggested_filename, Path(info.value.path()).read_bytes()


@pytest.mark.parametrize("size", [3000, 11 * MiB + 3], ids=["presigned POST", "parts in parallel"])
def test_recipient_sends_a_new_version_and_downloads_it_back_through_the_link(member, served, context, tmp_path, size):
    _, link = shared_file(member, b"the original", allow_upload=True)
    data = os.urandom(size)
    path = tmp_path / "signed contract.pdf"
    path.write_bytes(data)
    page = context.new_page()
    shown: list[str] = []
    page.on("console", lambda message: shown.append(message.text))

    page.goto(f"{served}/s/{link['token']}")
    _send(page, path)
    # The page shows the version just sent, under the file's own name, and Send waits for another file.
    expect(page.get_by_role("heading", name="report.txt")).to_be_visible()
    shown_size = page.evaluate("size => import('./../static/bytes.js').then(m => m.formatBytes(size))", size)
    expect(page.locator("[data-file-size]")).to_have_text(shown_size)
    expect(page.locator("#upload button")).to_be_disabled()
    page.set_input_files("#upload input[type=file]", str(path))
    expect(page.locator("#upload button")).to_be_enabled()
    page.reload()
    expect(page.locator("[data-file-size]")).to_have_text(shown_size)
    name, fetched = _download(page)

    assert name == "report.txt"  # the file keeps its own name; the owner sees what it was sent as
    assert fetched == data
    assert not [text for text in shown if "Content Security Policy" in text]


def test_an_upload_cut_off_resumes_from_the_parts_already_in_s3(member, served, context, tmp_path):
    _, link = shared_file(member, b"the original", allow_upload=True)
    data = os.urandom(16 * MiB)  # 4 parts of the tests' 5 MiB, the last one short
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    first = context.new_page()

    # The connection drops for every part but the first; then the tab is closed.
    def only_part_one(route):
        request = route.request
        if request.method == "PUT" and "partNumber=" in request.url and "partNumber=1&" not in request.url:
            route.abort("connectionreset")
        else:
            route.continue_()

    first.route("**/*", only_part_one)
    first.goto(f"{served}/s/{link['token']}")
    first.set_input_files("#upload input[type=file]", str(path))
    with first.expect_response(lambda r: r.request.method == "PUT" and "partNumber=1&" in r.url) as part_one:
        first.click("#upload button")
    assert part_one.value.status == 200
    # Leave the page before closing it: a retry held by the route when the tab closes would go out.
    first.goto("about:blank")
    first.close()

    again = context.new_page()
    parts_sent: list[str] = []
    again.on(
        "request",
        lambda r: parts_sent.append(r.url.split("partNumber=")[1].split("&")[0]) if r.method == "PUT" else None,
    )
    again.goto(f"{served}/s/{link['token']}")
    _send(again, path)

    # Part 1 is never sent again. (A part in flight when the first tab closed may have
    # reached S3 after all: then it is not sent again either.)
    assert parts_sent and set(parts_sent) <= {"2", "3", "4"}
    assert _download(again)[1] == data


@pytest.mark.parametrize("size", [3000, 7 * MiB], ids=["presigned POST", "parts"])
def test_storage_refusing_an_expired_url_makes_the_page_ask_the_link_for_fresh_ones(
    member, served, stack, context, tmp_path, size
):
    _, link = shared_file(member, b"the original", allow_upload=True)
    data = os.urandom(size)
    path = tmp_path / "late.bin"
    path.write_bytes(data)
    page = context.new_page()
    refusals, renewals = [], []

    def storage_refuses_the_first_write(route):
        if route.request.method in ("POST", "PUT") and not refusals:
            refusals.append(route.request.url)
            refuse_as_expired(route)
        else:
            route.continue_()

    def count_renewal(route):
        renewals.append(route.request.url)
        route.continue_()

    page.route(f"{stack.s3_endpoint}/**", storage_refuses_the_first_write)
    page.route(re.compile(r"/uploads/[^/]+/plan$"), count_renewal)
    page.goto(f"{served}/s/{link['token']}")
    _send(page, path)

    assert len(refusals) == 1 and len(renewals) == 1
    page.reload()
    assert _download(page)[1] == data


def test_the_script_writes_sizes_as_the_pages_do(member, served, context, tmp_path):
    from chalicelib.pages import filesize

    _, link = shared_file(member, b"the original", allow_upload=True)
    page = context.new_page()
    page.goto(f"{served}/s/{link['token']}")
    # Exact halves (1.25 KB) are where JavaScript's toFixed and Python's format differ.
    sizes = [0, 1, 999, 1000, 1049, 1050, 1250, 1750, 2250, 999_949, 999_950, 999_999, 10**6, 11 * MiB + 3]
    sizes += [k * 250 * 10**e for k in (1, 3, 5, 7, 9, 41, 4001) for e in range(0, 13, 3)] + [10**15, 37 * 10**16]
    shown = page.evaluate(
        """async sizes => {
            const src = document.querySelector('script[src$="/upload.js"]').src;
            const { formatBytes } = await import(src.replace(/upload\\.js$/, "bytes.js"));
            return sizes.map(formatBytes);
        }""",
        sizes,
    )
    assert shown == [filesize(size) for size in sizes]

    path = tmp_path / "quarter.txt"
    path.write_bytes(b"x" * 1250)
    page.set_input_files("#upload input[type=file]", str(path))
    expect(page.locator("#upload .drop-text")).to_have_text(f"quarter.txt ({filesize(1250)})")


def test_urls_near_the_end_of_their_life_are_renewed_before_a_part_uses_them(member, served, context, tmp_path):
    _, link = shared_file(member, b"the original", allow_upload=True)
    data = os.urandom(21 * MiB)  # 5 parts: the fifth starts after one of the first four is done
    path = tmp_path / "long.bin"
    path.write_bytes(data)
    page = context.new_page()
    renewals, moved = [], []

    # The first part held here moves the clock before any part can finish and let the fifth start.
    def clock_moves_on_as_the_first_part_leaves(route):
        if route.request.method == "PUT" and not moved:
            # Four minutes and a half later, by the browser's clock: the URLs' life (300 s) is nearly over.
            moved.append(page.evaluate("Date.now()"))
            page.clock.set_system_time(datetime.fromtimestamp(moved[0] / 1000 + 270, UTC))
        route.continue_()

    def count_renewal(route):
        renewals.append(route.request.url)
        route.continue_()

    page.route(re.compile(r"partNumber="), clock_moves_on_as_the_first_part_leaves)
    page.route(re.compile(r"/uploads/[^/]+/plan$"), count_renewal)
    page.goto(f"{served}/s/{link['token']}")
    _send(page, path)

    assert moved and len(renewals) == 1
    page.reload()
    assert _download(page)[1] == data


def test_the_partner_learns_that_an_infected_file_was_not_accepted(member, served, context, tmp_path):
    from devstack.scanner import EICAR

    _, link = shared_file(member, b"the original", allow_upload=True, ask_sender="required")
    path = tmp_path / "invoice.pdf"
    path.write_bytes(EICAR)
    page = context.new_page()
    page.goto(f"{served}/s/{link['token']}")

    page.fill("#upload input[name=sender_name]", "Pat Partner")
    page.fill("#upload input[name=sender_email]", "pat@partner.example")
    page.set_input_files("#upload input[type=file]", str(path))
    page.click("#upload button")

    expect(page.locator("#upload .upload-status")).to_contain_text("Not accepted: malware was found", timeout=60_000)
    page.reload()
    assert _download(page)[1] == b"the original"
