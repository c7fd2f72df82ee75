"""Malware scanning: what arrives is pending until scanned, served only once clean, never if infected.

Against the local stack, whose stand-in for GuardDuty (devstack/scanner.py) tags objects and
sends the app's event handler the event GuardDuty sends; it flags the EICAR test file.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import requests
import time_machine
from conftest import scanned, shared_file, upload

from chalicelib import clock, scans
from devstack.scanner import EICAR, EICAR_THREAT, scan_event


def _send(api, link, data: bytes, name: str = "reply.txt") -> dict[str, Any]:
    started = api.call(
        "POST", f"/s/{link['token']}/uploads", {"name": name, "size": len(data), "content_type": "text/plain"}
    )
    assert started.status_code == 201, started.body
    upload(started.data["upload"], data)
    done = api.call("POST", f"/s/{link['token']}/uploads/{started.data['upload']['upload_id']}/complete")
    assert done.status_code == 200, done.body
    return done.data["upload"]


def _served(api, link) -> bytes:
    redirect = api.call("GET", f"/s/{link['token']}/download")
    assert redirect.status_code == 302, redirect.body
    return requests.get(redirect.headers["Location"]).content


def _versions(member, file_id: str) -> list[dict[str, Any]]:
    return member.call("GET", f"/api/files/{file_id}/versions").data["versions"]


def _events(member, file_id: str) -> list[dict[str, Any]]:
    return member.call("GET", f"/api/files/{file_id}/events").data["events"]


def test_an_eicar_upload_stays_unserved_and_is_marked_infected(member, anonymous):
    file, link = shared_file(member, b"the clean original", allow_upload=True)

    _send(anonymous, link, b"prefix " + EICAR + b" suffix", name="invoice.pdf")
    scanned()

    assert _served(anonymous, link) == b"the clean original"
    infected, original = _versions(member, file["file_id"])
    assert (infected["state"], infected["finding"], infected["current"]) == ("infected", EICAR_THREAT, False)
    assert (original["state"], original["current"]) == ("clean", True)
    refused = member.call("GET", f"/api/files/{file['file_id']}/versions/{infected['version_id']}/download")
    assert (refused.status_code, refused.data["error"]["code"]) == (409, "version_infected")
    found = [e for e in _events(member, file["file_id"]) if e["kind"] == "scan_infected"]
    assert [(e["detail"]["version_id"], e["detail"]["finding"]) for e in found] == [
        (infected["version_id"], EICAR_THREAT)
    ]
    assert member.call("GET", f"/api/files/{file['file_id']}").data["file"]["state"] == "infected"
    tab = member.call("GET", f"/console/items/{file['file_id']}?tab=versions").body.decode()
    assert "Malware found" in tab and EICAR_THREAT in tab
    history = member.call("GET", f"/console/items/{file['file_id']}?tab=history").body.decode()
    assert "Malware found" in history


def test_a_clean_upload_becomes_current_only_after_its_scan(member, anonymous, scanner):
    file, link = shared_file(member, b"version one", allow_upload=True)

    with scanner.paused():
        _send(anonymous, link, b"version two", name="v2.txt")

        # Meanwhile the link keeps serving the last clean version, and the owner sees why.
        assert _served(anonymous, link) == b"version one"
        pending, first = _versions(member, file["file_id"])
        assert (pending["state"], pending["current"], first["current"]) == ("pending", False, True)
        assert pending["waiting_seconds"] >= 0
        assert member.call("GET", f"/api/files/{file['file_id']}").data["file"]["state"] == "pending"
        refused = member.call("GET", f"/api/files/{file['file_id']}/versions/{pending['version_id']}/download")
        assert (refused.status_code, refused.data["error"]["code"]) == (409, "scan_pending")
    scanned()

    assert _served(anonymous, link) == b"version two"
    newest, _ = _versions(member, file["file_id"])
    assert (newest["state"], newest["current"], newest["waiting_seconds"]) == ("clean", True, None)
    assert member.call("GET", f"/api/files/{file['file_id']}").data["file"]["state"] == "clean"


def test_a_first_upload_is_not_served_before_its_scan(member, anonymous, scanner):
    with scanner.paused():
        created = member.call("POST", "/api/files", {"name": "new.txt", "size": 5, "content_type": "text/plain"})
        upload(created.data["upload"], b"fresh")
        file_id = created.data["file"]["file_id"]
        assert member.call("POST", f"/api/files/{file_id}/complete").data["file"]["state"] == "pending"
        link = member.call("POST", f"/api/files/{file_id}/links", {}).data["link"]

        refused = anonymous.call("GET", f"/s/{link['token']}/download")
        page = anonymous.call("GET", f"/s/{link['token']}").body.decode()

        assert refused.status_code == 409
        assert "being checked for malware" in page
    scanned()

    assert _served(anonymous, link) == b"fresh"


def test_a_scan_that_never_answers_leaves_the_version_pending_and_shows_how_long(member, anonymous, scanner):
    file, link = shared_file(member, b"served", allow_upload=True)

    with scanner.paused():
        _send(anonymous, link, b"never scanned")
        with time_machine.travel(clock.now() + timedelta(minutes=20)):
            pending = _versions(member, file["file_id"])[0]
            tab = member.call("GET", f"/console/items/{file['file_id']}?tab=versions").body.decode()
            served = _served(anonymous, link)

    assert pending["state"] == "pending"
    assert pending["waiting_seconds"] >= 20 * 60
    assert "Waiting for the malware scan for 20 minutes" in tab
    assert served == b"served"
    scanned()


def test_events_for_versions_that_do_not_exist_are_ignored_and_logged(app, member, scanner, capsys):
    from app import scan_result

    file, _ = shared_file(member, b"kept")
    before = _versions(member, file["file_id"])
    made_up = [
        scan_event("handover-files", f"files/{uuid.uuid4().hex}", "v1", "etag", [EICAR_THREAT]),
        scan_event("handover-files", f"files/{file['file_id']}", "no-such-version", "etag", [EICAR_THREAT]),
        scan_event("another-bucket", f"files/{file['file_id']}", before[0]["version_id"], "etag", [EICAR_THREAT]),
        {**scan_event("handover-files", "files/x", "v", "e", []), "detail": {"scanResultDetails": "nonsense"}},
    ]

    capsys.readouterr()
    with scanner.paused():  # only these events' lines, none of the stand-in's own
        for event in made_up:
            scan_result(event, None)
        logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "scan_result_ignored" in line]

    assert _versions(member, file["file_id"]) == before
    assert [line["reason"] for line in logged] == ["unknown_version", "unknown_version", "not_a_file", "unreadable"]


def test_the_event_names_the_threat_even_if_the_tag_settled_the_version_after_it_was_read(
    app, member, anonymous, scanner, monkeypatch
):
    from app import scan_result
    from chalicelib import versions

    file, link = shared_file(member, b"clean", allow_upload=True)
    with scanner.paused():
        _send(anonymous, link, b"bytes the scan flags")
        version_id = _versions(member, file["file_id"])[0]["version_id"]
        # The event's handler reads the version while it is still pending ...
        read_first = versions.version_by_id(file["file_id"], version_id)
        # ... and meanwhile its tag settles it, which says only that it is infected.
        scans.apply(versions.version_by_id(file["file_id"], version_id), scans.THREATS_FOUND)
        monkeypatch.setattr(versions, "version_by_id", lambda *_: read_first)

        scan_result(scan_event("handover-files", f"files/{file['file_id']}", version_id, "e", [EICAR_THREAT]), None)
        monkeypatch.undo()
        infected = _versions(member, file["file_id"])[0]
    scanned()

    assert (infected["state"], infected["finding"]) == ("infected", EICAR_THREAT)


def test_a_repeated_or_late_event_changes_nothing(app, member):
    from app import scan_result

    file, _ = shared_file(member, b"clean once")
    (version,) = _versions(member, file["file_id"])

    # EventBridge delivers at least once: the same version reported infected afterwards stays clean.
    scan_result(scan_event("handover-files", f"files/{file['file_id']}", version["version_id"], "e", ["X"]), None)

    assert _versions(member, file["file_id"])[0]["state"] == "clean"


def test_an_infected_upload_leaves_every_other_version_as_it_was(member, anonymous):
    file, link = shared_file(member, b"one", allow_upload=True)
    _send(anonymous, link, b"two")
    scanned()
    before = {v["version_id"]: v["state"] for v in _versions(member, file["file_id"])}

    _send(anonymous, link, EICAR)
    scanned()

    after = {v["version_id"]: v["state"] for v in _versions(member, file["file_id"])}
    assert {k: v for k, v in after.items() if k in before} == before == {k: "clean" for k in before}
    assert _served(anonymous, link) == b"two"


def test_an_infected_file_sent_into_a_folder_is_listed_for_the_owner_but_never_served(member, anonymous):
    folder = member.call("POST", "/api/folders", {"name": "Inbox"}).data["file"]
    link = member.call("POST", f"/api/files/{folder['file_id']}/links", {"allow_upload": True}).data["link"]

    sent = _send(anonymous, link, EICAR, name="totally-safe.txt")
    scanned()

    listed = member.call("GET", f"/api/files?folder_id={folder['file_id']}").data["files"]
    (item,) = [f for f in listed if f["name"] == "totally-safe.txt"]
    assert item["state"] == "infected"
    download = anonymous.call("GET", f"/s/{link['token']}/files/{item['file_id']}/download")
    assert download.status_code == 409
    assert sent["name"] == "totally-safe.txt"


def test_the_stand_in_tags_objects_as_guardduty_does(member, stack):
    file, _ = shared_file(member, b"tag me")
    (version,) = _versions(member, file["file_id"])

    tags = stack.client("s3").get_object_tagging(
        Bucket="handover-files", Key=f"files/{file['file_id']}", VersionId=version["version_id"]
    )["TagSet"]

    assert {"Key": scans.TAG, "Value": scans.NO_THREATS_FOUND} in tags


def test_the_handler_reads_the_event_guardduty_sends():
    event = scan_event("bucket", "files/abc", "v1", "etag", ["Trojan.X"])

    assert scans.result_of(event) == scans.ScanResult("bucket", "files/abc", "v1", scans.THREATS_FOUND, ("Trojan.X",))
    assert scans.result_of({**event, "source": "aws.s3"}) is None
