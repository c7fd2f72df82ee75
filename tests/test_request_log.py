"""The request log: one JSON line per request, with the route pattern and never a token."""

from __future__ import annotations

import json
import uuid

import pytest
from conftest import Api, MiB, shared_file, signed_in
from spies import aws_operations


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
    assert lines[0]["caller"] == "anonymous"
    assert link["token"] not in out
    assert link["token"][:22] not in out
    assert "X-Amz-Signature" not in out


def test_the_line_names_the_kind_of_caller_and_never_who(member, stack, client, capfd):
    partner = Api(client, signed_in(stack, "partner@example.org", groups=()))
    capfd.readouterr()

    member.call("GET", "/api/files")
    partner.call("GET", "/api/files")  # a signed-in outsider: 403

    out = capfd.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if '"route"' in line]
    assert [(line["caller"], line["status"]) for line in lines] == [("member", 200), ("external", 403)]
    assert "alice@example.com" not in out and "partner@example.org" not in out


def test_a_signed_in_visitor_of_a_public_link_is_logged_by_kind_without_asking_cognito(member, anonymous, capfd):
    from chalicelib import sessions

    _, link = shared_file(member)
    _, partner = sessions.start("partner", "partner-sub", "partner@example.org", "email:partner@example.org")
    _, colleague = sessions.start("bob", "bob-sub", "bob@example.com", "member:bob@example.com")
    capfd.readouterr()

    with aws_operations("AWSCognitoIdentityProviderService.") as cognito_calls:
        for cookie in (partner, colleague):
            anonymous.call("GET", f"/s/{link['token']}", headers={"Cookie": f"{sessions.COOKIE}={cookie}"})

    assert cognito_calls == []

    lines = [json.loads(line) for line in capfd.readouterr().out.splitlines() if '"route"' in line]
    assert [(line["caller"], line["status"]) for line in lines] == [("external", 200), ("member", 200)]


@pytest.fixture
def cut_off(monkeypatch):
    """Make one AWS service unreachable for one module: a real client aimed at a closed port,
    so every call fails as it would if the service were down."""
    import boto3
    from botocore.config import Config

    def cut(module, accessor: str, service: str) -> None:
        dead = boto3.client(
            service,
            region_name="us-east-1",
            endpoint_url="http://127.0.0.1:9",
            config=Config(retries={"max_attempts": 1}, connect_timeout=1),
        )
        monkeypatch.setattr(module, accessor, lambda: dead)

    return cut


def test_an_unexpected_failure_answers_500_with_the_request_id_logged_with_its_traceback(member, cut_off, capfd):
    from chalicelib import storage

    cut_off(storage, "s3", "s3")
    capfd.readouterr()

    # Large enough for a multipart upload, whose start needs S3.
    name = f"unstored-{uuid.uuid4().hex}.bin"
    answer = member.call("POST", "/api/files", {"name": name, "size": 7 * MiB})

    assert answer.status_code == 500
    assert answer.data["error"]["code"] == "internal_error"
    lines = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")]
    failure = next(line for line in lines if "traceback" in line)
    request = next(line for line in lines if line.get("route") == "/api/files")
    assert "EndpointConnectionError" in failure["traceback"]
    assert failure["request_id"] == request["request_id"]
    assert request["status"] == 500
    assert request["request_id"] in answer.data["error"]["message"]
    # Nothing was stored: the member's list has no such file.
    assert name not in [f["name"] for f in member.call("GET", "/api/files?limit=200").data["files"]]


def test_an_unexpected_failure_on_a_page_is_a_readable_page_with_the_request_id(member, cut_off, capfd):
    from chalicelib import directory

    cut_off(directory, "cognito", "cognito-idp")
    capfd.readouterr()

    answer = member.call("GET", "/console")

    assert answer.status_code == 500
    assert answer.headers["Content-Type"].startswith("text/html")
    request = next(json.loads(line) for line in capfd.readouterr().out.splitlines() if '"route"' in line)
    assert request["request_id"] in answer.body.decode()


def test_a_failure_while_answering_an_error_is_still_a_500_with_the_request_id(anonymous, monkeypatch, capfd):
    from chalicelib import pages

    def broken(*args, **kwargs):
        raise RuntimeError("the error page cannot render")

    monkeypatch.setattr(pages, "render", broken)
    capfd.readouterr()

    answer = anonymous.call("GET", f"/s/{'A' * 44}")

    assert answer.status_code == 500
    assert answer.data["error"]["code"] == "internal_error"
    lines = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")]
    failure = next(line for line in lines if "traceback" in line)
    assert "the error page cannot render" in failure["traceback"]
    assert failure["request_id"] in answer.data["error"]["message"]
