"""The request log: one JSON line per request, with the route pattern and never a token."""

from __future__ import annotations

import json

from conftest import shared_file


def test_one_json_line_per_request_without_token_or_presigned_url(member, anonymous, capfd):
    _, link = shared_file(member)
    capfd.readouterr()

    anonymous.call("GET", f"/s/{link['token']}/download")

    out = capfd.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert len(lines) == 1
    assert lines[0]["route"] == "/s/{token}/download"
    assert lines[0]["status"] == 302
    assert lines[0]["request_id"]
    assert lines[0]["duration_ms"] >= 0
    assert link["token"] not in out
    assert link["token"][:22] not in out
    assert "X-Amz-Signature" not in out
