"""Folders (a link can share a whole folder) and every item's history, as JSON and CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import requests
from conftest import Api, scanned, shared_file, upload


def _folder(api: Api, name: str, parent: str | None = None) -> dict:
    answer = api.call("POST", "/api/folders", {"name": name, "folder_id": parent})
    assert answer.status_code == 201, answer.body
    return answer.data["file"]


def _file_in(api: Api, folder_id: str, name: str, data: bytes) -> dict:
    created = api.call("POST", "/api/files", {"name": name, "size": len(data), "folder_id": folder_id})
    assert created.status_code == 201, created.body
    upload(created.data["upload"], data)
    done = api.call("POST", f"/api/files/{created.data['file']['file_id']}/complete").data["file"]
    scanned()
    return done


def test_member_builds_folders_and_lists_what_each_holds(member):
    top = _folder(member, "Projects")
    inner = _folder(member, "2026", top["file_id"])
    doc = _file_in(member, inner["file_id"], "plan.txt", b"plan")

    root = member.call("GET", "/api/files?folder_id=root").data["files"]
    in_top = member.call("GET", f"/api/files?folder_id={top['file_id']}").data["files"]
    in_inner = member.call("GET", f"/api/files?folder_id={inner['file_id']}").data["files"]

    assert top["file_id"] in {f["file_id"] for f in root}
    assert [f["file_id"] for f in in_top] == [inner["file_id"]]
    assert [(f["file_id"], f["kind"], f["folder_id"]) for f in in_inner] == [(doc["file_id"], "file", inner["file_id"])]


def test_folders_of_other_members_are_not_found(member, other_member):
    mine = _folder(member, "Mine")

    assert other_member.call("GET", f"/api/files?folder_id={mine['file_id']}").status_code == 404
    assert other_member.call("POST", "/api/folders", {"name": "x", "folder_id": mine["file_id"]}).status_code == 404
    sneaky = other_member.call("POST", "/api/files", {"name": "x", "size": 1, "folder_id": mine["file_id"]})
    assert sneaky.status_code == 404


def test_renaming_shows_the_new_name_to_recipients(member, anonymous):
    file, link = shared_file(member, name="draft.txt")

    renamed = member.call("PATCH", f"/api/files/{file['file_id']}", {"name": "final.txt"})

    assert renamed.data["file"]["name"] == "final.txt"
    assert "final.txt" in anonymous.call("GET", f"/s/{link['token']}").body.decode()


def test_a_folder_link_shows_the_folder_and_downloads_its_files(member, anonymous):
    shared = _folder(member, "Handover pack")
    sub = _folder(member, "Drawings", shared["file_id"])
    readme = _file_in(member, shared["file_id"], "README.txt", b"read me")
    drawing = _file_in(member, sub["file_id"], "floor.svg", b"<svg/>")
    outside = _file_in(member, _folder(member, "Private")["file_id"], "secret.txt", b"secret")
    link = member.call("POST", f"/api/files/{shared['file_id']}/links", {}).data["link"]

    page = anonymous.call("GET", f"/s/{link['token']}").body.decode()
    sub_page = anonymous.call("GET", f"/s/{link['token']}?folder={sub['file_id']}").body.decode()

    assert "Handover pack" in page and "README.txt" in page and "Drawings" in page
    assert "floor.svg" in sub_page
    for item, data in ((readme, b"read me"), (drawing, b"<svg/>")):
        answer = anonymous.call("GET", f"/s/{link['token']}/files/{item['file_id']}/download")
        assert answer.status_code == 302
        assert requests.get(answer.headers["Location"]).content == data
    assert anonymous.call("GET", f"/s/{link['token']}/files/{outside['file_id']}/download").status_code == 404
    assert anonymous.call("GET", f"/s/{link['token']}?folder={outside['folder_id']}").status_code == 404
    assert anonymous.call("GET", f"/s/{link['token']}/download").status_code == 404


def test_deleting_a_folder_deletes_what_it_holds_and_stops_their_links(member, anonymous):
    folder = _folder(member, "Old")
    inside = _file_in(member, folder["file_id"], "old.txt", b"old")
    file_link = member.call("POST", f"/api/files/{inside['file_id']}/links", {}).data["link"]
    folder_link = member.call("POST", f"/api/files/{folder['file_id']}/links", {}).data["link"]

    assert member.call("DELETE", f"/api/files/{folder['file_id']}").status_code == 204

    assert member.call("GET", f"/api/files/{inside['file_id']}").status_code == 404
    assert anonymous.call("GET", f"/s/{file_link['token']}").status_code == 410
    assert anonymous.call("GET", f"/s/{folder_link['token']}").status_code == 410


def test_history_lists_every_event_newest_first_in_pages(member, anonymous):
    soon, later = (str(date.today() + timedelta(days=days)) for days in (30, 60))
    file, link = shared_file(member, valid_until=soon)
    member.call("PATCH", f"/api/links/{link['token']}", {"valid_until": later})
    anonymous.call("GET", f"/s/{link['token']}", headers={"User-Agent": "Recipient Browser 1.0"})
    anonymous.call("GET", f"/s/{link['token']}/download")
    member.call("DELETE", f"/api/links/{link['token']}")

    first = member.call("GET", f"/api/files/{file['file_id']}/events?limit=3")
    rest = member.call("GET", f"/api/files/{file['file_id']}/events?cursor={first.data['next_cursor']}")

    events = first.data["events"] + rest.data["events"]
    kinds = [e["kind"] for e in events]
    assert kinds == [
        "link_revoked",
        "link_downloaded",
        "link_opened",
        "link_changed",
        "link_created",
        "scan_clean",
        "file_uploaded",
    ]
    opened = events[2]
    assert opened["who"] == "anonymous"
    assert opened["user_agent"] == "Recipient Browser 1.0"
    assert opened["ip"]
    assert opened["link"] == link["token"][:8]
    assert all(link["token"] not in str(e) for e in events)
    assert events[0]["who"] == "member:alice@example.com"


def test_history_exports_as_csv_safe_for_spreadsheets(member, anonymous):
    file, link = shared_file(member)
    anonymous.call("GET", f"/s/{link['token']}", headers={"User-Agent": '=HYPERLINK("http://x")'})

    answer = member.call("GET", f"/api/files/{file['file_id']}/events.csv")

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.body.decode())))
    assert [r["kind"] for r in rows] == ["link_opened", "link_created", "scan_clean", "file_uploaded"]
    assert rows[0]["user_agent"].startswith("'=")
    assert link["token"] not in answer.body.decode()


def test_a_folders_history_includes_downloads_through_its_link(member, anonymous):
    folder = _folder(member, "Shared")
    item = _file_in(member, folder["file_id"], "a.txt", b"a")
    link = member.call("POST", f"/api/files/{folder['file_id']}/links", {}).data["link"]
    anonymous.call("GET", f"/s/{link['token']}/files/{item['file_id']}/download")

    events = member.call("GET", f"/api/files/{folder['file_id']}/events").data["events"]

    assert [e["kind"] for e in events][:2] == ["link_downloaded", "link_created"]
    assert events[0]["detail"] == {"file": "a.txt"}


def test_a_folder_link_with_upload_allowed_takes_new_files_into_the_folder(member, anonymous):
    folder = _folder(member, "Inbox")
    link = member.call("POST", f"/api/files/{folder['file_id']}/links", {"allow_upload": True}).data["link"]
    plain = member.call("POST", f"/api/files/{folder['file_id']}/links", {}).data["link"]
    data = b"signed contract"

    started = anonymous.call("POST", f"/s/{link['token']}/uploads", {"name": "contract.pdf", "size": len(data)})
    assert started.status_code == 201, started.body
    plan = started.data["upload"]
    upload(plan, data)
    unlisted = member.call("GET", f"/api/files?folder_id={folder['file_id']}").data["files"]
    done = anonymous.call("POST", f"/s/{link['token']}/uploads/{plan['upload_id']}/complete")

    assert [f["status"] for f in unlisted] == ["uploading"]
    assert done.status_code == 200, done.body
    listed = member.call("GET", f"/api/files?folder_id={folder['file_id']}").data["files"]
    assert [(f["name"], f["status"]) for f in listed] == [("contract.pdf", "ready")]
    page = anonymous.call("GET", f"/s/{link['token']}").body.decode()
    assert "contract.pdf" in page and "Send files to this folder" in page
    scanned()
    answer = anonymous.call("GET", f"/s/{link['token']}/files/{listed[0]['file_id']}/download")
    assert requests.get(answer.headers["Location"]).content == data
    refused = anonymous.call("POST", f"/s/{plain['token']}/uploads", {"name": "x.txt", "size": 1})
    assert refused.status_code == 403


def test_a_long_history_exports_in_parts_each_naming_the_next(member, anonymous, monkeypatch):
    from chalicelib import audit

    file, link = shared_file(member)
    for n in range(12):
        anonymous.call("GET", f"/s/{link['token']}", headers={"User-Agent": f"visitor {n} " + "x" * 200})
    everything = list(
        csv.DictReader(io.StringIO(member.call("GET", f"/api/files/{file['file_id']}/events.csv").body.decode()))
    )
    monkeypatch.setattr(audit, "CSV_BYTES", 1500)  # so that a dozen visits need several parts

    parts, path = [], f"/api/files/{file['file_id']}/events.csv"
    while path:
        answer = member.call("GET", path)
        parts.append(list(csv.DictReader(io.StringIO(answer.body.decode()))))
        following = answer.headers.get("Link")
        path = following and "/api/" + following.split("/api/", 1)[1].split(">", 1)[0]

    assert len(parts) > 2
    assert all(len(part) >= 1 for part in parts)
    assert [row for part in parts for row in part] == everything


def test_the_history_filters_by_kind_person_and_link_and_records_visits_to_a_revoked_link(member, anonymous):
    file, first = shared_file(member)
    second = member.call("POST", f"/api/files/{file['file_id']}/links", {}).data["link"]
    anonymous.call("GET", f"/s/{first['token']}")
    anonymous.call("GET", f"/s/{second['token']}")
    member.call("DELETE", f"/api/links/{second['token']}")
    gone = anonymous.call("GET", f"/s/{second['token']}")
    tab = f"/console/items/{file['file_id']}?tab=history"

    opened = member.call("GET", f"{tab}&kind=link_opened").body.decode()
    through_second = member.call("GET", f"{tab}&link={second['token'][:8]}").body.decode()
    by_alice = member.call("GET", f"{tab}&who=Alice@").body.decode()
    unknown_kind = member.call("GET", f"{tab}&kind=nonsense")

    assert gone.status_code == 410
    assert opened.count("<strong>Link opened</strong>") == 2 and "Link created" not in opened.split("<tbody>")[1]
    rows = through_second.split("<tbody>")[1]
    assert rows.count("<tr>") == 4 and first["token"][:8] not in rows
    assert "<strong>Opened after it stopped working</strong>" in rows and "the link was revoked" in rows
    assert "Anyone (not signed in)" not in by_alice.split("<tbody>")[1]
    assert unknown_kind.status_code == 400 and "kind must be one of" in unknown_kind.body.decode()


def test_the_first_file_sent_into_a_folder_is_a_file_received_not_a_new_version(member, anonymous):
    folder = _folder(member, "Requests")
    link = member.call("POST", f"/api/files/{folder['file_id']}/links", {"allow_upload": True}).data["link"]
    started = anonymous.call("POST", f"/s/{link['token']}/uploads", {"name": "form.pdf", "size": 4})
    upload(started.data["upload"], b"form")
    anonymous.call("POST", f"/s/{link['token']}/uploads/{started.data['upload']['upload_id']}/complete")
    received = member.call("GET", f"/api/files?folder_id={folder['file_id']}").data["files"][0]

    history = member.call("GET", f"/console/items/{received['file_id']}?tab=history").body.decode()

    rows = history.split("<tbody>")[1]
    assert "<strong>File received</strong>" in rows and "New version received" not in rows
