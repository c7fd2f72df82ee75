"""Every option of a link after creation: editing, label and message, password, download limit, views."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import requests
import time_machine
from conftest import shared_file

from chalicelib import tokens
from chalicelib.models import LinkRecord

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat(timespec="seconds")


def _events(member, file, kind: str) -> list[dict]:
    events = member.call("GET", f"/api/files/{file['file_id']}/events?limit=100").data["events"]
    return [event for event in events if event["kind"] == kind]


def _unlock(anonymous, token: str, password: str):
    return anonymous.call("POST", f"/s/{token}/password", raw=urlencode({"password": password}).encode(), headers=FORM)


def _cookie_of(answer) -> str:
    """The Cookie header a browser sends back after this answer's Set-Cookie."""
    set_cookie = answer.headers["Set-Cookie"]
    return (set_cookie[0] if isinstance(set_cookie, list) else set_cookie).split(";", 1)[0]


# --- editing every option ----------------------------------------------------------------


def test_every_option_changes_after_creation_and_one_event_says_what_changed(member, stack):
    file, link = shared_file(member)
    path = f"/api/links/{link['token']}"
    change = {
        "valid_until": _in(3),
        "allow_upload": True,
        "recipients": ["Partner@Example.com"],
        "groups": [],
        "label": "for Acme legal",
        "message": "Here is the contract.\nPlease sign page 3.",
        "password": "correct horse",
        "download_limit": 5,
    }

    changed = member.call("PATCH", path, change)

    assert changed.status_code == 200, changed.body
    answer = changed.data["link"]
    assert answer["allow_upload"] is True
    assert answer["recipients"] == ["partner@example.com"]
    assert answer["require_login"] is True  # naming someone implies sign-in
    assert answer["label"] == "for Acme legal"
    assert answer["message"] == change["message"]
    assert answer["has_password"] is True
    assert "password" not in answer
    assert answer["download_limit"] == 5
    [event] = _events(member, file, "link_changed")
    detail = event["detail"]
    assert detail["password"] == "set"
    assert detail["label"] == "for Acme legal"
    assert detail["download_limit"] == 5
    assert detail["recipients"] == ["partner@example.com"]
    assert detail["require_login"] is True
    assert "correct horse" not in json.dumps(_events(member, file, "link_changed"))
    record = LinkRecord.get(tokens.link_id_from(link["token"]), consistent_read=True)
    assert "correct horse" not in record.password_hash and record.password_hash.startswith("scrypt$")


def test_removing_options_and_the_audience_follows_the_grants(member):
    _, link = shared_file(
        member, recipients=["pat@example.com"], label="draft", password="open sesame", download_limit=2
    )
    path = f"/api/links/{link['token']}"

    answer = member.call(
        "PATCH", path, {"recipients": None, "label": None, "password": None, "download_limit": None}
    ).data["link"]

    assert (answer["recipients"], answer["label"], answer["has_password"], answer["download_limit"]) == (
        [],
        None,
        False,
        None,
    )
    from chalicelib.more_models import GrantRecord

    assert list(GrantRecord.query("email:pat@example.com")) == []


def test_an_unchanged_patch_records_no_event(member):
    file, link = shared_file(member, label="same")

    member.call("PATCH", f"/api/links/{link['token']}", {"label": "same", "allow_upload": False})

    assert _events(member, file, "link_changed") == []


def test_a_link_naming_people_keeps_its_sign_in_and_records_no_change(member):
    file, link = shared_file(member, recipients=["pat@example.com"])

    answer = member.call("PATCH", f"/api/links/{link['token']}", {"require_login": False})

    assert answer.status_code == 200
    assert answer.data["link"]["require_login"] is True
    assert _events(member, file, "link_changed") == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"label": "x" * 101}, "invalid_label"),
        ({"label": 7}, "invalid_label"),
        ({"label": "two\nlines"}, "invalid_label"),
        ({"message": "m" * 2001}, "invalid_message"),
        ({"message": "bad \u202e direction"}, "invalid_message"),
        ({"password": "short"}, "invalid_password"),
        ({"password": "p" * 129}, "invalid_password"),
        ({"password": 12345678}, "invalid_password"),
        ({"download_limit": 0}, "invalid_download_limit"),
        ({"download_limit": 1001}, "invalid_download_limit"),
        ({"download_limit": "3"}, "invalid_download_limit"),
        ({"recipients": ["not an address"]}, "invalid_email"),
        ({"groups": ["no-such-group"]}, "unknown_group"),
        ({}, "missing_field"),
    ],
)
def test_bad_options_are_refused_with_their_own_code_and_nothing_changes(member, body, code):
    _, link = shared_file(member, label="kept")

    changed = member.call("PATCH", f"/api/links/{link['token']}", body)
    created = member.call("POST", f"/api/files/{link['file_id']}/links", body or {"label": None, "bogus": 1})

    assert changed.status_code == 400, changed.body
    assert changed.data["error"]["code"] == code
    if body:
        assert created.status_code == 400
        assert created.data["error"]["code"] == code
    listed = member.call("GET", f"/api/files/{link['file_id']}/links").data["links"]
    assert [item["label"] for item in listed] == ["kept"]


def test_a_folder_link_takes_no_download_limit(member):
    folder = member.call("POST", "/api/folders", {"name": "Limits"}).data["file"]

    answer = member.call("POST", f"/api/files/{folder['file_id']}/links", {"download_limit": 3})

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "download_limit_for_folder"


def test_a_revoked_link_stays_revoked_whatever_is_patched(member, anonymous):
    _, link = shared_file(member)
    member.call("DELETE", f"/api/links/{link['token']}")

    answer = member.call("PATCH", f"/api/links/{link['token']}", {"label": "revive?", "download_limit": 10})

    assert answer.status_code == 409
    assert answer.data["error"]["code"] == "link_revoked"
    assert anonymous.call("GET", f"/s/{link['token']}").status_code == 410


# --- label, message, who shared it ---------------------------------------------------------


def test_the_page_shows_who_shared_it_and_the_escaped_message_but_never_the_label(member, anonymous):
    _, link = shared_file(member, label="internal: Acme legal", message="<script>alert(1)</script>\nThanks!")

    page = anonymous.call("GET", f"/s/{link['token']}").body.decode()

    assert "alice@example.com" in page
    assert "Shared by" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert "internal: Acme legal" not in page
    assert link["shared_by"] == "alice@example.com"


def test_the_label_rides_on_the_links_events_for_the_history_and_the_csv(member, anonymous):
    file, link = shared_file(member, label="for Acme legal")
    anonymous.call("GET", f"/s/{link['token']}")

    [opened] = _events(member, file, "link_opened")
    csv = member.call("GET", f"/api/files/{file['file_id']}/events.csv").body.decode()

    assert opened["detail"]["link_label"] == "for Acme legal"
    assert "for Acme legal" in csv


def test_the_portal_shows_who_shared_each_link_and_when(member, client, stack):
    from conftest import Api, signed_in

    partner = Api(client, signed_in(stack, "pia@partner.example", groups=()))
    _, link = shared_file(member, name="For Pia.txt", recipients=["pia@partner.example"], password="pia's secret")

    portal = partner.call("GET", "/portal", headers={"Accept": "text/html"}).body.decode()

    assert "For Pia.txt" in portal
    assert "Shared by <strong>alice@example.com</strong>" in portal
    # A password link's download is on its page, where the password is asked for.
    assert f'href="http://127.0.0.1/s/{link["token"]}"' in portal


# --- password ------------------------------------------------------------------------------


def test_a_password_link_shows_only_a_password_form_until_the_password_is_typed(member, anonymous):
    _, link = shared_file(member, name="secret-plan.txt", password="correct horse", message="from Alice")
    token = link["token"]

    page = anonymous.call("GET", f"/s/{token}")
    download = anonymous.call("GET", f"/s/{token}/download")
    counted = anonymous.call("POST", f"/s/{token}/download", headers=FORM)
    wrong = _unlock(anonymous, token, "wrong horse")
    right = _unlock(anonymous, token, "correct horse")
    cookie = _cookie_of(right)
    unlocked = anonymous.call("GET", f"/s/{token}", headers={"Cookie": cookie})
    fetched = anonymous.call("POST", f"/s/{token}/download", headers={**FORM, "Cookie": cookie})

    body = page.body.decode()
    assert page.status_code == 200 and 'type="password"' in body
    for secret in ("secret-plan.txt", "from Alice", "alice@example.com", "text/plain"):
        assert secret not in body
    assert download.status_code == 403 and counted.status_code == 403
    assert wrong.status_code == 401 and "not right" in wrong.body.decode()
    assert "Set-Cookie" not in wrong.headers
    assert right.status_code == 303 and right.headers["Location"].endswith(f"/s/{token}")
    assert "HttpOnly" in str(right.headers["Set-Cookie"]) and "SameSite=Lax" in str(right.headers["Set-Cookie"])
    assert "correct" not in str(right.headers["Set-Cookie"])
    assert "secret-plan.txt" in unlocked.body.decode()
    assert fetched.status_code == 303


def test_a_changed_password_ends_every_cookie_of_the_old_one(member, anonymous):
    _, link = shared_file(member, password="first password")
    cookie = _cookie_of(_unlock(anonymous, link["token"], "first password"))

    member.call("PATCH", f"/api/links/{link['token']}", {"password": "second password"})

    again = anonymous.call("GET", f"/s/{link['token']}", headers={"Cookie": cookie})
    assert 'type="password"' in again.body.decode()


def test_a_cookie_of_one_link_opens_no_other(member, anonymous):
    _, first = shared_file(member, password="same password")
    _, second = shared_file(member, password="same password")
    cookie = _cookie_of(_unlock(anonymous, first["token"], "same password"))
    other_name = cookie.split("=", 1)[0]
    renamed = f"handover_link_{tokens.link_id_from(second['token'])[:10]}={cookie.split('=', 1)[1]}"

    assert other_name != renamed.split("=", 1)[0]
    page = anonymous.call("GET", f"/s/{second['token']}", headers={"Cookie": renamed})
    assert 'type="password"' in page.body.decode()


def test_wrong_passwords_are_throttled_per_source_and_never_recorded(member, anonymous):
    file, link = shared_file(member, password="the real one")
    # A window of its own, far ahead, so other tests' guesses do not count here; the clock stands
    # still so that every guess falls in that one window (windows start on multiples of 5 minutes).
    with time_machine.travel(datetime.now(UTC) + timedelta(days=230), tick=False):
        statuses = [_unlock(anonymous, link["token"], f"guess number {n}").status_code for n in range(12)]
        right = _unlock(anonymous, link["token"], "the real one")

    assert statuses == [401] * 10 + [429] * 2
    assert right.status_code == 429  # throttled means nothing is checked, the right one neither
    refused = _events(member, file, "password_refused")
    assert len(refused) == 10
    assert "guess number" not in json.dumps(refused)


def test_wrong_passwords_are_throttled_per_link_from_many_sources(member, stack):
    from chalicelib import throttle
    from chalicelib.errors import TooManyRequests

    _, link = shared_file(member, password="the real one")
    link_id = tokens.link_id_from(link["token"])
    with time_machine.travel(datetime.now(UTC) + timedelta(days=240), tick=False):
        for n in range(throttle.PASSWORD_GUESSES_PER_LINK):
            throttle.count_wrong_password(link_id, f"198.51.100.{n % 250}")
        with pytest.raises(TooManyRequests):
            throttle.check_password_guesses(link_id, "203.0.113.9")  # a fresh source, the same link


# --- download limit ------------------------------------------------------------------------


def test_only_the_explicit_post_counts_and_a_used_up_link_answers_410(member, anonymous):
    file, link = shared_file(member, download_limit=2)
    token = link["token"]

    previews = [anonymous.call(method, f"/s/{token}/download") for method in ("GET", "HEAD", "GET")]
    pages = [anonymous.call("GET", f"/s/{token}").status_code for _ in range(3)]
    posts = [anonymous.call("POST", f"/s/{token}/download", headers=FORM).status_code for _ in range(3)]
    page = anonymous.call("GET", f"/s/{token}")

    for preview in previews:  # GET: to the link's page; HEAD: not a route; never counted
        assert preview.status_code in (302, 405)
        assert preview.headers.get("Location", "").endswith(f"/s/{token}") or preview.status_code == 405
    assert pages == [200, 200, 200]
    assert posts == [303, 303, 410]
    assert page.status_code == 410
    assert "as many times as its owner allowed" in page.body.decode()
    listed = member.call("GET", f"/api/files/{file['file_id']}/links").data["links"][0]
    assert (listed["downloads"], listed["status"]) == (2, "used_up")
    raised = member.call("PATCH", f"/api/links/{token}", {"download_limit": 3})
    assert raised.data["link"]["status"] == "active"
    assert anonymous.call("POST", f"/s/{token}/download", headers=FORM).status_code == 303


def test_fifty_parallel_downloads_on_a_limit_of_three_give_exactly_three_urls(member, served):
    _, link = shared_file(member, download_limit=3)
    url = f"{served}/s/{link['token']}/download"
    # One request first: route modules load on first use, and Python 3.11's lazy loading is not thread-safe.
    assert requests.get(f"{served}/s/{link['token']}", timeout=30).status_code == 200

    def press(_: int) -> tuple[int, str]:
        # chalice local queues only 5 waiting connections: a reset connection is tried again.
        for _attempt in range(20):
            try:
                answer = requests.post(url, allow_redirects=False, timeout=60)
                return answer.status_code, answer.headers.get("Location", "")
            except requests.ConnectionError:
                continue
        raise AssertionError("the server never answered")

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(press, range(50)))

    redirected = [location for status, location in answers if status == 303]
    assert len(redirected) == 3
    assert all("X-Amz-Signature=" in location for location in redirected)
    assert sorted({status for status, _ in answers}) == [303, 410]
    assert requests.get(redirected[0], timeout=30).content == b"hello, world\n"


def test_curl_style_post_follows_to_the_file(member, served):
    _, link = shared_file(member, download_limit=1)

    answer = requests.post(f"{served}/s/{link['token']}/download", timeout=30)  # curl -X POST -L

    assert answer.status_code == 200
    assert answer.content == b"hello, world\n"


# --- views ---------------------------------------------------------------------------------


def test_views_and_last_opened_are_counted_beside_downloads(member, anonymous):
    file, link = shared_file(member)
    before = datetime.now(UTC).replace(microsecond=0)

    for _ in range(3):
        anonymous.call("GET", f"/s/{link['token']}")

    listed = member.call("GET", f"/api/files/{file['file_id']}/links").data["links"][0]
    assert listed["views"] == 3
    opened = datetime.fromisoformat(listed["last_opened_at"].replace("Z", "+00:00"))
    assert opened >= before
