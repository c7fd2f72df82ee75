"""The member console in a real browser: a member signs in, uploads, shares by link and QR code,
revokes, shares a folder, and reads the history; recipients use the links in their own browsers."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import SCREENSHOTS, MiB, refuse_as_expired, shared_file
from conftest import browser_expect as _expect

from chalicelib import clock

ZONE = "Europe/Berlin"
DAY = timedelta(days=1)
PASSWORD = "Secret-pass-1"


@pytest.fixture
def console(chromium, served, member):
    """A member's browser (British English, Berlin time) that may use the clipboard; not signed in yet."""
    desktop = {"width": 1280, "height": 860}
    context = chromium.new_context(
        accept_downloads=True, base_url=served, locale="en-GB", timezone_id=ZONE, viewport=desktop
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served)
    SCREENSHOTS.mkdir(exist_ok=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def recipient(chromium):
    """Someone outside the team, in a browser of their own."""
    context = chromium.new_context(accept_downloads=True)
    yield context.new_page()
    context.close()


def _sign_in(page, email: str = "alice@example.com") -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _drawn(code) -> list[str]:
    """Wait until the page has drawn a QR code into an <svg>; its dark modules, row by row ("0"/"1")."""
    code.page.wait_for_function("svg => svg.dataset.qrModules", arg=code.element_handle())
    count = int(code.get_attribute("data-qr-modules"))
    quiet = (int(code.get_attribute("viewBox").split()[2]) - count) // 2
    moves = re.findall(r"M(\d+) (\d+)h1", code.locator("path").get_attribute("d"))
    dark = {(int(x) - quiet, int(y) - quiet) for x, y in moves}
    return ["".join("1" if (column, row) in dark else "0" for column in range(count)) for row in range(count)]


def _encodes(drawn: list[str], url: str) -> bool:
    """Whether a drawn code is the QR code of `url` (byte mode, error correction M), in one of the
    eight masks the standard allows: what the server prints for it, module for module."""
    import qrcode

    for mask in range(8):
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=mask)
        code.add_data(url, optimize=0)
        code.make(fit=True)
        if ["".join("1" if dark else "0" for dark in row) for row in code.get_matrix()] == drawn:
            return True
    return False


def _browser_today(page) -> date:
    """The day it is where the browser is (its clock and zone), which the dialog's choices count from."""
    return date(
        *page.evaluate("() => { const d = new Date(); return [d.getFullYear(), d.getMonth() + 1, d.getDate()]; }")
    )


def _expect_end_of_day(element, day: date) -> None:
    """A <time> showing the end of `day` in the browser's zone, in the words the page itself uses."""
    moment = datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(ZONE))
    iso = clock.iso(moment)
    _expect()(element).to_have_attribute("datetime", iso)
    # The page formats with the browser's locale (en-GB writes "6 Dec 2026", "15 Sept"): ask it.
    shown = element.page.evaluate(
        "iso => new Date(iso).toLocaleString(undefined, {dateStyle: 'medium', timeStyle: 'short'})", iso
    )
    _expect()(element).to_have_text(shown)


def _shot(page, name: str, full_page: bool = True) -> None:
    page.screenshot(path=str(SCREENSHOTS / name), full_page=full_page)


def _create_link(page, *, quick: str, allow_upload: bool = False, people: str = "", shot: str | None = None) -> str:
    """Fill in the Create external link dialog; the URL the dialog shows at once."""
    expect = _expect()
    page.get_by_role("button", name="Create external link").click()
    dialog = page.get_by_role("dialog", name="Create external link")
    dialog.get_by_role("button", name=quick, exact=True).click()
    if allow_upload:
        dialog.get_by_label("Allow upload").check()
    dialog.get_by_label("People").fill(people)
    expect(dialog.get_by_text("Anyone who has this link can open it")).to_be_visible(visible=not people)
    if shot:
        _shot(page, shot, full_page=False)
    dialog.get_by_role("button", name="Create link").click()
    created = page.get_by_role("dialog").filter(has_text="Link created")
    drawn = _drawn(created.get_by_role("img", name="QR code of the new link"))
    url = created.get_by_label("Link", exact=True).input_value()
    assert _encodes(drawn, url)
    if shot:
        _shot(page, shot.replace(".png", "-created.png"), full_page=False)
    created.get_by_role("button", name="Done").click()
    return url


def test_a_member_shares_a_file_and_a_folder_from_the_console(console, recipient, served, member):
    expect = _expect()
    page = console
    folder_name = f"Riverside project {uuid.uuid4().hex[:4].upper()}"
    small = b"Site plan, revision 3\n" * 100
    large = bytes(range(256)) * (11 * MiB // 256)  # above the test stack's multipart threshold: 3 parts

    # Sign in through the hosted login page and come back to the console.
    page.goto("/console")
    assert "/local-login/oauth2/authorize" in page.url
    _sign_in(page)
    page.wait_for_url(f"{served}/console")

    # A folder, and two files uploaded into it (the large one in parts).
    page.get_by_label("Folder name").fill(folder_name)
    page.get_by_role("button", name="Create folder").click()
    page.get_by_role("link", name=folder_name, exact=True).click()
    page.wait_for_url(re.compile(r"/console/folders/[0-9a-f]{32}$"))
    expect(page.get_by_text("This folder is empty")).to_be_visible()
    page.get_by_label("Folder name").fill("Drawings")
    page.get_by_role("button", name="Create folder").click()
    expect(page.get_by_role("link", name="Drawings", exact=True)).to_be_visible()
    page.get_by_label("Upload files").set_input_files(
        [
            {"name": "Site plan.txt", "mimeType": "text/plain", "buffer": small},
            {"name": "Survey.bin", "mimeType": "application/octet-stream", "buffer": large},
        ]
    )
    expect(page.get_by_role("link", name="Survey.bin", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Site plan.txt", exact=True)).to_be_visible()
    expect(page.get_by_text("Upload not finished")).to_have_count(0)
    assert page.locator("tr", has_text="Survey.bin").get_by_text("11.5 MB").is_visible()
    _shot(page, "console-folder.png")
    folder_url = page.url

    # The detail manager of the small file, and a link valid seven days that allows upload.
    page.get_by_role("link", name="Details of Site plan.txt").click()
    expect(page.get_by_role("heading", name="Site plan.txt")).to_be_visible()
    page.get_by_role("link", name="External links").click()
    expect(page.get_by_text("No external links yet")).to_be_visible()
    url = _create_link(page, quick="7 days", allow_upload=True, shot="console-link-dialog.png")
    assert url.startswith(f"{served}/s/")
    token = url.rsplit("/", 1)[1]

    # The row, column by column.
    row = page.locator("tr.link-row", has=page.locator(f'input[value="{url}"]'))
    assert _encodes(_drawn(row.get_by_role("img", name="QR code of the link")), url)
    assert row.get_by_role("textbox", name=f"Link {token[:8]}").input_value() == url
    expect(row.locator("td[data-label=Upload]")).to_have_text("Allowed")
    expect(row.locator("td[data-label='Require login']")).to_have_text("No")
    _expect_end_of_day(row.locator("td[data-label='Valid until'] time"), _browser_today(page) + 7 * DAY)
    expect(row.locator("td[data-label=Downloads]")).to_have_text("0")
    expect(row.get_by_text("Works for anyone who has it.")).to_be_visible()
    expect(row.get_by_text("For sensitive files, require login.")).to_be_visible()

    # A second link, only for a named partner, who must sign in.
    partners_only = _create_link(page, quick="30 days", people="olivia@partner.example")
    second = page.locator("tr.link-row", has=page.locator(f'input[value="{partners_only}"]'))
    expect(second.locator("td[data-label='Require login']")).to_contain_text("Yes")
    expect(second.locator("td[data-label='Require login']")).to_contain_text("olivia@partner.example")
    expect(second.get_by_text("Works for anyone")).to_have_count(0)
    assert _encodes(_drawn(second.get_by_role("img", name="QR code of the link")), partners_only)
    _shot(page, "console-links.png")

    # Copy the link; enlarge its QR code and download it as PNG.
    row.get_by_role("button", name=f"Copy link {token[:8]}").click()
    expect(row.get_by_role("button", name=f"Copy link {token[:8]}")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == url
    row.get_by_role("button", name=re.compile("Enlarge the QR code")).click()
    enlarged = page.get_by_role("dialog", name="Scan to open the link")
    assert _encodes(_drawn(enlarged.get_by_role("img")), url)
    _shot(page, "console-qr.png", full_page=False)
    with page.expect_download() as png:
        enlarged.get_by_role("link", name="PNG").click()
    with open(png.value.path(), "rb") as saved:
        assert saved.read(8) == b"\x89PNG\r\n\x1a\n"
    enlarged.get_by_role("button", name="Close").click()

    # The recipient opens the link in a browser of their own and downloads.
    recipient.goto(url)
    expect(recipient.get_by_role("heading", name="Site plan.txt")).to_be_visible()
    _shot(recipient, "recipient-landing.png")
    with recipient.expect_download() as download:
        recipient.get_by_role("button", name="Download").click()
    assert download.value.suggested_filename == "Site plan.txt"
    with open(download.value.path(), "rb") as saved:
        assert saved.read() == small
    page.reload()
    expect(row.locator("td[data-label=Downloads]")).to_have_text("1")

    # Revoke: the recipient gets the page for links no longer available.
    row.get_by_role("button", name=f"Revoke link {token[:8]}").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke link").click()
    expect(row.locator("td[data-label='Valid until']")).to_contain_text("Revoked")
    expect(row.get_by_role("button", name=f"Revoke link {token[:8]}")).to_have_count(0)
    gone = recipient.goto(url)
    assert gone.status == 410
    expect(recipient.get_by_role("heading", name="This link is no longer available")).to_be_visible()

    # Share the whole folder (no end date: the console warns) and download a file from its page.
    page.goto(folder_url)
    page.get_by_role("link", name="Share folder").click()
    folder_link = _create_link(page, quick="Never")
    folder_row = page.locator("tr.link-row", has=page.locator(f'input[value="{folder_link}"]'))
    expect(folder_row.locator("td[data-label='Valid until']")).to_have_text("never")
    expect(folder_row.get_by_text("with no end date")).to_be_visible()
    recipient.goto(folder_link)
    expect(recipient.get_by_role("heading", name=folder_name)).to_be_visible()
    _shot(recipient, "recipient-folder.png")
    with recipient.expect_download() as download:
        recipient.get_by_role("link", name="Download Survey.bin").click()
    with open(download.value.path(), "rb") as saved:
        assert saved.read() == large

    # The History tabs show each of those events, newest first, with who, IP, browser and link.
    page.get_by_role("link", name="History").click()
    history = page.locator("table.history tbody tr")
    expect(history.first).to_contain_text("Downloaded")
    events = [" ".join(text.split()) for text in history.all_inner_texts()]
    assert len(events) == 4
    assert "Survey.bin" in events[0] and "Anyone (not signed in)" in events[0]
    assert "Link opened" in events[1] and "Link created" in events[2] and "Folder created" in events[3]
    assert folder_link.rsplit("/", 1)[1][:8] in events[0] and "127.0.0.1" in events[0]
    assert re.search(r"Chrome \d+ \(headless\) on Linux", events[0])
    assert page.get_by_role("link", name="Export as CSV").get_attribute("href").endswith("/events.csv")

    page.goto(folder_url)
    page.get_by_role("link", name="Details of Site plan.txt").click()
    page.get_by_role("link", name="History").click()
    expect(history.first).to_contain_text("Opened after it stopped working")
    events = [" ".join(text.split()) for text in history.all_inner_texts()]
    # The malware scan's answer lands whenever the scan ends: somewhere after the upload.
    scanned = [event for event in events if "Checked: no malware found" in event]
    assert len(scanned) == 1 and "Malware scan" in scanned[0]
    events = [event for event in events if event not in scanned]
    kinds = [next(k for k in _KINDS if k in event) for event in events]
    assert kinds == [
        "Opened after it stopped working",
        "Link revoked",
        "Downloaded",
        "Link opened",
        "Link created",
        "Link created",
        "File uploaded",
    ]
    for event in events[:4] + events[5:6]:
        assert token[:8] in event
    assert partners_only.rsplit("/", 1)[1][:8] in events[4] and "olivia@partner.example" in events[4]
    assert "alice@example.com (member)" in events[1] and "Anyone (not signed in)" in events[2]
    assert "the link was revoked" in events[0]

    # Filtered to the first link's downloads: one row; every time shows its seconds on hover.
    page.get_by_label("Kind").select_option(label="Downloaded")
    page.get_by_label("Link", exact=True).select_option(token[:8])
    page.get_by_role("button", name="Filter").click()
    expect(history).to_have_count(1)
    expect(history.first).to_contain_text("Downloaded")
    moment = history.first.locator("time")
    with_seconds = page.evaluate(
        "iso => new Date(iso).toLocaleString(undefined, {dateStyle: 'full', timeStyle: 'long'})",
        moment.get_attribute("datetime"),
    )
    expect(moment).to_have_attribute("title", with_seconds)
    _shot(page, "console-history.png")


_KINDS = (
    "Opened after it stopped working",
    "Link revoked",
    "Downloaded",
    "Link opened",
    "Link created",
    "File uploaded",
)


def test_the_links_tab_is_one_request_however_many_links_it_lists(console, served, member):
    expect = _expect()
    file, first = shared_file(member, name="Many links.txt")
    more = [member.call("POST", f"/api/files/{file['file_id']}/links", {}).data["link"] for _ in range(19)]
    tokens = [first["token"]] + [link["token"] for link in more]
    page = console
    page.goto("/console")
    _sign_in(page)
    page.wait_for_url(f"{served}/console")
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))

    tab = f"{served}/console/items/{file['file_id']}?tab=links"
    page.goto(tab)
    expect(page.get_by_role("img", name="QR code of the link")).to_have_count(20)
    for url in (f"{served}/s/{token}" for token in (tokens[0], tokens[9], tokens[-1])):
        row = page.locator("tr.link-row", has=page.locator(f'input[value="{url}"]'))
        assert _encodes(_drawn(row.get_by_role("img", name="QR code of the link")), url)
    page.wait_for_load_state("networkidle")

    # Besides its stylesheet and scripts (the same for every page), the tab is the page alone.
    assert [url for url in asked if "/static/" not in url] == [tab]


def test_the_link_dialog_checks_options_before_sending(console, served):
    expect = _expect()
    page = console
    page.goto("/console")
    _sign_in(page)
    page.wait_for_url(f"{served}/console")
    name = f"Checked {uuid.uuid4().hex[:4]}.txt"
    page.get_by_label("Upload files").set_input_files([{"name": name, "mimeType": "text/plain", "buffer": b"x"}])
    page.get_by_role("link", name=f"Details of {name}").click()
    page.get_by_role("link", name="External links").click()

    page.get_by_role("button", name="Create external link").click()
    dialog = page.get_by_role("dialog", name="Create external link")
    dialog.get_by_label("Valid until").fill("2020-01-01")
    dialog.get_by_label("People").fill("olivia@partner.example, not-an-address")
    expect(dialog.get_by_label("Require login")).to_be_checked()
    expect(dialog.get_by_label("Require login")).to_be_disabled()
    dialog.get_by_role("button", name="Create link").click()

    expect(dialog.get_by_text("Valid until must be today or later.")).to_be_visible()
    expect(dialog.get_by_text("“not-an-address” is not an email address.")).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    page.reload()
    expect(page.get_by_text("No external links yet")).to_be_visible()

    # A group that does not exist is refused by the server: the dialog says why.
    page.get_by_role("button", name="Create external link").click()
    dialog.get_by_label("Groups").fill("no-such-group")
    dialog.get_by_role("button", name="Create link").click()
    expect(dialog.get_by_text("There is no group named 'no-such-group'.")).to_be_visible()

    # Named people and a group: the row shows them under Require login.
    dialog.get_by_label("Groups").fill("members")
    dialog.get_by_label("People").fill("Olivia@Partner.example")
    dialog.get_by_role("button", name="30 days").click()
    dialog.get_by_role("button", name="Create link").click()
    page.get_by_role("dialog").get_by_role("button", name="Done").click()
    cell = page.locator("tr.link-row td[data-label='Require login']")
    expect(cell).to_contain_text("Yes")
    expect(cell).to_contain_text("olivia@partner.example")
    expect(cell).to_contain_text("group members")
    expect(page.get_by_text("Works for anyone")).to_have_count(0)


def _days_ahead_of_edges() -> list[date]:
    """Browser "todays" whose +7 days land on the 1st of a month and in September, always in the future."""
    today = datetime.now(ZoneInfo(ZONE)).date()
    first = (today.replace(day=1) + 32 * DAY).replace(day=1)
    september = today.replace(month=9, day=3)
    if september <= today + 7 * DAY:
        september = september.replace(year=today.year + 1)
    return [first - 7 * DAY, september - 7 * DAY]


@pytest.mark.parametrize("today", _days_ahead_of_edges(), ids=["first-of-a-month", "september"])
def test_valid_until_reads_as_the_browser_writes_it_on_any_day(console, served, today: date):
    expect = _expect()
    page = console
    # The browser's clock moves to that day (the server's stays: the day is ahead of it).
    page.clock.set_system_time(datetime.combine(today, time(10, 0), tzinfo=ZoneInfo(ZONE)))
    page.goto("/console")
    _sign_in(page)
    page.wait_for_url(f"{served}/console")
    name = f"Dated {uuid.uuid4().hex[:4]}.txt"
    page.get_by_label("Upload files").set_input_files([{"name": name, "mimeType": "text/plain", "buffer": b"x"}])
    page.get_by_role("link", name=f"Details of {name}").click()
    page.get_by_role("link", name="External links").click()

    _create_link(page, quick="7 days")

    expect(page.locator("tr.link-row")).to_have_count(1)
    _expect_end_of_day(page.locator("tr.link-row td[data-label='Valid until'] time"), today + 7 * DAY)


def test_rename_and_delete_from_the_console(console, served):
    expect = _expect()
    page = console
    page.goto("/console")
    _sign_in(page)
    page.wait_for_url(f"{served}/console")
    name = f"Draft {uuid.uuid4().hex[:4]}"
    page.get_by_label("Folder name").fill(name)
    page.get_by_role("button", name="Create folder").click()

    page.get_by_role("button", name=f"Rename {name}").click()
    page.get_by_role("dialog").get_by_label("New name").fill(f"{name} final")
    page.get_by_role("dialog").get_by_role("button", name="Rename").click()
    expect(page.get_by_role("link", name=f"{name} final", exact=True)).to_be_visible()

    page.get_by_role("button", name=f"Delete {name} final").click()
    confirm = page.get_by_role("dialog")
    expect(confirm).to_contain_text("and everything in it")
    confirm.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("link", name=f"{name} final", exact=True)).to_be_visible()
    page.get_by_role("button", name=f"Delete {name} final").click()
    confirm.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("link", name=f"{name} final", exact=True)).to_have_count(0)


def test_a_confirmation_answers_to_the_keyboard(console, served):
    expect = _expect()
    page = console
    page.goto("/console")
    _sign_in(page)
    page.wait_for_url(f"{served}/console")
    name = f"Keys {uuid.uuid4().hex[:4]}"
    page.get_by_label("Folder name").fill(name)
    page.get_by_role("button", name="Create folder").click()
    folder = page.get_by_role("link", name=name, exact=True)
    delete = page.get_by_role("button", name=f"Delete {name}")

    delete.focus()
    page.keyboard.press("Enter")
    confirm = page.get_by_role("dialog", name="Are you sure?")
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()  # Enter again does no harm
    page.keyboard.press("Escape")
    expect(confirm).to_be_hidden()
    expect(delete).to_be_focused()
    expect(folder).to_be_visible()

    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(confirm.get_by_role("button", name="Delete")).to_be_focused()
    page.keyboard.press("Enter")
    expect(folder).to_have_count(0, timeout=15_000)  # a delete, then a reload: slow on a busy machine


def test_the_console_works_on_a_phone(chromium, served, member):
    expect = _expect()
    context = chromium.new_context(
        base_url=served, viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        page.goto("/console")
        _sign_in(page)
        page.wait_for_url(f"{served}/console")
        name = f"Phone {uuid.uuid4().hex[:4]}.txt"
        page.get_by_label("Upload files").set_input_files([{"name": name, "mimeType": "text/plain", "buffer": b"hi"}])
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        _shot(page, "phone-console-folder.png", full_page=False)

        page.get_by_role("link", name=f"Details of {name}").click()
        page.get_by_role("link", name="External links").click()
        _create_link(page, quick="1 day")
        qr = page.locator("tr.link-row").first.get_by_role("img", name="QR code of the link")
        _drawn(qr)
        assert qr.bounding_box()["width"] >= 180  # big enough to scan from the phone's screen
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.locator("tr.link-row").first.evaluate("row => row.scrollIntoView()")
        _shot(page, "phone-console-links.png", full_page=False)
    finally:
        context.close()


def test_an_upload_outlives_a_failed_renewal_of_its_urls(console, served):
    expect = _expect()
    page = console
    page.goto("/console")
    _sign_in(page)
    page.wait_for_url(f"{served}/console")
    renewals, refusals = [], []

    def storage_refuses_part_one_twice(route):
        if len(refusals) < 2:
            refusals.append(route.request.url)
            refuse_as_expired(route)
        else:
            route.continue_()

    def first_renewal_fails(route):
        renewals.append(route.request.url)
        if len(renewals) == 1:
            route.fulfill(
                status=503, content_type="application/json", body='{"error": {"code": "x", "message": "busy"}}'
            )
        else:
            route.continue_()

    page.route(re.compile(r"partNumber=1&"), storage_refuses_part_one_twice)
    page.route(re.compile(r"/api/files/[0-9a-f]{32}/upload$"), first_renewal_fails)
    name = f"Renewed {uuid.uuid4().hex[:4]}.bin"
    page.get_by_label("Upload files").set_input_files(
        [{"name": name, "mimeType": "application/octet-stream", "buffer": bytes(7 * MiB)}]
    )

    expect(page.get_by_role("link", name=name, exact=True)).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Upload not finished")).to_have_count(0)
    assert len(refusals) == 2
    assert len(renewals) == 2  # the failed renewal was forgotten, and the next refusal asked again
