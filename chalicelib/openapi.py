"""The OpenAPI 3.1 document of the member API: every `/api` route, its bodies and its errors."""

from __future__ import annotations

from typing import Any

from chalicelib import paging
from chalicelib.config import get_settings

Json = dict[str, Any]

# The codes each request body or query can be refused with (bodies.py, paging.py).
_BODY_CODES = ("invalid_json", "missing_field", "unknown_field", "invalid_field")
_VALID_UNTIL_CODES = ("invalid_valid_until", "valid_until_in_past", "valid_until_too_far")
_NEW_FILE_CODES = _BODY_CODES + ("invalid_name", "invalid_size", "file_too_large", "invalid_content_type")
_NEW_LINK_CODES = ("invalid_json", "unknown_field", "invalid_field") + _VALID_UNTIL_CODES
_LINK_CHANGE_CODES = _BODY_CODES + _VALID_UNTIL_CODES
_PAGING_CODES = ("invalid_limit", "invalid_cursor")

# Each error response: its status, what it means, and every code it carries somewhere in /api.
_ERRORS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "BadRequest": (
        "400",
        "The request body or query string is not acceptable; nothing was stored.",
        tuple(dict.fromkeys(_NEW_FILE_CODES + _LINK_CHANGE_CODES + _PAGING_CODES)),
    ),
    "Unauthorized": ("401", "No valid Cognito ID or access token was sent.", ("missing_token", "invalid_token")),
    "Forbidden": ("403", "The token is valid, but its holder is not a member of the team.", ("not_a_member",)),
    "NotFound": (
        "404",
        "No such file or link among the caller's own: another member's is as unknown as a missing one.",
        ("file_not_found", "link_not_found", "version_not_found"),
    ),
    "Conflict": (
        "409",
        "The file or link is not in a state that allows this.",
        ("file_not_ready", "file_changed", "file_already_complete", "upload_incomplete", "upload_missing")
        + ("size_mismatch", "upload_expired", "file_deleting", "link_revoked"),
    ),
}


def _codes(codes: tuple[str, ...]) -> str:
    return "Codes: " + ", ".join(f"`{code}`" for code in codes) + "."


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Json) -> Json:
    return {"application/json": {"schema": schema}}


def _object(properties: Json, required: tuple[str, ...] | None = None, **extra: Any) -> Json:
    """An object schema; every property is required unless `required` names fewer."""
    needed = list(properties) if required is None else list(required)
    return {"type": "object", "properties": properties, "required": needed, **extra}


def _moment(description: str, nullable: bool = False) -> Json:
    kind = ["string", "null"] if nullable else "string"
    return {"type": kind, "format": "date-time", "description": description}


def _path(name: str, description: str) -> Json:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"}}


def _query(name: str, description: str, schema: Json) -> Json:
    return {"name": name, "in": "query", "description": description, "schema": schema}


def _ok(description: str, **properties: Json) -> Json:
    """A JSON answer whose body is an object of the given properties."""
    return {"description": description, "content": _json(_object(properties))}


def _operation(
    view: str,
    summary: str,
    responses: Json,
    *,
    parameters: tuple[Json, ...] = (),
    body: str | None = None,
    errors: dict[str, tuple[str, ...]] | None = None,
    public: bool = False,
) -> Json:
    """One operation: its view function names it; members-only unless `public`."""
    operation: Json = {"operationId": view, "summary": summary, "responses": dict(responses)}
    if parameters:
        operation["parameters"] = list(parameters)
    if body:
        operation["requestBody"] = {"required": True, "content": _json(_ref(body))}
    if public:
        operation["security"] = []
    else:
        errors = {"Unauthorized": _ERRORS["Unauthorized"][2], "Forbidden": _ERRORS["Forbidden"][2], **(errors or {})}
    for name, codes in (errors or {}).items():
        status, meaning, _ = _ERRORS[name]
        # A reference may override the description: here it lists only this operation's codes.
        reference = {"$ref": f"#/components/responses/{name}", "description": f"{meaning} {_codes(codes)}"}
        operation["responses"][status] = reference
    return operation


_LIMIT = {"type": "integer", "minimum": 1, "maximum": paging.MAX_LIMIT, "default": paging.DEFAULT_LIMIT}
_FILE_ID = _path("file_id", "The file's id, as `file_id` in a File.")
_VERSION_ID = _path("version_id", "The S3 version id, as `version_id` in a Version.")
_TOKEN = _path("token", "The link's token, as `token` in a Link; it is also the last part of the link's URL.")


def _paths() -> Json:
    not_found_file = {"NotFound": ("file_not_found",)}
    not_found_link = {"NotFound": ("link_not_found",)}
    return {
        "/api/files": {
            "post": _operation(
                "create_file",
                "Announce a file and get the plan to upload its bytes straight to S3",
                {"201": _ok("The file, still uploading, and its plan.", file=_ref("File"), upload=_ref("UploadPlan"))},
                body="NewFile",
                errors={"BadRequest": _NEW_FILE_CODES},
            ),
            "get": _operation(
                "list_files",
                "List the caller's files, newest first, a page at a time",
                {
                    "200": _ok(
                        "A page of files; `next_cursor` is null on the last page.",
                        files={"type": "array", "items": _ref("File")},
                        next_cursor={"type": ["string", "null"]},
                    )
                },
                parameters=(
                    _query("limit", "How many files a page holds.", _LIMIT),
                    _query("cursor", "The `next_cursor` of the previous page.", {"type": "string"}),
                ),
                errors={"BadRequest": _PAGING_CODES},
            ),
        },
        "/api/files/{file_id}": {
            "get": _operation(
                "get_file",
                "Get one file",
                {"200": _ok("The file.", file=_ref("File"))},
                parameters=(_FILE_ID,),
                errors=not_found_file,
            ),
            "delete": _operation(
                "delete_file",
                "Delete a file: its links stop working at once; S3 keeps earlier versions",
                {"204": {"description": "Deleted; no body."}},
                parameters=(_FILE_ID,),
                errors=not_found_file,
            ),
        },
        "/api/files/{file_id}/upload": {
            "post": _operation(
                "renew_upload",
                "Get a fresh upload plan for a file still uploading (resumes a multipart upload)",
                {"200": _ok("Fresh URLs, and only for the parts S3 does not hold yet.", upload=_ref("UploadPlan"))},
                parameters=(_FILE_ID,),
                errors={**not_found_file, "Conflict": ("file_already_complete",)},
            ),
        },
        "/api/files/{file_id}/complete": {
            "post": _operation(
                "complete_file",
                "Mark a file ready once S3 holds all its announced bytes",
                {"200": _ok("The file, now ready (completing a ready file changes nothing).", file=_ref("File"))},
                parameters=(_FILE_ID,),
                errors={
                    **not_found_file,
                    "Conflict": ("upload_incomplete", "upload_missing", "size_mismatch")
                    + ("upload_expired", "file_deleting"),
                },
            ),
        },
        "/api/files/{file_id}/versions": {
            "get": _operation(
                "list_versions",
                "List every version of a file, newest first, with who uploaded it",
                {
                    "200": _ok(
                        "A page of versions; `next_cursor` is null on the last page.",
                        versions={"type": "array", "items": _ref("Version")},
                        next_cursor={"type": ["string", "null"]},
                    )
                },
                parameters=(
                    _FILE_ID,
                    _query("limit", "How many versions a page holds.", _LIMIT),
                    _query("cursor", "The `next_cursor` of the previous page.", {"type": "string"}),
                ),
                errors={"BadRequest": _PAGING_CODES, **not_found_file},
            ),
        },
        "/api/files/{file_id}/versions/{version_id}/download": {
            "get": _operation(
                "download_version",
                "Download any version of a file: a redirect to a short-lived S3 URL",
                {
                    "302": {
                        "description": "`Location` is a presigned GET of that version, saved under its own name.",
                        "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
                    }
                },
                parameters=(_FILE_ID, _VERSION_ID),
                errors={"NotFound": ("file_not_found", "version_not_found")},
            ),
        },
        "/api/files/{file_id}/links": {
            "post": _operation(
                "create_link",
                "Make an external link to a ready file",
                {"201": _ok("The new link.", link=_ref("Link"))},
                parameters=(_FILE_ID,),
                body="NewLink",
                errors={
                    "BadRequest": _NEW_LINK_CODES,
                    **not_found_file,
                    "Conflict": ("file_not_ready", "file_changed"),
                },
            ),
            "get": _operation(
                "list_links",
                "List a file's links, newest first, revoked and expired ones included",
                {"200": _ok("The file's links.", links={"type": "array", "items": _ref("Link")})},
                parameters=(_FILE_ID,),
                errors=not_found_file,
            ),
        },
        "/api/links/{token}": {
            "patch": _operation(
                "change_link",
                "Change a link's end date or options",
                {"200": _ok("The link, changed.", link=_ref("Link"))},
                parameters=(_TOKEN,),
                body="LinkChange",
                errors={"BadRequest": _LINK_CHANGE_CODES, **not_found_link, "Conflict": ("link_revoked",)},
            ),
            "delete": _operation(
                "revoke_link",
                "Revoke a link: it stops working at once (download URLs already issued live out their few minutes)",
                {"200": _ok("The link, revoked (revoking it again changes nothing).", link=_ref("Link"))},
                parameters=(_TOKEN,),
                errors=not_found_link,
            ),
        },
        "/api/links/{token}/qr.svg": {
            "get": _operation(
                "link_qr_svg",
                "The link's QR code as SVG",
                {"200": {"description": "The QR code.", "content": {"image/svg+xml": {"schema": {"type": "string"}}}}},
                parameters=(_TOKEN,),
                errors=not_found_link,
            ),
        },
        "/api/links/{token}/qr.png": {
            "get": _operation(
                "link_qr_png",
                "The link's QR code as PNG",
                {"200": {"description": "The QR code.", "content": {"image/png": {}}}},
                parameters=(_TOKEN,),
                errors=not_found_link,
            ),
        },
        "/api/openapi.json": {
            "get": _operation(
                "openapi_document",
                "This document",
                {"200": {"description": "The OpenAPI document.", "content": _json({"type": "object"})}},
                public=True,
            ),
        },
    }


def _schemas() -> Json:
    settings = get_settings()
    valid_until_rule = (
        "An ISO-8601 date (2026-12-31, meaning the end of that day, UTC) or time (2026-12-31T18:00:00Z; "
        f"without an offset it is UTC), in the future and at most {settings.max_link_days} days away; "
        "null means the link works until it is revoked."
    )
    link_options = {
        "valid_until": {"type": ["string", "null"], "description": valid_until_rule},
        "allow_upload": {"type": "boolean", "description": "Whether the recipient may upload a new version."},
        "require_login": {"type": "boolean", "description": "Whether the recipient must sign in to download."},
    }
    return {
        "File": _object(
            {
                "file_id": {"type": "string"},
                "name": {"type": "string"},
                "size": {"type": "integer", "minimum": 1, "description": "Bytes."},
                "content_type": {"type": "string"},
                "status": {
                    "enum": ["uploading", "ready", "deleting"],
                    "description": "`uploading` until the server saw the bytes in S3; only `ready` files are shared.",
                },
                "created_at": _moment("When the file was announced."),
                "updated_at": _moment("When the file last changed."),
            }
        ),
        "Link": _object(
            {
                "token": {"type": "string", "description": "The secret that opens the link; keep it like a password."},
                "url": {"type": "string", "format": "uri", "description": "The link to hand to the recipient."},
                "qr_svg": {"type": "string", "format": "uri"},
                "qr_png": {"type": "string", "format": "uri"},
                "file_id": {"type": "string"},
                "status": {"enum": ["active", "expired", "revoked"]},
                "valid_until": _moment("When the link stops working; null: until revoked.", nullable=True),
                "allow_upload": {"type": "boolean"},
                "require_login": {"type": "boolean"},
                "downloads": {"type": "integer", "minimum": 0},
                "created_at": _moment("When the link was made."),
                "updated_at": _moment("When the link last changed."),
                "revoked_at": _moment("When the link was revoked; null while it is not.", nullable=True),
            }
        ),
        "Version": _object(
            {
                "version_id": {"type": "string", "description": "The S3 version id."},
                "name": {"type": "string", "description": "The name the file had with this version."},
                "size": {"type": "integer", "minimum": 1, "description": "Bytes."},
                "content_type": {"type": "string"},
                "uploaded_at": _moment("When the server checked the bytes and recorded the version."),
                "uploaded_by": {
                    "type": "string",
                    "description": "`member:<sub>`, `email:<address>` (a signed-in recipient) or `anonymous`.",
                },
                "link_token": {
                    "type": ["string", "null"],
                    "description": "The token of the link a recipient uploaded through; null for a member's upload.",
                },
                "ip": {"type": ["string", "null"], "description": "The address the upload came from."},
                "current": {"type": "boolean", "description": "Whether the file and its links serve this version."},
                "download_url": {"type": "string", "format": "uri"},
            }
        ),
        "UploadPlan": {
            "description": "How to send the bytes straight to S3; then call `POST /api/files/{file_id}/complete`.",
            "oneOf": [
                _object(
                    {
                        "method": {"const": "POST"},
                        "url": {"type": "string", "format": "uri"},
                        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                        "expires_at": _moment("When the URL stops working."),
                    },
                    title="PostUpload",
                    description="A small file: one multipart/form-data POST to `url` with every field, "
                    "then the bytes as the last field, `file`. S3 refuses any other size or key.",
                ),
                _object(
                    {
                        "method": {"const": "MULTIPART"},
                        "upload_id": {"type": "string"},
                        "part_size": {
                            "type": "integer",
                            "minimum": 1,
                            "description": "Bytes in every part but the last.",
                        },
                        "parts": {
                            "type": "array",
                            "description": "The parts still to send.",
                            "items": _object(
                                {
                                    "part_number": {"type": "integer", "minimum": 1},
                                    "url": {
                                        "type": "string",
                                        "format": "uri",
                                        "description": "PUT the part's bytes here.",
                                    },
                                }
                            ),
                        },
                        "parts_done": {
                            "type": "array",
                            "description": "Part numbers S3 already holds.",
                            "items": {"type": "integer", "minimum": 1},
                        },
                        "expires_at": _moment("When the URLs stop working."),
                    },
                    title="MultipartUpload",
                    description="A large file: PUT each part (from byte (part_number - 1) * part_size) to its URL.",
                ),
            ],
        },
        "NewFile": _object(
            {
                "name": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 255,
                    "description": "The file's name, without control characters; surrounding spaces are dropped.",
                },
                "size": {"type": "integer", "minimum": 1, "maximum": settings.max_file_size, "description": "Bytes."},
                "content_type": {
                    "type": ["string", "null"],
                    "maxLength": 200,
                    "default": "application/octet-stream",
                    "description": "A media type such as text/plain.",
                },
            },
            required=("name", "size"),
            additionalProperties=False,
        ),
        "NewLink": _object(
            {
                **link_options,
                "allow_upload": {**link_options["allow_upload"], "default": False},
                "require_login": {**link_options["require_login"], "default": False},
            },
            required=(),
            additionalProperties=False,
        ),
        "LinkChange": _object(
            link_options,
            required=(),
            additionalProperties=False,
            minProperties=1,
            description="Only the fields named change.",
        ),
        "Error": _object(
            {"error": _object({"code": {"type": "string"}, "message": {"type": "string"}})},
            description="`code` is stable, for programs; `message` is for people.",
        ),
    }


def _responses() -> Json:
    return {
        name: {"description": f"{meaning} {_codes(codes)}", "content": _json(_ref("Error"))}
        for name, (_, meaning, codes) in _ERRORS.items()
    }


def document() -> Json:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Handover",
            "version": "1",
            "description": (
                "Handover lets the team share files with people outside it through external links. "
                "A member announces a file, sends its bytes straight to S3 along the upload plan, completes "
                "it, and then makes links to it: each link has a URL and a QR code, may end on a date, and can be "
                "changed or revoked at once. Every operation but this document needs "
                "`Authorization: Bearer <token>` with a Cognito ID or access token of a member; bodies are "
                'JSON, and errors answer `{"error": {"code": "...", "message": "..."}}` with a 4xx status.'
            ),
        },
        "security": [{"bearerAuth": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A Cognito ID or access token of a member of the team.",
                }
            },
            "schemas": _schemas(),
            "responses": _responses(),
        },
    }
