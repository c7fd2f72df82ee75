"""Download all: a folder link's files as one ZIP, built beside the API and fetched from S3."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import UTC, datetime, timedelta

import requests
import time_machine
from conftest import Api, MiB, scanned, shared_file, signed_in, upload

from chalicelib.config import get_settings, settings_from
from devstack.localstack import lifecycle_rules


def _folder(api: Api, name: str, parent: str | None = None) -> dict:
    answer = api.call("POST", "/api/folders", {"name": name, "folder_id": parent})
    assert answer.status_code == 201, answer.body
    return answer.data["file"]


def _file_in(api: Api, folder_id: str, name: str, data: bytes, content_type: str = "text/plain") -> dict:
    created = api.call(
        "POST", "/api/files", {"name": name, "size": len(data), "folder_id": folder_id, "content_type": content_type}
    )
    assert created.status_code == 201, created.body
    upload(created.data["upload"], data)
    done = api.call("POST", f"/api/files/{created.data['file']['file_id']}/complete").data["file"]
    scanned()
    return done


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _until_built(api: Api, started: dict, seconds: float = 120) -> dict:
    """Poll as the page does until the build has ended (ready or failed)."""
    deadline = time.monotonic() + seconds
    status = started
    while status["state"] == "building" and time.monotonic() < deadline:
        time.sleep(0.2)
        answer = api.call("GET", _path(status["status_url"]))
        assert answer.status_code == 200, answer.body
        status = answer.data["zip"]
    return status


def _zip_of(api: Api, status: dict) -> zipfile.ZipFile:
    redirect = api.call("GET", _path(status["download_url"]))
    assert redirect.status_code == 302, redirect.body
    fetched = requests.get(redirect.headers["Location"])
    assert fetched.status_code == 200, fetched.text
    assert fetched.headers["Content-Type"] == "application/zip"
    assert "attachment" in fetched.headers["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(fetched.content))


def test_download_all_builds_one_zip_of_the_whole_folder_with_its_exact_bytes(member, anonymous):
    shared = _folder(member, "Handover pack")
    drawings = _folder(member, "Drawings", shared["file_id"])
    _folder(member, "Empty", shared["file_id"])
    large = bytes(range(256)) * (7 * MiB // 256) + b"tail"  # more than one part of the ZIP's upload
    contents = {
        "Handover pack/README.txt": b"read me\n",
        "Handover pack/Drawings/floor plan.pdf": large,
        "Handover pack/Drawings/Grüße.txt": "grüße\n".encode(),
        "Handover pack/Drawings/a_b.txt": b"a slash became an underscore",
    }
    _file_in(member, shared["file_id"], "README.txt", contents["Handover pack/README.txt"])
    _file_in(member, drawings["file_id"], "floor plan.pdf", large, "application/pdf")
    _file_in(member, drawings["file_id"], "Grüße.txt", contents["Handover pack/Drawings/Grüße.txt"])
    _file_in(member, drawings["file_id"], "a/b.txt", contents["Handover pack/Drawings/a_b.txt"])
    _file_in(member, _folder(member, "Private")["file_id"], "secret.txt", b"not in the zip")
    link = member.call("POST", f"/api/files/{shared['file_id']}/links", {}).data["link"]

    started = anonymous.call("POST", f"/s/{link['token']}/zip")
    assert started.status_code == 202, started.body
    assert started.data["zip"]["files"] == 4 and started.data["zip"]["name"] == "Handover pack.zip"
    status = _until_built(anonymous, started.data["zip"])
    archive = _zip_of(anonymous, status)

    assert status["state"] == "ready" and status["bytes_done"] == status["bytes_total"] == sum(
        map(len, contents.values())
    )
    assert archive.testzip() is None  # every CRC matches
    assert {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")} == contents
    assert {"Handover pack/", "Handover pack/Drawings/", "Handover pack/Empty/"} <= set(archive.namelist())


def test_download_all_is_one_download_in_the_history_and_an_unchanged_folder_reuses_its_zip(member, anonymous):
    shared = _folder(member, "Reports")
    _file_in(member, shared["file_id"], "q1.txt", b"first quarter")
    link = member.call("POST", f"/api/files/{shared['file_id']}/links", {}).data["link"]

    first = _until_built(anonymous, anonymous.call("POST", f"/s/{link['token']}/zip").data["zip"])
    again = anonymous.call("POST", f"/s/{link['token']}/zip").data["zip"]

    assert first["state"] == again["state"] == "ready"  # no second build
    events = member.call("GET", f"/api/files/{shared['file_id']}/events").data["events"]
    downloads = [event for event in events if event["kind"] == "link_downloaded"]
    assert [event["detail"] for event in downloads] == [{"file": "Reports.zip", "files": "1"}] * 2
    listed = member.call("GET", f"/api/files/{shared['file_id']}/links").data["links"]
    assert listed[0]["downloads"] == 2


def test_a_file_added_later_makes_a_new_zip(member, anonymous):
    shared = _folder(member, "Growing")
    _file_in(member, shared["file_id"], "one.txt", b"1")
    link = member.call("POST", f"/api/files/{shared['file_id']}/links", {}).data["link"]
    _until_built(anonymous, anonymous.call("POST", f"/s/{link['token']}/zip").data["zip"])

    _file_in(member, shared["file_id"], "two.txt", b"2")
    status = _until_built(anonymous, anonymous.call("POST", f"/s/{link['token']}/zip").data["zip"])

    assert sorted(_zip_of(anonymous, status).namelist()) == ["Growing/", "Growing/one.txt", "Growing/two.txt"]


def test_download_all_keeps_the_links_rules(member, anonymous, client, stack):
    shared = _folder(member, "Restricted")
    _file_in(member, shared["file_id"], "plan.txt", b"plan")
    made = member.call("POST", f"/api/files/{shared['file_id']}/links", {"recipients": ["carol@example.com"]}).data[
        "link"
    ]
    carol = Api(client, signed_in(stack, "carol@example.com", groups=()))
    dave = Api(client, signed_in(stack, "dave@example.com", groups=()))

    assert anonymous.call("POST", f"/s/{made['token']}/zip").data["error"]["code"] == "login_required"
    refused = dave.call("POST", f"/s/{made['token']}/zip")
    assert (refused.status_code, refused.data["error"]["code"]) == (403, "not_allowed")
    started = carol.call("POST", f"/s/{made['token']}/zip")
    assert started.status_code == 202, started.body
    status_path = _path(started.data["zip"]["status_url"])
    assert dave.call("GET", status_path).status_code == 403  # the ticket alone opens nothing
    assert anonymous.call("GET", status_path).status_code == 401
    assert _until_built(carol, started.data["zip"])["state"] == "ready"
    events = member.call("GET", f"/api/files/{shared['file_id']}/events").data["events"]
    by_carol = [event["kind"] for event in events if event["who"] == "email:carol@example.com"]
    # One event for the download; polls add nothing (access granted is recorded at a sign-in made for the link).
    assert by_carol == ["link_downloaded"]

    member.call("DELETE", f"/api/links/{made['token']}")
    gone = carol.call("GET", status_path)
    assert (gone.status_code, gone.data["error"]["code"]) == (410, "link_revoked")
    assert carol.call("GET", status_path + "/download").status_code == 410


def test_download_all_refuses_expired_links_single_files_and_foreign_or_forged_tickets(member, anonymous):
    shared = _folder(member, "Dated")
    _file_in(member, shared["file_id"], "a.txt", b"a")
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    link = member.call("POST", f"/api/files/{shared['file_id']}/links", {"valid_until": until}).data["link"]
    other = member.call("POST", f"/api/files/{shared['file_id']}/links", {}).data["link"]
    _, file_link = shared_file(member)
    started = anonymous.call("POST", f"/s/{link['token']}/zip").data["zip"]
    ticket = started["status_url"].rsplit("/", 1)[1]

    single = anonymous.call("POST", f"/s/{file_link['token']}/zip")
    assert (single.status_code, single.data["error"]["code"]) == (404, "not_a_folder_link")
    foreign = anonymous.call("GET", f"/s/{other['token']}/zip/{ticket}")
    assert (foreign.status_code, foreign.data["error"]["code"]) == (404, "zip_not_found")
    forged = anonymous.call("GET", f"/s/{link['token']}/zip/{ticket[:-2]}xx")
    assert (forged.status_code, forged.data["error"]["code"]) == (404, "zip_not_found")
    assert anonymous.call("GET", f"/s/{'A' * 44}/zip/{ticket}").status_code == 404
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=2)):
        expired = anonymous.call("POST", f"/s/{link['token']}/zip")
        assert (expired.status_code, expired.data["error"]["code"]) == (410, "link_expired")
        assert anonymous.call("GET", f"/s/{link['token']}/zip/{ticket}").status_code == 410


def test_an_empty_folder_has_nothing_to_download(member, anonymous):
    shared = _folder(member, "Nothing yet")
    _folder(member, "Also empty", shared["file_id"])
    link = member.call("POST", f"/api/files/{shared['file_id']}/links", {}).data["link"]

    answer = anonymous.call("POST", f"/s/{link['token']}/zip")

    assert (answer.status_code, answer.data["error"]["code"]) == (409, "folder_empty")
    events = member.call("GET", f"/api/files/{shared['file_id']}/events").data["events"]
    assert "link_downloaded" not in [event["kind"] for event in events]


def test_names_that_clash_in_one_folder_get_numbered_in_the_zip(member, anonymous):
    shared = _folder(member, "Clashes")
    _file_in(member, shared["file_id"], "notes.txt", b"first")
    _file_in(member, shared["file_id"], "Notes.txt", b"second")
    _file_in(member, shared["file_id"], "notes.txt", b"third")
    link = member.call("POST", f"/api/files/{shared['file_id']}/links", {}).data["link"]

    status = _until_built(anonymous, anonymous.call("POST", f"/s/{link['token']}/zip").data["zip"])
    archive = _zip_of(anonymous, status)

    files = [name for name in archive.namelist() if not name.endswith("/")]
    expected = ["clashes/notes (2).txt", "clashes/notes (3).txt", "clashes/notes.txt"]
    assert sorted(name.lower() for name in files) == expected
    assert sorted(archive.read(name) for name in files) == [b"first", b"second", b"third"]


def test_the_bucket_forgets_folder_zips_after_a_day():
    rules = {rule["ID"]: rule for rule in lifecycle_rules(settings_from({}))}

    assert rules["remove-folder-zips"]["Filter"] == {"Prefix": "zips/"}
    assert rules["remove-folder-zips"]["Expiration"] == {"Days": 1}


def test_folders_in_the_zip_are_folders_with_their_own_dates(member, anonymous):
    shared = _folder(member, "Dated folders")
    inner = _folder(member, "Inner", shared["file_id"])
    _file_in(member, inner["file_id"], "x.txt", b"x")
    link = member.call("POST", f"/api/files/{shared['file_id']}/links", {}).data["link"]

    archive = _zip_of(anonymous, _until_built(anonymous, anonymous.call("POST", f"/s/{link['token']}/zip").data["zip"]))

    folder = archive.getinfo("Dated folders/Inner/")
    made = datetime.fromisoformat(inner["updated_at"])
    assert folder.is_dir() and folder.external_attr & 0x10
    assert folder.date_time == made.timetuple()[:5] + (made.second // 2 * 2,)  # ZIP keeps even seconds


def test_a_zip_that_cannot_be_built_says_so_and_is_not_downloadable(member, anonymous, stack):
    shared = _folder(member, "Broken")
    lost = _file_in(member, shared["file_id"], "lost.txt", b"gone from storage")
    link = member.call("POST", f"/api/files/{shared['file_id']}/links", {}).data["link"]
    s3, bucket = stack.client("s3"), get_settings().files_bucket
    for version in s3.list_object_versions(Bucket=bucket, Prefix=f"files/{lost['file_id']}")["Versions"]:
        s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])  # as if lost by hand

    status = _until_built(anonymous, anonymous.call("POST", f"/s/{link['token']}/zip").data["zip"])
    download = anonymous.call("GET", _path(status["status_url"]) + "/download")

    assert (status["state"], status["download_url"]) == ("failed", None)
    assert (download.status_code, download.data["error"]["code"]) == (409, "zip_not_ready")
