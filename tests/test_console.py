"""The member console's pages, server side: who may see them, and what each tab shows."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import time_machine
from conftest import Api, shared_file, signed_in

from chalicelib.console import browser_of, who_label


def _folder(api: Api, name: str, parent: str | None = None) -> dict:
    answer = api.call("POST", "/api/folders", {"name": name, "folder_id": parent})
    assert answer.status_code == 201, answer.body
    return answer.data["file"]


def _page(api: Api, path: str) -> str:
    answer = api.call("GET", path)
    assert answer.status_code == 200, answer.body[:500]
    assert answer.headers["Content-Type"].startswith("text/html")
    return answer.body.decode()


def test_anonymous_visitors_are_sent_to_sign_in_and_back(anonymous):
    for path in ("/console", "/console/folders/0123", "/console/items/0123?tab=links"):
        answer = anonymous.call("GET", path)

        assert answer.status_code == 302
        assert "/auth/login?next=" in answer.headers["Location"]
    assert answer.headers["Location"].endswith("next=%2Fconsole%2Fitems%2F0123%3Ftab%3Dlinks")


def test_people_outside_the_team_get_a_403_page(client, stack):
    partner = Api(client, signed_in(stack, "pat@partner.example", groups=()))

    answer = partner.call("GET", "/console")

    assert answer.status_code == 403
    html = answer.body.decode()
    assert "You do not have access" in html and "pat@partner.example" in html
    assert '/portal">Open what was shared with you</a>' in html and ">403<" not in html


def test_another_members_folders_and_items_are_not_found(member, other_member):
    theirs = _folder(other_member, "Bob's folder")
    their_file, _ = shared_file(other_member, name="bob.txt")
    my_file, _ = shared_file(member, name="mine.txt")

    for path in (
        f"/console/folders/{theirs['file_id']}",
        f"/console/items/{theirs['file_id']}",
        f"/console/items/{their_file['file_id']}?tab=links",
        f"/console/folders/{my_file['file_id']}",  # a file is not a folder
        "/console/folders/not-an-id",
    ):
        answer = member.call("GET", path)
        assert answer.status_code == 404, path
        assert "Bob" not in answer.body.decode()


def test_a_folder_page_lists_what_it_holds_with_a_details_icon_for_each(member):
    top = _folder(member, "Console tour")
    inner = _folder(member, "Inner <b>folder</b>", top["file_id"])
    report, _ = shared_file(member, name="tour.txt")
    moved = member.call("POST", "/api/files", {"name": "in-folder.txt", "size": 5, "folder_id": top["file_id"]})

    root = _page(member, "/console")
    inside = _page(member, f"/console/folders/{top['file_id']}")

    assert f"/console/folders/{top['file_id']}" in root and "tour.txt" in root
    assert f'aria-label="Details of {report["name"]}"' in root
    assert "Inner &lt;b&gt;folder&lt;/b&gt;" in inside and "<b>folder" not in inside
    assert f'/console/items/{inner["file_id"]}" aria-label="Details of Inner &lt;b&gt;folder&lt;/b&gt;"' in inside
    assert "in-folder.txt" in inside and "Upload not finished" in inside
    assert moved.data["file"]["file_id"] in inside
    assert "tour.txt" not in inside


def test_an_empty_folder_says_so(member):
    empty = _folder(member, "Nothing here")

    assert "This folder is empty" in _page(member, f"/console/folders/{empty['file_id']}")


def test_the_detail_manager_has_a_tab_per_view_and_versions_only_for_files(member):
    file, _ = shared_file(member, name="tabs.txt")
    folder = _folder(member, "Tabs")

    file_page = _page(member, f"/console/items/{file['file_id']}")
    folder_page = _page(member, f"/console/items/{folder['file_id']}")
    versions = _page(member, f"/console/items/{file['file_id']}?tab=versions")

    for tab in ("Details", "Versions", "External links", "History"):
        assert f">{tab}</a>" in file_page
    assert ">Versions</a>" not in folder_page and ">External links</a>" in folder_page
    assert "tabs.txt" in versions and "served by links" in versions and "13 bytes" in versions
    assert ">alice@example.com (member)<" in versions and "member:alice" not in versions and "/versions/" in versions
    # An unknown tab, or Versions of a folder, shows the details.
    assert 'aria-current="page">Details</a>' in _page(member, f"/console/items/{folder['file_id']}?tab=versions")


def test_the_links_tab_shows_each_link_with_qr_options_and_downloads(member, anonymous):
    file, open_link = shared_file(member, name="links.txt")
    until = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
    made = member.call(
        "POST",
        f"/api/files/{file['file_id']}/links",
        {"valid_until": until, "allow_upload": True, "recipients": ["ola@partner.example"], "groups": ["members"]},
    )
    restricted = made.data["link"]
    anonymous.call("GET", f"/s/{open_link['token']}/download")

    html = _page(member, f"/console/items/{file['file_id']}?tab=links")

    for column in ("QR", "Link", "Upload", "Require login", "Valid until", "Downloads"):
        assert f'<th scope="col">{column}</th>' in html
    for link in (open_link, restricted):
        # The page draws each QR code from the URL itself; PNG and SVG downloads are for print.
        assert f'data-qr-draw="{link["url"]}"' in html and f'value="{link["url"]}"' in html
        assert f'href="{link["qr_png"]}" download' in html and f'href="{link["qr_svg"]}" download' in html
        assert f'src="{link["qr_svg"]}"' not in html
        assert f'data-revoke="{link["token"]}"' in html
    rows = html.split('<tr class="link-row')
    newest, older = rows[1], rows[2]
    assert "Allowed" in newest and "ola@partner.example" in newest and "<strong>members</strong>" in newest
    assert f'datetime="{until}T23:59:59Z"' in newest
    assert "Works for anyone" not in newest
    assert "Works for anyone who has it, with no end date" in older and "never" in older
    assert re.search(r'data-label="Downloads">1</td>', older)


def test_expired_and_revoked_links_say_so_and_cannot_be_revoked_again(member):
    soon_after = (datetime.now(UTC) + timedelta(seconds=5)).isoformat()
    file, soon = shared_file(member, name="ending.txt", valid_until=soon_after)
    _, gone = shared_file(member, name="other.txt")
    member.call("DELETE", f"/api/links/{gone['token']}")
    revoked_row = _page(member, f"/console/items/{gone['file_id']}?tab=links")

    # Minutes, not days, later: the member's token is still valid then.
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=5)):
        expired_row = _page(member, f"/console/items/{file['file_id']}?tab=links")

    assert "Revoked</span>" in revoked_row and f'data-revoke="{gone["token"]}"' not in revoked_row
    assert "Expired</span>" in expired_row and f'data-revoke="{soon["token"]}"' not in expired_row


def test_revoked_links_come_after_working_ones_and_offer_no_qr_downloads(member):
    file, working = shared_file(member, name="sorted.txt")
    revoked = member.call("POST", f"/api/files/{file['file_id']}/links", {}).data["link"]
    member.call("DELETE", f"/api/links/{revoked['token']}")

    html = _page(member, f"/console/items/{file['file_id']}?tab=links")

    assert html.index(f'value="{working["url"]}"') < html.index(f'value="{revoked["url"]}"')
    assert f"handover-{working['token'][:8]}.png" in html and f"handover-{revoked['token'][:8]}.png" not in html
    # The dialog's groups field suggests the directory's groups (never the admins' own).
    choices = html.split('<datalist id="link-group-choices">')[1].split("</datalist>")[0]
    assert '<option value="members">' in choices and "admins" not in choices


def test_a_file_still_uploading_cannot_be_shared_from_the_console(member):
    created = member.call("POST", "/api/files", {"name": "half.bin", "size": 10})
    file_id = created.data["file"]["file_id"]

    links_tab = _page(member, f"/console/items/{file_id}?tab=links")
    details = _page(member, f"/console/items/{file_id}")

    assert "data-open-link-dialog" not in links_tab and "once its upload has finished" in links_tab
    assert "Resume upload" in details and 'data-size="10"' in details


def test_the_history_tab_pages_newest_first_and_exports_csv(member):
    file, link = shared_file(member, name="busy.txt")
    for number in range(30):
        member.call("PATCH", f"/api/files/{file['file_id']}", {"name": f"busy-{number}.txt"})

    first = _page(member, f"/console/items/{file['file_id']}?tab=history")
    older = re.search(r'href="([^"]+)">Older events</a>', first).group(1).replace("&amp;", "&")
    second = _page(member, older[older.index("/console/") :])

    assert first.count("<tr>") - 1 == 25  # the header row, then a page of events
    assert first.index("busy-29.txt") < first.index("busy-28.txt")
    assert f'/api/files/{file["file_id"]}/events.csv" download' in first
    assert "Link created" in second and "File uploaded" in second and "Newest events" in second
    assert f"<code>{link['token'][:8]}</code>" in second
    assert "alice@example.com (member)" in second


def test_pages_let_scripts_upload_to_s3_and_nowhere_else(member, stack):
    answer = member.call("GET", "/console")

    policy = answer.headers["Content-Security-Policy"]
    assert f"connect-src 'self' {stack.s3_endpoint};" in policy
    assert "script-src 'self';" in policy


def test_console_scripts_are_served(anonymous):
    for name in ("console-api.js", "console-actions.js", "console-upload.js", "link-dialog.js", "copy.js"):
        answer = anonymous.call("GET", f"/static/{name}")
        assert answer.status_code == 200, name
        assert answer.headers["Content-Type"].startswith("text/javascript")


def test_history_names_browsers_and_people_briefly():
    chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1"
    )
    edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 Edg/131.0"

    assert browser_of(chrome) == "Chrome 131 on Linux"
    assert browser_of(iphone) == "Safari 17 on iOS"
    assert browser_of(edge) == "Edge 131 on Windows"
    assert browser_of("curl/8.5.0") == "curl 8.5.0"
    assert browser_of("") == ""
    assert who_label("member:alice@example.com") == "alice@example.com (member)"
    assert who_label("email:olga@partner.example") == "olga@partner.example"
    assert who_label("anonymous") == "Anyone (not signed in)"


def test_a_qr_png_downloads_without_an_accept_header_as_browsers_send_it(member):
    _, link = shared_file(member, name="qr.txt")

    answer = member.call("GET", f"/api/links/{link['token']}/qr.png")

    assert answer.status_code == 200
    assert answer.body.startswith(b"\x89PNG")
