"""The OpenAPI 3.1 document: every `/api` route and every recipient route, their bodies and their errors."""

from __future__ import annotations

from typing import Any

from chalicelib import paging, shapes
from chalicelib.config import get_settings

Json = dict[str, Any]

# The codes each request body or query can be refused with (shapes.py, paging.py).
_BODY_CODES = ("invalid_json", "missing_field", "unknown_field", "invalid_field")
_VALID_UNTIL_CODES = ("invalid_valid_until", "valid_until_in_past", "valid_until_too_far", "valid_until_past_policy")
_NEW_FILE_CODES = _BODY_CODES + ("invalid_name", "invalid_size", "file_too_large", "invalid_content_type")
# A link's own limits and its question of who sends (uploads.py), and the sender's answers (shapes.NewUpload).
_NEW_UPLOAD_CODES = _NEW_FILE_CODES + ("invalid_email", "upload_too_large", "type_not_allowed", "sender_required")
_UPLOAD_LIMIT_CODES = ("invalid_ask_sender", "invalid_max_upload_bytes", "invalid_allowed_types")
_AUDIENCE_CODES = ("invalid_email", "invalid_group", "unknown_group", "too_many_recipients")
_LINK_FIELD_CODES = ("invalid_label", "invalid_message", "invalid_password", "invalid_download_limit")
_LINK_FIELD_CODES += ("download_limit_for_folder",)
_NEW_LINK_CODES = ("invalid_json", "unknown_field", "invalid_field") + _VALID_UNTIL_CODES + _AUDIENCE_CODES
_NEW_LINK_CODES += _LINK_FIELD_CODES + _UPLOAD_LIMIT_CODES
_LINK_CHANGE_CODES = _BODY_CODES + _VALID_UNTIL_CODES + _AUDIENCE_CODES + _LINK_FIELD_CODES
_LINK_CHANGE_CODES += _UPLOAD_LIMIT_CODES
_PAGING_CODES = ("invalid_limit", "invalid_cursor")
_PEOPLE_QUERY_CODES = ("invalid_sort", "invalid_order", "invalid_time_range", "invalid_search") + _PAGING_CODES
_ADMIN_CODES = ("not_a_member", "not_an_admin", "csrf_failed")
_GROUP_CODES = ("invalid_json", "missing_field", "unknown_field", "invalid_group", "team_group")
# Why a link or a shared folder refuses a recipient (links.py, collaborators.py, uploads.py).
_LINK_REFUSALS: dict[str, tuple[str, ...]] = {
    "Unauthorized": ("login_required", "missing_token", "invalid_token"),
    "NotFound": ("link_not_found",),
    "Gone": ("link_expired", "link_revoked", "download_limit_reached"),
    "TooManyRequests": ("too_many_requests",),
}
_LINK_UPLOAD_REFUSALS = {
    **_LINK_REFUSALS,
    "Forbidden": ("not_allowed", "upload_not_allowed", "csrf_failed", "password_required"),
}
# A page sends a visitor who must sign in to the sign-in page instead (a 302).
_PAGE_REFUSALS = {**_LINK_REFUSALS, "Unauthorized": ("missing_token", "invalid_token")}
_FOLDER_UPLOAD_REFUSALS = {
    "Unauthorized": ("login_required", "missing_token", "invalid_token"),
    "Forbidden": ("upload_not_allowed", "csrf_failed"),
    "NotFound": ("folder_not_found",),
}
_UPLOAD_STATE_CODES = ("upload_already_complete", "upload_completing", "upload_expired")
_COMPLETE_CODES = ("upload_incomplete", "upload_missing", "size_mismatch") + _UPLOAD_STATE_CODES

# Each error response: its status, what it means, and every code it carries somewhere in the document.
_ERRORS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "BadRequest": (
        "400",
        "The request body or query string is not acceptable; nothing was stored.",
        tuple(
            dict.fromkeys(
                _NEW_UPLOAD_CODES
                + _LINK_CHANGE_CODES
                + _AUDIENCE_CODES
                + _PEOPLE_QUERY_CODES
                + ("invalid_usernames", "not_external", "invalid_person", "team_group", "invalid_role", "not_a_folder")
                + ("not_an_invitation",)
                + ("invalid_policy",)
            )
        ),
    ),
    "Unauthorized": (
        "401",
        "No valid Cognito ID or access token was sent, or the link needs the recipient to sign in.",
        ("missing_token", "invalid_token", "login_required"),
    ),
    "Forbidden": (
        "403",
        "The caller may not do this (not a member, not someone the link is for, no upload allowed), "
        "or a request made with a session lacks its CSRF token.",
        ("not_a_member", "not_an_admin", "csrf_failed", "not_allowed", "upload_not_allowed", "password_required"),
    ),
    "NotFound": (
        "404",
        "No such file or link among the caller's own (another member's is as unknown as a missing one), "
        "or no such upload through this link or folder.",
        ("file_not_found", "folder_not_found", "link_not_found", "user_not_found", "group_not_found")
        + ("request_not_found", "collaborator_not_found", "version_not_found", "upload_not_found")
        + ("link_is_folder", "not_a_folder_link", "zip_not_found", "invitation_not_found"),
    ),
    "Conflict": (
        "409",
        "The file, link or upload is not in a state that allows this.",
        ("file_not_ready", "file_changed", "file_already_complete", "upload_incomplete", "upload_missing")
        + ("size_mismatch", "upload_expired", "file_deleting", "link_revoked", "group_exists", "request_answered")
        + ("upload_already_complete", "upload_completing", "folder_empty", "folder_too_large", "zip_not_ready")
        + ("scan_pending", "version_infected"),
    ),
    "Gone": (
        "410",
        "The link existed but stopped working: it expired, was revoked, or its downloads are used up.",
        ("link_expired", "link_revoked", "download_limit_reached"),
    ),
    "TooManyRequests": (
        "429",
        "Too many unknown links from this address: wait a few minutes.",
        ("too_many_requests",),
    ),
}


def _codes(codes: tuple[str, ...]) -> str:
    return "Codes: " + ", ".join(f"`{code}`" for code in codes) + "."


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Json) -> Json:
    return {"application/json": {"schema": schema}}


def _object(properties: Json) -> Json:
    return {"type": "object", "properties": properties, "required": list(properties)}


def _path(name: str, description: str) -> Json:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"}}


def _query(name: str, description: str, schema: Json) -> Json:
    return {"name": name, "in": "query", "description": description, "schema": schema}


def _ok(description: str, **properties: Json) -> Json:
    """A JSON answer whose body is an object of the given properties."""
    return {"description": description, "content": _json(_object(properties))}


def _answer(description: str, shape: str) -> Json:
    """A JSON answer whose body is one shape."""
    return {"description": description, "content": _json(_ref(shape))}


def _operation(
    view: str,
    summary: str,
    responses: Json,
    *,
    parameters: tuple[Json, ...] = (),
    body: str | None = None,
    errors: dict[str, tuple[str, ...]] | None = None,
    public: bool = False,
    recipient: bool = False,
    page: bool = False,
) -> Json:
    """One operation: its view function names it; members-only unless `public` or for a `recipient`.

    A recipient may be anonymous, or signed in with a bearer token or the session cookie.
    A `page` operation answers its errors as readable HTML pages, not as JSON.
    """
    operation: Json = {"operationId": view, "summary": summary, "responses": dict(responses)}
    if parameters:
        operation["parameters"] = list(parameters)
    if body:
        operation["requestBody"] = {"required": True, "content": _json(_ref(body))}
    if public:
        operation["security"] = []
    elif recipient:
        operation["security"] = [{}, {"bearerAuth": []}, {"sessionCookie": []}]
    else:
        errors = {"Unauthorized": ("missing_token", "invalid_token"), "Forbidden": _ADMIN_CODES, **(errors or {})}
    for name, codes in (errors or {}).items():
        status, meaning, _ = _ERRORS[name]
        if page:
            content = {"text/html": {"schema": {"type": "string"}}}
            operation["responses"][status] = {"description": f"A page: {meaning} {_codes(codes)}", "content": content}
            continue
        # A reference may override the description: here it lists only this operation's codes.
        reference = {"$ref": f"#/components/responses/{name}", "description": f"{meaning} {_codes(codes)}"}
        operation["responses"][status] = reference
    return operation


_GROUP = _path("name", "The group's name.")
_USERNAME = _path("username", "The user's Cognito username.")
_LIMIT = {"type": "integer", "minimum": 1, "maximum": paging.MAX_LIMIT, "default": paging.DEFAULT_LIMIT}
_FILE_ID = _path("file_id", "The file's or folder's id, as `file_id` in a File.")
_VERSION_ID = _path("version_id", "The S3 version id, as `version_id` in a Version.")
_INVITATION_ID = _path("invitation_id", "As `invitation_id` in the folder's invitations.")
_TOKEN = _path("token", "The link's token, as `token` in a Link; it is also the last part of the link's URL.")
_UPLOAD_ID = _path("upload_id", "As `upload_id` in the plan the upload started with.")
_SHARED_FOLDER = _path("folder_id", "The shared folder's id, as in its page's address.")
_TICKET = _path("ticket", "The last part of `status_url` in the FolderZip that starting it answered.")
# Download all checks a link as its downloads do; its ticket names one ZIP of that link.
_ZIP_REFUSALS = {
    **_LINK_REFUSALS,
    "Forbidden": ("not_allowed", "csrf_failed"),
    "NotFound": ("link_not_found", "not_a_folder_link", "zip_not_found"),
}


def _redirect(description: str) -> Json:
    """A download's answer: the presigned URL, or the sign-in page when the visitor must sign in first."""
    description += " A visitor who must sign in first is sent to the sign-in page instead."
    return {
        "302": {"description": description, "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}}}
    }


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
                    _query("folder_id", "Only what this folder holds (`root`: the top level).", {"type": "string"}),
                    _query("limit", "How many files a page holds.", _LIMIT),
                    _query("cursor", "The `next_cursor` of the previous page.", {"type": "string"}),
                ),
                errors={"BadRequest": _PAGING_CODES, "NotFound": ("folder_not_found",)},
            ),
        },
        "/api/folders": {
            "post": _operation(
                "create_folder",
                "Create a folder, at the top level or in a folder",
                {"201": _ok("The folder.", file=_ref("File"))},
                body="NewFolder",
                errors={"BadRequest": _BODY_CODES + ("invalid_name",), "NotFound": ("folder_not_found",)},
            ),
        },
        "/api/files/{file_id}/events": {
            "get": _operation(
                "list_events",
                "The history of a file or folder, newest first, a page at a time",
                {
                    "200": _ok(
                        "A page of events; `next_cursor` is null on the last page.",
                        events={"type": "array", "items": _ref("Event")},
                        next_cursor={"type": ["string", "null"]},
                    )
                },
                parameters=(
                    _FILE_ID,
                    _query("limit", "How many events a page holds.", _LIMIT),
                    _query("cursor", "The `next_cursor` of the previous page.", {"type": "string"}),
                ),
                errors={"BadRequest": _PAGING_CODES, **not_found_file},
            ),
        },
        "/api/files/{file_id}/events.csv": {
            "get": _operation(
                "export_events",
                "The whole history of a file or folder as CSV",
                {"200": {"description": "at, kind, who, ip, user_agent, link, detail.", "content": {"text/csv": {}}}},
                parameters=(_FILE_ID,),
                errors=not_found_file,
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
            "patch": _operation(
                "rename_file",
                "Rename a file or folder; its links show the new name",
                {"200": _ok("The file or folder.", file=_ref("File"))},
                parameters=(_FILE_ID,),
                body="NewName",
                errors={"BadRequest": _BODY_CODES + ("invalid_name",), **not_found_file},
            ),
            "delete": _operation(
                "delete_file",
                "Delete a file, or a folder with all it holds: their links stop at once; S3 keeps versions",
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
                errors={
                    "NotFound": ("file_not_found", "version_not_found"),
                    "Conflict": ("scan_pending", "version_infected"),
                },
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
                "Change any option of a link (one History event says what changed); a revoked link stays revoked",
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
        "/api/admin/external-users": {
            "get": _operation(
                "list_external_users",
                "Admins: external users, filtered, searched and sorted, a page at a time",
                {
                    "200": _ok(
                        "A page of users; a page may hold fewer than `limit` when filters are selective: "
                        "read on with `next_cursor` until it is null.",
                        users={"type": "array", "items": _ref("ExternalUser")},
                        next_cursor={"type": ["string", "null"]},
                    )
                },
                parameters=(
                    _query("signed_up_from", "Signed up at or after (ISO date or time).", {"type": "string"}),
                    _query("signed_up_to", "Signed up at or before (a date covers that day).", {"type": "string"}),
                    _query("last_login_from", "Last signed in at or after.", {"type": "string"}),
                    _query("last_login_to", "Last signed in at or before.", {"type": "string"}),
                    _query("q", "Part of the name, email or phone, any case.", {"type": "string"}),
                    _query("sort", "What to sort by.", {"enum": ["signed_up_at", "last_login_at"]}),
                    _query("order", "Sort direction.", {"enum": ["asc", "desc"], "default": "desc"}),
                    _query("limit", "How many users a page holds at most.", _LIMIT),
                    _query("cursor", "The `next_cursor` of the previous page.", {"type": "string"}),
                ),
                errors={"BadRequest": _PEOPLE_QUERY_CODES, "Forbidden": _ADMIN_CODES},
            ),
        },
        "/api/admin/external-users/sync": {
            "post": _operation(
                "sync_external_users",
                "Admins: bring the list in line with Cognito (which stays the source of truth)",
                {"200": _answer("What the list now holds.", "Synced")},
                errors={"Forbidden": _ADMIN_CODES},
            ),
        },
        "/api/admin/external-users/{username}": {
            "delete": _operation(
                "delete_external_user",
                "Admins: delete an external user: the account, their sessions, their named access to links",
                {"204": {"description": "Deleted; no body."}},
                parameters=(_path("username", "The user's Cognito username, as `username` in the list."),),
                errors={"BadRequest": ("not_external",), "NotFound": ("user_not_found",), "Forbidden": _ADMIN_CODES},
            ),
        },
        "/api/admin/external-users/delete": {
            "post": _operation(
                "delete_external_users",
                "Admins: delete many external users; each succeeds or fails on its own",
                {"200": _answer("Who was deleted, and who was not and why.", "Deletions")},
                body="Usernames",
                errors={
                    "BadRequest": ("invalid_json", "missing_field", "unknown_field", "invalid_usernames"),
                    "Forbidden": _ADMIN_CODES,
                },
            ),
        },
        "/api/files/{file_id}/collaborators": {
            "get": _operation(
                "list_collaborators",
                "A folder's collaborators and open requests to join",
                {"200": _answer("Who works on the folder, and who asks to.", "Collaborators")},
                parameters=(_FILE_ID,),
                errors={"BadRequest": ("not_a_folder",), **not_found_file},
            ),
            "post": _operation(
                "invite_collaborator",
                "Invite someone outside the team to a folder: only that verified email can accept",
                {"201": _ok("The invitation; hand its URL to the person.", invitation=_ref("Invitation"))},
                parameters=(_FILE_ID,),
                body="NewInvitation",
                errors={
                    "BadRequest": _BODY_CODES + ("invalid_email", "invalid_role", "not_a_folder"),
                    **not_found_file,
                },
            ),
        },
        "/api/files/{file_id}/join-link": {
            "post": _operation(
                "create_join_link",
                "A link anyone can open to ask to join the folder; the owner approves each request",
                {"201": _ok("The join link.", join_link=_ref("Invitation"))},
                parameters=(_FILE_ID,),
                body="NewJoinLink",
                errors={
                    "BadRequest": ("invalid_json", "unknown_field", "invalid_role", "not_a_folder"),
                    **not_found_file,
                },
            ),
        },
        "/api/files/{file_id}/requests/{request_id}": {
            "post": _operation(
                "answer_join_request",
                "Approve or decline a request to join the folder",
                {"200": _answer("The folder's collaborators and open requests, after the answer.", "Collaborators")},
                parameters=(_FILE_ID, _path("request_id", "As `request_id` in the folder's requests.")),
                body="Decision",
                errors={
                    "BadRequest": _BODY_CODES + ("not_a_folder",),
                    "NotFound": ("file_not_found", "request_not_found"),
                    "Conflict": ("request_answered",),
                },
            ),
        },
        "/api/files/{file_id}/invitations/{invitation_id}/resend": {
            "post": _operation(
                "resend_invitation",
                "Mail a pending invitation to its invitee again",
                {"200": _ok("The invitation.", invitation=_ref("Invitation"))},
                parameters=(_FILE_ID, _INVITATION_ID),
                errors={
                    "BadRequest": ("not_a_folder", "not_an_invitation"),
                    "NotFound": ("file_not_found", "invitation_not_found"),
                },
            ),
        },
        "/api/files/{file_id}/invitations/{invitation_id}": {
            "delete": _operation(
                "cancel_invitation",
                "Cancel a pending invitation or join link: it stops working at once",
                {"204": {"description": "Cancelled; no body."}},
                parameters=(_FILE_ID, _INVITATION_ID),
                errors={"BadRequest": ("not_a_folder",), "NotFound": ("file_not_found", "invitation_not_found")},
            ),
        },
        "/api/me/preferences": {
            "get": _operation(
                "get_preferences",
                "Which mails about your files you get, and whether email is on at all",
                {"200": _ok("Your preferences.", preferences=_ref("Preferences"))},
            ),
            "patch": _operation(
                "change_preferences",
                "Turn kinds of mail on or off; the kinds not named stay as they are",
                {"200": _ok("Your preferences, after the change.", preferences=_ref("Preferences"))},
                body="PreferencesChange",
                errors={"BadRequest": _BODY_CODES},
            ),
        },
        "/api/links/{token}/access-requests": {
            "post": _operation(
                "answer_access_request",
                "Approve (adds them to the link's people) or ignore someone's request for access to your link",
                {"200": _ok("The link, after the answer.", link=_ref("Link"))},
                parameters=(_TOKEN,),
                body="AccessAnswer",
                errors={
                    "BadRequest": _BODY_CODES + ("invalid_email", "too_many_recipients"),
                    "NotFound": ("link_not_found", "request_not_found"),
                    "Conflict": ("link_revoked",),
                },
            ),
        },
        "/api/files/{file_id}/collaborators/{person}": {
            "delete": _operation(
                "remove_collaborator",
                "Remove a collaborator from the folder",
                {"204": {"description": "Removed; no body."}},
                parameters=(_FILE_ID, _path("person", "Their email address, or group:<name>.")),
                errors={"BadRequest": ("not_a_folder",), "NotFound": ("file_not_found", "collaborator_not_found")},
            ),
        },
        "/api/admin/collaborators": {
            "get": _operation(
                "list_all_collaborators",
                "Admins: every external user in at least one folder, with how many",
                {
                    "200": _ok(
                        "The collaborators.", collaborators={"type": "array", "items": _ref("ExternalCollaborator")}
                    )
                },
                errors={"Forbidden": _ADMIN_CODES},
            ),
        },
        "/api/admin/collaborators/{username}/folders": {
            "get": _operation(
                "collaborator_folders",
                "Admins: the folders an external user collaborates on",
                {"200": _ok("The folders.", folders={"type": "array", "items": _ref("CollaboratedFolder")})},
                parameters=(_USERNAME,),
                errors={"NotFound": ("user_not_found",), "Forbidden": _ADMIN_CODES},
            ),
        },
        "/api/admin/collaborators/{username}/folders/{folder_id}": {
            "delete": _operation(
                "remove_collaborator_from_folder",
                "Admins: remove an external user from one folder",
                {"204": {"description": "Removed; no body."}},
                parameters=(_USERNAME, _path("folder_id", "The folder's id.")),
                errors={"NotFound": ("user_not_found", "collaborator_not_found"), "Forbidden": _ADMIN_CODES},
            ),
        },
        "/api/admin/collaborators/{username}": {
            "delete": _operation(
                "remove_collaborator_everywhere",
                "Admins: remove an external user from every folder",
                {"204": {"description": "Removed; no body."}},
                parameters=(_USERNAME,),
                errors={"NotFound": ("user_not_found",), "Forbidden": _ADMIN_CODES},
            ),
        },
        "/api/admin/link-policy": {
            "get": _operation(
                "get_link_policy",
                "Admins: how long links may work (the defaults until an admin sets it)",
                {"200": _ok("The policy.", policy=_ref("LinkPolicy"))},
                errors={"Forbidden": _ADMIN_CODES},
            ),
            "put": _operation(
                "set_link_policy",
                "Admins: set the default validity of new links, the maximum, and the maximum without login",
                {"200": _ok("The policy, as now in force for new and changed links.", policy=_ref("LinkPolicy"))},
                body="LinkPolicyChange",
                errors={"BadRequest": _BODY_CODES + ("invalid_policy",), "Forbidden": _ADMIN_CODES},
            ),
        },
        "/api/admin/groups": {
            "get": _operation(
                "list_groups",
                "Admins: the directory's groups (all but members and admins) and who is in each",
                {"200": _ok("The groups.", groups={"type": "array", "items": _ref("Group")})},
                errors={"Forbidden": _ADMIN_CODES},
            ),
            "post": _operation(
                "create_group",
                "Admins: create a group",
                {"201": _ok("The new, empty group.", group=_ref("Group"))},
                body="NewGroup",
                errors={"BadRequest": _GROUP_CODES, "Conflict": ("group_exists",), "Forbidden": _ADMIN_CODES},
            ),
        },
        "/api/admin/groups/{name}": {
            "patch": _operation(
                "rename_group",
                "Admins: rename a group; its people and the links naming it follow",
                {"200": _ok("The group under its new name.", group=_ref("Group"))},
                parameters=(_GROUP,),
                body="NewGroup",
                errors={
                    "BadRequest": _GROUP_CODES,
                    "NotFound": ("group_not_found",),
                    "Conflict": ("group_exists",),
                    "Forbidden": _ADMIN_CODES,
                },
            ),
            "delete": _operation(
                "delete_group",
                "Admins: delete a group; links naming it lose it, and one left for nobody is revoked",
                {"204": {"description": "Deleted; no body."}},
                parameters=(_GROUP,),
                errors={"BadRequest": ("team_group",), "NotFound": ("group_not_found",), "Forbidden": _ADMIN_CODES},
            ),
        },
        "/api/admin/groups/{name}/people": {
            "post": _operation(
                "add_to_group",
                "Admins: put someone (member or external user) into a group; it counts on their next request",
                {"204": {"description": "Added; no body."}},
                parameters=(_GROUP,),
                body="PersonRef",
                errors={
                    "BadRequest": _BODY_CODES + ("invalid_person", "invalid_email", "team_group"),
                    "NotFound": ("group_not_found", "user_not_found"),
                    "Forbidden": _ADMIN_CODES,
                },
            ),
        },
        "/api/admin/groups/{name}/people/{person}": {
            "delete": _operation(
                "remove_from_group",
                "Admins: take someone out of a group; it counts on their next request",
                {"204": {"description": "Removed; no body."}},
                parameters=(_GROUP, _path("person", "Their email address or Cognito username.")),
                errors={
                    "BadRequest": ("team_group",),
                    "NotFound": ("group_not_found", "user_not_found"),
                    "Forbidden": _ADMIN_CODES,
                },
            ),
        },
        "/s/{token}/download": {
            "get": _operation(
                "download",
                "Recipients: download the file a link shares, as a redirect to a short-lived S3 URL "
                "(a link with a download limit: to its page, where the download is a POST)",
                _redirect("`Location` is a presigned GET of the file's newest version, saved under its name."),
                parameters=(_TOKEN,),
                errors={
                    **_PAGE_REFUSALS,
                    "Forbidden": ("not_allowed", "password_required"),
                    "NotFound": ("link_not_found", "link_is_folder"),
                },
                recipient=True,
                page=True,
            ),
            "post": _operation(
                "download_counted",
                "Recipients: download the file, counted toward the link's download limit "
                "(`curl -X POST -L .../s/{token}/download`)",
                {
                    "303": {
                        "description": "`Location` is a presigned GET of the file's newest version. A visitor who "
                        "must sign in first is sent to the sign-in page instead (302).",
                        "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
                    }
                },
                parameters=(_TOKEN,),
                errors={
                    **_PAGE_REFUSALS,
                    "Forbidden": ("not_allowed", "password_required", "csrf_failed"),
                    "NotFound": ("link_not_found", "link_is_folder"),
                    "Conflict": ("scan_pending",),
                },
                recipient=True,
                page=True,
            ),
        },
        "/s/{token}/files/{file_id}/download": {
            "get": _operation(
                "download_from_folder",
                "Recipients: download one file of the folder a link shares",
                _redirect("`Location` is a presigned GET of that file's newest version, saved under its name."),
                parameters=(_TOKEN, _path("file_id", "The file's id, as the folder's page links it.")),
                errors={
                    **_PAGE_REFUSALS,
                    "Forbidden": ("not_allowed", "password_required"),
                    "NotFound": ("link_not_found", "not_a_folder_link", "file_not_found"),
                    "Conflict": ("scan_pending",),
                },
                recipient=True,
                page=True,
            ),
        },
        "/s/{token}/zip": {
            "post": _operation(
                "folder_zip",
                "Recipients: download all of a shared folder as one ZIP (counted as one download); start here",
                {"202": _ok("The ZIP, building (or ready, when the folder is unchanged).", zip=_ref("FolderZip"))},
                parameters=(_TOKEN,),
                errors={**_ZIP_REFUSALS, "Conflict": ("folder_empty", "folder_too_large")},
                recipient=True,
            ),
        },
        "/s/{token}/zip/{ticket}": {
            "get": _operation(
                "folder_zip_status",
                "Recipients: how far the ZIP has come; poll until `state` is `ready`, then follow `download_url`",
                {"200": _ok("The ZIP's state and progress.", zip=_ref("FolderZip"))},
                parameters=(_TOKEN, _TICKET),
                errors=_ZIP_REFUSALS,
                recipient=True,
            ),
        },
        "/s/{token}/zip/{ticket}/download": {
            "get": _operation(
                "folder_zip_download",
                "Recipients: the finished ZIP, as a redirect to a short-lived S3 URL",
                {
                    "302": {
                        "description": "`Location` is a presigned GET of the ZIP, saved as `<folder>.zip`.",
                        "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
                    }
                },
                parameters=(_TOKEN, _TICKET),
                errors={**_ZIP_REFUSALS, "Conflict": ("zip_not_ready",)},
                recipient=True,
            ),
        },
        "/s/{token}/uploads": {
            "post": _operation(
                "start_upload",
                "Recipients: announce a new version (or, on a folder's link, a new file) and get its upload plan",
                {
                    "201": _ok(
                        "The plan; send the bytes along it, then complete the upload.", upload=_ref("RecipientPlan")
                    )
                },
                parameters=(_TOKEN,),
                body="NewUpload",
                errors={"BadRequest": _NEW_UPLOAD_CODES, **_LINK_UPLOAD_REFUSALS},
                recipient=True,
            ),
        },
        "/s/{token}/uploads/{upload_id}/plan": {
            "post": _operation(
                "renew_recipient_upload",
                "Recipients: a fresh plan for an unfinished upload (resumes a multipart upload)",
                {"200": _ok("Fresh URLs, and only for the parts S3 does not hold yet.", upload=_ref("RecipientPlan"))},
                parameters=(_TOKEN, _UPLOAD_ID),
                errors={
                    **_LINK_UPLOAD_REFUSALS,
                    "NotFound": ("link_not_found", "upload_not_found"),
                    "Conflict": _UPLOAD_STATE_CODES,
                },
                recipient=True,
            ),
        },
        "/s/{token}/uploads/{upload_id}": {
            "get": _operation(
                "recipient_upload",
                "Recipients: an upload's progress, and once completed whether its malware scan accepted it",
                {"200": _ok("The upload; `state` is its version's scan (clean: accepted).", upload=_ref("Upload"))},
                parameters=(_TOKEN, _UPLOAD_ID),
                errors={**_LINK_UPLOAD_REFUSALS, "NotFound": ("link_not_found", "upload_not_found")},
                recipient=True,
            ),
        },
        "/s/{token}/uploads/{upload_id}/complete": {
            "post": _operation(
                "complete_upload",
                "Recipients: record the upload once S3 holds all its announced bytes",
                {"200": _ok("The upload, completed (completing it again changes nothing).", upload=_ref("Upload"))},
                parameters=(_TOKEN, _UPLOAD_ID),
                errors={
                    **_LINK_UPLOAD_REFUSALS,
                    "NotFound": ("link_not_found", "upload_not_found"),
                    "Conflict": _COMPLETE_CODES,
                },
                recipient=True,
            ),
        },
        "/portal/folders/{folder_id}/uploads": {
            "post": _operation(
                "start_folder_upload",
                "Collaborators with the upload role: announce a new file in the shared folder and get its plan",
                {
                    "201": _ok(
                        "The plan; send the bytes along it, then complete the upload.", upload=_ref("RecipientPlan")
                    )
                },
                parameters=(_SHARED_FOLDER,),
                body="NewUpload",
                errors={"BadRequest": _NEW_UPLOAD_CODES, **_FOLDER_UPLOAD_REFUSALS},
                recipient=True,
            ),
        },
        "/portal/folders/{folder_id}/uploads/{upload_id}/plan": {
            "post": _operation(
                "renew_folder_upload",
                "Collaborators: a fresh plan for an unfinished upload into the shared folder",
                {"200": _ok("Fresh URLs, and only for the parts S3 does not hold yet.", upload=_ref("RecipientPlan"))},
                parameters=(_SHARED_FOLDER, _UPLOAD_ID),
                errors={
                    **_FOLDER_UPLOAD_REFUSALS,
                    "NotFound": ("folder_not_found", "upload_not_found"),
                    "Conflict": _UPLOAD_STATE_CODES,
                },
                recipient=True,
            ),
        },
        "/portal/folders/{folder_id}/uploads/{upload_id}": {
            "get": _operation(
                "folder_upload",
                "Collaborators: an upload's progress, and once completed whether its malware scan accepted it",
                {"200": _ok("The upload; `state` is its version's scan (clean: accepted).", upload=_ref("Upload"))},
                parameters=(_SHARED_FOLDER, _UPLOAD_ID),
                errors={**_FOLDER_UPLOAD_REFUSALS, "NotFound": ("folder_not_found", "upload_not_found")},
                recipient=True,
            ),
        },
        "/portal/folders/{folder_id}/uploads/{upload_id}/complete": {
            "post": _operation(
                "complete_folder_upload",
                "Collaborators: record the new file once S3 holds all its announced bytes",
                {"200": _ok("The upload, completed (completing it again changes nothing).", upload=_ref("Upload"))},
                parameters=(_SHARED_FOLDER, _UPLOAD_ID),
                errors={
                    **_FOLDER_UPLOAD_REFUSALS,
                    "NotFound": ("folder_not_found", "upload_not_found"),
                    "Conflict": _COMPLETE_CODES,
                },
                recipient=True,
            ),
        },
        "/portal/folders/{folder_id}/files/{file_id}/download": {
            "get": _operation(
                "portal_download",
                "Collaborators: download one file of a shared folder",
                _redirect("`Location` is a presigned GET of that file's newest version, saved under its name."),
                parameters=(_SHARED_FOLDER, _path("file_id", "The file's id, as the folder's page links it.")),
                errors={
                    "Unauthorized": ("missing_token", "invalid_token"),
                    "NotFound": ("folder_not_found", "file_not_found"),
                    "Conflict": ("scan_pending",),
                },
                recipient=True,
                page=True,
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
    """The shapes' own components, and those of answers not declared as shapes."""
    return {
        **shapes.components(),
    }


def _responses() -> Json:
    return {
        name: {"description": f"{meaning} {_codes(codes)}", "content": _json(_ref("Error"))}
        for name, (_, meaning, codes) in _ERRORS.items()
    }


def _hosted_login() -> Json:
    """Where programs get a member's token: the pool's hosted login page, for the public app client.

    Clients such as the `handover` command find the login page and the client id here,
    so a site's URL is all they need to be told.
    """
    settings = get_settings()
    if not settings.login_domain or not settings.user_pool_client_id:
        return {}
    token_url = f"{settings.login_domain}/oauth2/token"
    return {
        "hostedLogin": {
            "type": "oauth2",
            "description": (
                "Cognito's hosted login page: the authorization code flow with PKCE (S256) for the public app "
                "client `x-client-id`, with a callback URL registered on that client. Its tokens are the bearer "
                "tokens above; the refresh token renews them at the token URL."
            ),
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": f"{settings.login_domain}/oauth2/authorize",
                    "tokenUrl": token_url,
                    "refreshUrl": token_url,
                    "scopes": {"openid": "Sign in.", "email": "Your email address.", "profile": "Your name."},
                }
            },
            "x-client-id": settings.user_pool_client_id,
        }
    }


def document() -> Json:
    from chalicelib.sessions import COOKIE  # sessions reads the tables: only when the document is asked for

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Handover",
            "version": "1",
            "description": (
                "Handover lets the team share files with people outside it through external links. "
                "A member announces a file, sends its bytes straight to S3 along the upload plan, completes "
                "it, and then makes links to it: each link has a URL and a QR code, may end on a date, and can be "
                "changed or revoked at once. Every `/api` operation but this document needs "
                "`Authorization: Bearer <token>` with a Cognito ID or access token of a member. Recipients "
                "(`/s/...`) and collaborators (`/portal/...`) download and send versions anonymously or signed in. "
                'Bodies are JSON, and JSON errors answer `{"error": {"code": "...", "message": "..."}}` with a 4xx '
                "status; downloads answer errors as readable pages."
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
                },
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": COOKIE,
                    "description": "A browser's session after signing in; changes also need `X-CSRF-Token`.",
                },
                **_hosted_login(),
            },
            "schemas": _schemas(),
            "responses": _responses(),
        },
    }
