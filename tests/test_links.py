"""Links: options, expiry and revocation checked on every request, unknown tokens, guessing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from conftest import shared_file

from chalicelib import tokens
from chalicelib.models import LinkRecord


def _in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat(timespec="seconds")


def test_link_carries_its_options_url_and_qr(member):
    _, link = shared_file(member, valid_until=_in(7), allow_upload=True, require_login=False)

    assert link["url"].endswith(f"/s/{link['token']}")
    assert link["qr_svg"].endswith(f"/api/links/{link['token']}/qr.svg")
    assert link["qr_png"].endswith(f"/api/links/{link['token']}/qr.png")
    assert link["allow_upload"] is True
    assert link["require_login"] is False
    assert link["status"] == "active"
    assert link["valid_until"].endswith("Z")
    assert len(link["token"]) >= 43  # 128 random bits plus a MAC, URL-safe


def test_expired_link_answers_410_even_before_ttl_deletes_it(member, anonymous):
    _, link = shared_file(member, valid_until=_in(1))

    with time_machine.travel(datetime.now(UTC) + timedelta(days=2)):
        page = anonymous.call("GET", f"/s/{link['token']}")
        download = anonymous.call("GET", f"/s/{link['token']}/download")

    assert page.status_code == 410
    assert "expired" in page.body.decode()
    assert download.status_code == 410
    record = LinkRecord.get(tokens.link_id_from(link["token"]), consistent_read=True)
    assert record.expires_at is not None  # TTL set, so DynamoDB tidies it some day
    assert record.expires_at > record.valid_until


def test_revoked_link_answers_410_at_once(member, anonymous):
    _, link = shared_file(member)

    revoked = member.call("DELETE", f"/api/links/{link['token']}")

    assert revoked.status_code == 200
    assert revoked.data["link"]["status"] == "revoked"
    assert anonymous.call("GET", f"/s/{link['token']}").status_code == 410
    assert anonymous.call("GET", f"/s/{link['token']}/download").status_code == 410


def test_unknown_or_forged_token_answers_404_page(member, anonymous):
    _, link = shared_file(member)
    forged = link["token"][:-2] + ("AA" if not link["token"].endswith("AA") else "BB")

    # A throttle window of its own: other tests' misses from this address do not count here.
    with time_machine.travel(datetime.now(UTC) + timedelta(days=250)):
        pages = [anonymous.call("GET", f"/s/{token}") for token in (forged, "nonsense", "x" * 44)]

    for page in pages:
        assert page.status_code == 404
        assert page.headers["Content-Type"].startswith("text/html")
        assert "does not work" in page.body.decode()


def test_repeated_misses_from_one_source_are_throttled(member, anonymous):
    _, link = shared_file(member, valid_until=_in(300))
    # All test requests come from one address; the stack allows 5 misses per window.
    # A window of its own, far ahead, so other tests' misses do not count here.
    with time_machine.travel(datetime.now(UTC) + timedelta(days=200)):
        statuses = [anonymous.call("GET", f"/s/guess{n:039d}").status_code for n in range(7)]
        still_works = anonymous.call("GET", f"/s/{link['token']}").status_code

    assert statuses == [404] * 5 + [429] * 2
    assert still_works == 200  # a throttled source can still open a real link


def test_presigned_download_never_outlives_its_link(member, anonymous):
    _, link = shared_file(member, valid_until=(datetime.now(UTC) + timedelta(seconds=90)).isoformat())

    location = anonymous.call("GET", f"/s/{link['token']}/download").headers["Location"]

    expires = int(parse_qs(urlparse(location).query)["X-Amz-Expires"][0])
    assert 1 <= expires <= 90


def test_member_changes_valid_until_and_the_change_takes_effect(member, anonymous):
    _, link = shared_file(member, valid_until=_in(30))

    changed = member.call("PATCH", f"/api/links/{link['token']}", {"valid_until": _in(1)})

    assert changed.status_code == 200
    with time_machine.travel(datetime.now(UTC) + timedelta(days=3)):
        assert anonymous.call("GET", f"/s/{link['token']}").status_code == 410
    never = member.call("PATCH", f"/api/links/{link['token']}", {"valid_until": None})
    assert never.data["link"]["valid_until"] is None


def test_revoked_link_cannot_be_changed(member):
    _, link = shared_file(member)
    member.call("DELETE", f"/api/links/{link['token']}")

    answer = member.call("PATCH", f"/api/links/{link['token']}", {"valid_until": _in(1)})

    assert answer.status_code == 409
    assert answer.data["error"]["code"] == "link_revoked"


def test_file_links_are_listed_for_their_owner_with_download_counts(member, anonymous):
    file, link = shared_file(member)
    anonymous.call("GET", f"/s/{link['token']}/download")
    second = member.call("POST", f"/api/files/{file['file_id']}/links", {"allow_upload": True}).data["link"]

    listed = member.call("GET", f"/api/files/{file['file_id']}/links").data["links"]

    by_token = {item["token"]: item for item in listed}
    assert set(by_token) == {link["token"], second["token"]}
    assert by_token[link["token"]]["downloads"] == 1


def test_login_required_link_sends_anonymous_visitors_to_sign_in(member, anonymous):
    _, link = shared_file(member, require_login=True)

    page = anonymous.call("GET", f"/s/{link['token']}")
    download = anonymous.call("GET", f"/s/{link['token']}/download")

    assert page.status_code == 302
    assert page.headers["Location"].endswith(f"/auth/login?next=%2Fs%2F{link['token']}")
    assert download.status_code == 302
    assert "/auth/login?next=" in download.headers["Location"]


def test_qr_codes_encode_the_link(member, anonymous):
    _, link = shared_file(member)

    svg = member.call("GET", f"/api/links/{link['token']}/qr.svg")
    png = member.call("GET", f"/api/links/{link['token']}/qr.png", headers={"Accept": "image/png"})

    assert svg.status_code == 200
    assert svg.headers["Content-Type"] == "image/svg+xml"
    assert b"<svg" in svg.body
    assert png.status_code == 200
    assert png.body.startswith(b"\x89PNG")
    assert anonymous.call("GET", f"/api/links/{link['token']}/qr.svg").status_code == 401


def test_misses_on_join_links_are_throttled_like_links(anonymous):
    # A window of its own, far ahead, so other tests' misses do not count here.
    with time_machine.travel(datetime.now(UTC) + timedelta(days=210)):
        statuses = [anonymous.call("GET", f"/join/guess{n:039d}").status_code for n in range(7)]

    assert statuses == [404] * 5 + [429] * 2


@pytest.mark.parametrize(
    ("ip", "source"),
    [
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("192.0.2.7", "192.0.2.7"),
        ("not an address", "unknown"),
        (None, "unknown"),
    ],
)
def test_guesses_are_counted_per_ipv4_address_and_per_ipv6_64(ip, source):
    from chalicelib import throttle

    assert throttle.source_of(ip) == source


def test_one_ipv6_host_cannot_escape_the_throttle_by_changing_its_address(stack):
    from chalicelib import throttle
    from chalicelib.errors import TooManyRequests

    with time_machine.travel(datetime.now(UTC) + timedelta(days=220), tick=False):
        for n in range(5):
            throttle.count_miss(f"2001:db8:77:1::{n + 1:x}")
        with pytest.raises(TooManyRequests):
            throttle.count_miss("2001:db8:77:1:dead:beef::6")
        throttle.count_miss("2001:db8:77:2::1")  # another /64 is another source
