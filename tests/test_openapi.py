"""The OpenAPI document stays true to the routes, is valid OpenAPI 3.1, and the API answers as it says."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import MiB, scanned, shared_file, upload
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from chalicelib import openapi

CHALICELIB = Path(__file__).resolve().parent.parent / "chalicelib"


@pytest.fixture(scope="module")
def document(app) -> dict[str, Any]:
    return openapi.document()


# Recipients' downloads answer redirects and pages, yet belong in the document beside their uploads.
_RECIPIENT_DOWNLOADS = {
    ("/s/{token}/download", "get"),
    ("/s/{token}/download", "post"),
    ("/s/{token}/files/{file_id}/download", "get"),
    ("/portal/folders/{folder_id}/files/{file_id}/download", "get"),
}


def _is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def _documented_routes(app) -> dict[tuple[str, str], Any]:
    """The member API, the recipients' upload APIs (JSON too), and the recipients' downloads."""
    return {
        (path, method.lower()): entry
        for path, methods in app.routes.items()
        for method, entry in methods.items()
        if _is_api(path) or "/uploads" in path or "/zip" in path or (path, method.lower()) in _RECIPIENT_DOWNLOADS
    }


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(path, method): operation for path, item in document["paths"].items() for method, operation in item.items()}


def test_the_document_describes_every_api_and_recipient_route_and_nothing_else(app, document):
    assert set(_operations(document)) == set(_documented_routes(app))


def test_each_operation_id_is_the_routes_view_function(app, document):
    operations = _operations(document)
    for key, entry in _documented_routes(app).items():
        assert operations[key]["operationId"] == entry.view_name, key


def test_every_path_parameter_is_declared(app, document):
    operations = _operations(document)
    for (path, method), entry in _documented_routes(app).items():
        declared = {p["name"] for p in operations[path, method].get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)) == set(entry.view_args), (path, method)


def test_every_operation_but_the_document_itself_needs_a_member_token(document):
    assert document["security"] == [{"bearerAuth": []}]
    for (path, method), operation in _operations(document).items():
        if path == "/api/openapi.json":
            assert operation["security"] == []
        elif not _is_api(path):
            # Anonymous, or signed in with a token or the session.
            assert operation["security"] == [{}, {"bearerAuth": []}, {"sessionCookie": []}], (path, method)
        else:
            assert "security" not in operation, (path, method)
            assert {"401", "403"} <= set(operation["responses"]), (path, method)


def test_every_error_code_named_is_one_the_code_raises(document):
    source = "".join(path.read_text() for path in CHALICELIB.glob("*.py") if path.name != "openapi.py")
    responses = document["components"]["responses"]
    for name, response in responses.items():
        for code in re.findall(r"`(\w+)`", response["description"]):
            assert f'"{code}"' in source, (name, code)
    for (path, method), operation in _operations(document).items():
        for status, response in operation["responses"].items():
            if "$ref" in response:
                listed = responses[response["$ref"].rsplit("/", 1)[1]]["description"]
                for code in re.findall(r"`(\w+)`", response["description"]):
                    assert f"`{code}`" in listed, (path, method, status, code)


def test_the_document_is_valid_openapi_3_1(document):
    validate(document, cls=OpenAPIV31SpecValidator)


def test_the_document_names_the_hosted_login_page_and_the_public_client(document, stack):
    login = document["components"]["securitySchemes"]["hostedLogin"]
    flow = login["flows"]["authorizationCode"]

    # Programs (the `handover` command) find how to sign in from the site's URL alone.
    assert login["x-client-id"] == stack.client_id
    assert flow["authorizationUrl"] == f"{stack.app_url}/local-login/oauth2/authorize"
    assert flow["tokenUrl"] == flow["refreshUrl"] == f"{stack.app_url}/local-login/oauth2/token"


def test_the_document_is_served_without_a_token(anonymous, document):
    answer = anonymous.call("GET", "/api/openapi.json")

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.data == document


def _conforms(document: dict[str, Any], method: str, path: str, answer) -> None:
    """The answer's body matches the schema the document gives for that operation and status."""
    response = document["paths"][path][method]["responses"][str(answer.status_code)]
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    if "content" not in response:  # a redirect
        assert answer.headers["Location"]
        return
    if "text/html" in response["content"]:
        assert answer.headers["Content-Type"].startswith("text/html")
        return
    schema = {**response["content"]["application/json"]["schema"], "components": document["components"]}
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(answer.data)


def test_the_api_answers_as_the_document_says(member, document):
    file, link = shared_file(member)
    file_path = f"/api/files/{file['file_id']}"
    link_path = f"/api/links/{link['token']}"
    calls = [
        ("post", "/api/files", "/api/files", {"name": "a.txt", "size": 3}, 201),
        ("post", "/api/files", "/api/files", {"name": "big.bin", "size": 7 * MiB}, 201),
        ("get", "/api/files", "/api/files?limit=1", None, 200),
        ("get", "/api/files", "/api/files?limit=0", None, 400),
        ("get", "/api/files/{file_id}", file_path, None, 200),
        ("get", "/api/files/{file_id}", "/api/files/nothing-here", None, 404),
        ("post", "/api/files/{file_id}/complete", f"{file_path}/complete", None, 200),
        ("post", "/api/files/{file_id}/upload", f"{file_path}/upload", None, 409),
        ("post", "/api/files/{file_id}/links", f"{file_path}/links", {"valid_until": "2000-01-01"}, 400),
        ("get", "/api/files/{file_id}/links", f"{file_path}/links", None, 200),
        ("get", "/api/files/{file_id}/versions", f"{file_path}/versions?limit=1", None, 200),
        ("get", "/api/files/{file_id}/versions", f"{file_path}/versions?cursor=bm90LWpzb24", None, 400),
        (
            "get",
            "/api/files/{file_id}/versions/{version_id}/download",
            f"{file_path}/versions/nope/download",
            None,
            404,
        ),
        ("patch", "/api/links/{token}", link_path, {"allow_upload": True, "valid_until": None}, 200),
        ("delete", "/api/links/{token}", link_path, None, 200),
        ("patch", "/api/links/{token}", link_path, {"require_login": True}, 409),
    ]
    for method, template, path, body, status in calls:
        answer = member.call(method.upper(), path, body)
        assert answer.status_code == status, (method, path, answer.body)
        _conforms(document, method, template, answer)


def test_the_recipient_routes_answer_as_the_document_says(member, anonymous, document):
    _, link = shared_file(member, allow_upload=True)
    _, closed = shared_file(member)
    link_path, closed_path = f"/s/{link['token']}", f"/s/{closed['token']}"
    started = anonymous.call("POST", f"{link_path}/uploads", {"name": "new.txt", "size": 4})
    assert started.status_code == 201, started.body
    _conforms(document, "post", "/s/{token}/uploads", started)
    uploads = f"{link_path}/uploads/{started.data['upload']['upload_id']}"
    calls = [
        ("post", "/s/{token}/uploads", f"{link_path}/uploads", {"name": "", "size": 4}, 400),
        ("post", "/s/{token}/uploads", f"{closed_path}/uploads", {"name": "a.txt", "size": 4}, 403),
        ("post", "/s/{token}/uploads/{upload_id}/plan", f"{uploads}/plan", None, 200),
        ("post", "/s/{token}/uploads/{upload_id}/complete", f"{uploads}/complete", None, 409),
        ("post", "/s/{token}/uploads/{upload_id}/complete", f"{link_path}/uploads/{'A' * 22}/complete", None, 404),
        ("get", "/s/{token}/download", f"{closed_path}/download", None, 302),
        (
            "get",
            "/s/{token}/files/{file_id}/download",
            f"/s/{closed['token']}/files/x/download",
            None,
            404,
        ),
        ("post", "/portal/folders/{folder_id}/uploads", "/portal/folders/nothing-here/uploads", {}, 401),
        ("post", "/s/{token}/zip", f"{closed_path}/zip", None, 404),
        ("get", "/s/{token}/zip/{ticket}", f"{closed_path}/zip/forged.ticket", None, 404),
        ("get", "/s/{token}/zip/{ticket}/download", f"{closed_path}/zip/forged.ticket/download", None, 404),
    ]
    for method, template, path, body, status in calls:
        answer = anonymous.call(method.upper(), path, body)
        assert answer.status_code == status, (method, path, answer.body)
        _conforms(document, method, template, answer)


def test_download_all_answers_as_the_document_says(member, anonymous, document):
    folder = member.call("POST", "/api/folders", {"name": "Pack"}).data["file"]
    created = member.call("POST", "/api/files", {"name": "a.txt", "size": 1, "folder_id": folder["file_id"]})
    upload(created.data["upload"], b"a")
    member.call("POST", f"/api/files/{created.data['file']['file_id']}/complete")
    scanned()
    token = member.call("POST", f"/api/files/{folder['file_id']}/links", {}).data["link"]["token"]

    started = anonymous.call("POST", f"/s/{token}/zip")
    ticket = started.data["zip"]["status_url"].rsplit("/", 1)[1]
    polled = anonymous.call("GET", f"/s/{token}/zip/{ticket}")

    _conforms(document, "post", "/s/{token}/zip", started)
    _conforms(document, "get", "/s/{token}/zip/{ticket}", polled)
