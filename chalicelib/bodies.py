"""Request bodies: one parser per body, turning JSON into trusted typed values or BadRequest."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from chalicelib import clock, names, paging
from chalicelib.config import get_settings
from chalicelib.directory import normalise_email
from chalicelib.errors import BadRequest

MAX_AUDIENCE = 50  # named people and groups per link (one transaction writes them all)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")
_GROUP = re.compile(r"^[^\s\x00-\x1f]{1,128}\Z")
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*([ \t]*;[ \t]*[\w.+-]+=[\w.+\"-]+)*\Z", re.ASCII)


@dataclass(frozen=True)
class NewFile:
    name: str
    size: int
    content_type: str
    folder_id: str | None = None  # None: the member's top level


@dataclass(frozen=True)
class NewFolder:
    name: str
    folder_id: str | None = None


@dataclass(frozen=True)
class NewLink:
    valid_until: datetime | None
    allow_upload: bool
    require_login: bool  # true whenever recipients or groups are named
    recipients: tuple[str, ...] = ()  # normalised email addresses
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class LinkChange:
    """Only the fields the request named; `valid_until` may be set to None (never expires)."""

    fields: dict[str, Any]


def json_object(raw: bytes | None) -> dict[str, Any]:
    """The request body as a JSON object, or BadRequest."""
    if not raw:
        raise BadRequest("The request needs a JSON body.", "invalid_json")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError; nesting can be bottomless
        raise BadRequest("The request body is not valid JSON.", "invalid_json") from None
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.", "invalid_json")
    return body


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(f"Unknown field: {unknown[0]}.", "unknown_field")


def _required(body: dict[str, Any], name: str) -> Any:
    if name not in body or body[name] is None:
        raise BadRequest(f"{name} is required.", "missing_field")
    return body[name]


def _bool(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise BadRequest(f"{name} must be true or false.", "invalid_field")
    return value


def new_file(raw: bytes | None) -> NewFile:
    body = json_object(raw)
    _only(body, {"name", "size", "content_type", "folder_id"})
    return NewFile(
        name=file_name(_required(body, "name")),
        size=file_size(_required(body, "size")),
        content_type=content_type(body.get("content_type")),
        folder_id=_folder_id(body),
    )


def new_folder(raw: bytes | None) -> NewFolder:
    body = json_object(raw)
    _only(body, {"name", "folder_id"})
    return NewFolder(name=file_name(_required(body, "name")), folder_id=_folder_id(body))


def new_name(raw: bytes | None) -> str:
    body = json_object(raw)
    _only(body, {"name"})
    return file_name(_required(body, "name"))


def _folder_id(body: dict[str, Any]) -> str | None:
    value = body.get("folder_id")
    if value is not None and not isinstance(value, str):
        raise BadRequest("folder_id must be a folder's id, or null for the top level.", "invalid_field")
    return value or None


def file_name(value: Any) -> str:
    return names.clean(value)


def file_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest("size must be a whole number of bytes.", "invalid_field")
    if value < 1:
        raise BadRequest("size must be at least 1 byte: empty files cannot be shared.", "invalid_size")
    limit = get_settings().max_file_size
    if value > limit:
        raise BadRequest(f"size must be at most {limit} bytes.", "file_too_large")
    return value


def content_type(value: Any) -> str:
    if value is None or value == "":
        return "application/octet-stream"
    if not isinstance(value, str) or len(value) > 200 or not _CONTENT_TYPE.match(value):
        raise BadRequest("content_type must be a media type such as text/plain.", "invalid_content_type")
    return value


def new_link(raw: bytes | None) -> NewLink:
    body = json_object(raw)
    _only(body, {"valid_until", "allow_upload", "require_login", "recipients", "groups"})
    people = tuple(dict.fromkeys(email(v) for v in _list(body, "recipients")))
    groups = tuple(dict.fromkeys(group_name(v) for v in _list(body, "groups")))
    if len(people) + len(groups) > MAX_AUDIENCE:
        raise BadRequest(f"Name at most {MAX_AUDIENCE} people and groups in all.", "too_many_recipients")
    return NewLink(
        valid_until=valid_until(body.get("valid_until")),
        allow_upload=_bool(body, "allow_upload", False),
        require_login=_bool(body, "require_login", False) or bool(people or groups),
        recipients=people,
        groups=groups,
    )


def _list(body: dict[str, Any], name: str) -> list[Any]:
    value = body.get(name, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest(f"{name} must be a list.", "invalid_field")
    return value


def email(value: Any) -> str:
    """An email address in the form links compare addresses in."""
    if not isinstance(value, str) or not _EMAIL.match(value.strip()) or len(value) > 254 or names.problem(value):
        raise BadRequest(f"{_shown(value)} is not an email address.", "invalid_email")
    return normalise_email(value)


def group_name(value: Any) -> str:
    if not isinstance(value, str) or not _GROUP.match(value) or names.problem(value):
        raise BadRequest(f"{_shown(value)} is not a group name.", "invalid_group")
    return value


def _shown(value: Any) -> str:
    """A refused value quoted back to the caller: short, and safe to put in JSON."""
    return ascii(str(value)[:80])


def link_change(raw: bytes | None) -> LinkChange:
    body = json_object(raw)
    _only(body, {"valid_until", "allow_upload", "require_login"})
    if not body:
        raise BadRequest("Name at least one of valid_until, allow_upload, require_login.", "missing_field")
    fields: dict[str, Any] = {}
    if "valid_until" in body:
        fields["valid_until"] = valid_until(body["valid_until"])
    for name in ("allow_upload", "require_login"):
        if name in body:
            fields[name] = _bool(body, name, False)
    return LinkChange(fields)


def valid_until(value: Any) -> datetime | None:
    """An ISO-8601 moment in the future within the configured maximum; None for no end.

    A bare date means the end of that day (UTC); a time without offset is UTC.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest("valid_until must be an ISO-8601 date or time, or null.", "invalid_valid_until")
    moment = _parse_moment(value.strip())
    now = clock.now()
    if moment <= now:
        raise BadRequest("valid_until must be in the future.", "valid_until_in_past")
    days = get_settings().max_link_days
    if moment > now + timedelta(days=days):
        raise BadRequest(f"valid_until must be at most {days} days from now.", "valid_until_too_far")
    return moment


def _parse_moment(text: str) -> datetime:
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).replace(microsecond=0)
    except (ValueError, OverflowError):  # an offset can push a moment past year 1 or 9999
        raise BadRequest(
            "valid_until must be an ISO-8601 date (2026-12-31) or time (2026-12-31T18:00:00Z).",
            "invalid_valid_until",
        ) from None


@dataclass(frozen=True)
class PeopleQuery:
    """The admin's view of external users: filters, search, sort and page."""

    signed_up_from: datetime | None = None
    signed_up_to: datetime | None = None
    last_login_from: datetime | None = None
    last_login_to: datetime | None = None
    search: str = ""
    sort: str = "signed_up_at"  # or "last_login_at"
    descending: bool = True
    limit: int = 50
    cursor: str | None = None


def people_query(params: dict[str, str]) -> PeopleQuery:
    sort = params.get("sort", "signed_up_at")
    if sort not in ("signed_up_at", "last_login_at"):
        raise BadRequest("sort must be signed_up_at or last_login_at.", "invalid_sort")
    order = params.get("order", "desc")
    if order not in ("asc", "desc"):
        raise BadRequest("order must be asc or desc.", "invalid_order")
    search = params.get("q", "").strip().lower()
    if len(search) > 100:
        raise BadRequest("q must be at most 100 characters.", "invalid_search")
    return PeopleQuery(
        signed_up_from=_moment_param(params, "signed_up_from", start_of_day=True),
        signed_up_to=_moment_param(params, "signed_up_to"),
        last_login_from=_moment_param(params, "last_login_from", start_of_day=True),
        last_login_to=_moment_param(params, "last_login_to"),
        search=search,
        sort=sort,
        descending=order == "desc",
        limit=paging.limit(params.get("limit")),
        cursor=params.get("cursor") or None,
    )


def _moment_param(params: dict[str, str], name: str, start_of_day: bool = False) -> datetime | None:
    """A bound of a time range; a bare date covers that whole day."""
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        moment = _parse_moment(value)
    except BadRequest:
        raise BadRequest(f"{name} must be an ISO-8601 date or time.", "invalid_time_range") from None
    return moment.replace(hour=0, minute=0, second=0) if start_of_day and len(value) == 10 else moment


def usernames(raw: bytes | None) -> list[str]:
    body = json_object(raw)
    _only(body, {"usernames"})
    names = _list(body, "usernames")
    if not names or len(names) > 100 or not all(isinstance(n, str) and 0 < len(n) <= 128 for n in names):
        raise BadRequest("usernames must list 1 to 100 usernames.", "invalid_usernames")
    return list(dict.fromkeys(names))


_NEW_GROUP = re.compile(r"^[A-Za-z0-9][\w.-]{0,63}\Z", re.ASCII)


def new_group(raw: bytes | None) -> str:
    body = json_object(raw)
    _only(body, {"name"})
    name = _required(body, "name")
    if not isinstance(name, str) or not _NEW_GROUP.match(name):
        raise BadRequest("name must be 1 to 64 letters, digits, '.', '_' or '-'.", "invalid_group")
    return name


def person_ref(raw: bytes | None) -> str:
    """Someone named by email address or Cognito username."""
    body = json_object(raw)
    _only(body, {"person"})
    person = _required(body, "person")
    if not isinstance(person, str) or not 0 < len(person.strip()) <= 254:
        raise BadRequest("person must be an email address or a username.", "invalid_person")
    return email(person) if "@" in person else person.strip()


def role(value: Any) -> str:
    if value not in ("view", "upload"):
        raise BadRequest("role must be view or upload.", "invalid_role")
    return value


def invitation(raw: bytes | None) -> tuple[str, str]:
    """An invitation to a folder: (email, role)."""
    body = json_object(raw)
    _only(body, {"email", "role"})
    return email(_required(body, "email")), role(body.get("role", "view"))


def join_link(raw: bytes | None) -> str:
    body = json_object(raw) if raw else {}
    _only(body, {"role"})
    return role(body.get("role", "view"))


def decision(raw: bytes | None) -> bool:
    body = json_object(raw)
    _only(body, {"approve"})
    _required(body, "approve")
    return _bool(body, "approve", False)
