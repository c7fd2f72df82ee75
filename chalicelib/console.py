"""The member console: the pages where members browse their files, share them and read their history.

Pages only read (through files, links and audit); every change goes through the JSON API,
called by the pages' scripts with the session's CSRF token.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial

import msgspec

from chalicelib import audit, collaborators, directory, files, link_policy, links, names, pages, urls, versions
from chalicelib.auth import Caller
from chalicelib.errors import BadRequest, NotFound
from chalicelib.models import EventRecord, FileRecord
from chalicelib.words import who as who_label

ITEMS_PER_PAGE = 50
EVENTS_PER_PAGE = 25

DETAILS, VERSIONS, LINKS, COLLABORATORS, HISTORY = "details", "versions", "links", "collaborators", "history"
_TAB_TITLES = {
    DETAILS: "Details",
    VERSIONS: "Versions",
    LINKS: "External links",
    COLLABORATORS: "Collaborators",
    HISTORY: "History",
}

_EVENT_TITLES = {
    "folder_created": "Folder created",
    "file_uploaded": "File uploaded",
    "renamed": "Renamed",
    "file_deleted": "Deleted",
    "link_created": "Link created",
    "link_changed": "Link changed",
    "link_revoked": "Link revoked",
    "link_opened": "Link opened",
    "stopped_link_opened": "Opened after it stopped working",
    "link_downloaded": "Downloaded",
    "login_required": "Asked to sign in",
    "access_granted": "Access granted",
    "access_refused": "Access refused",
    "upload_started": "Upload started",
    "upload_completed": "New version received",
    "upload_refused": "Upload refused",
    "scan_clean": "Checked: no malware found",
    "scan_infected": "Malware found: never served",
    "scan_failed": "Malware scan could not finish",
    "audience_removed": "Removed from a link",
    "audience_renamed": "Group renamed on a link",
    "invitation_created": "Invitation made",
    "join_link_created": "Join link made",
    "join_requested": "Asked to join",
    "join_declined": "Request declined",
    "collaborator_added": "Collaborator added",
    "collaborator_removed": "Collaborator removed",
    "collaborator_downloaded": "Downloaded by a collaborator",
}


@dataclass(frozen=True)
class Crumb:
    """One step of the way from the member's top level down to a folder or item."""

    name: str
    href: str


@dataclass(frozen=True)
class EventRow:
    """One line of the History tab."""

    at: datetime
    title: str
    detail: str
    valid_until: datetime | None  # of a link created or changed
    who: str
    ip: str
    browser: str
    user_agent: str
    link: str  # the token's first 8 characters, never the whole token


def folder_page(viewer: Caller, site: str, folder_id: str | None, cursor: str | None) -> str:
    """The member's top level (folder_id None) or one of their folders: what it holds, newest first,
    folders before files on each page."""
    owner = viewer.person.sub
    folder = _owned_folder(owner, folder_id) if folder_id is not None else None
    page, next_cursor = files.list_files(owner, ITEMS_PER_PAGE, cursor, folder.file_id if folder else "root")
    items = sorted(page, key=lambda item: not item.is_folder)  # stable: each kind stays newest first
    page_of = _folder_page(site, folder.file_id if folder else None)
    return pages.render(
        "console/folder.html",
        site=site,
        viewer=viewer,
        folder=folder,
        trail=_trail(site, folder) if folder else [],
        items=items,
        more=page_of(cursor=next_cursor) if next_cursor else None,
        first_page=page_of() if cursor else None,
    )


def item_page(
    viewer: Caller, site: str, file_id: str, tab: str | None, cursor: str | None, filters: dict[str, str] | None = None
) -> str:
    """The detail manager of a file or folder: one tab at a time, each a plain link; `filters` narrow the History."""
    item = files.owned_file(viewer.person.sub, file_id)
    tabs = [DETAILS, LINKS, COLLABORATORS, HISTORY] if item.is_folder else [DETAILS, VERSIONS, LINKS, HISTORY]
    shown = tab if tab in tabs else DETAILS
    here = urls.url_for(site, "console_item", file_id=item.file_id)

    def tab_url(name: str, **query: str | None) -> str:
        return urls.url_for(site, "console_item", file_id=item.file_id, tab=name, **query)

    context = {
        "site": site,
        "viewer": viewer,
        "item": item,
        "trail": _trail(site, item),
        "back": _folder_page(site, item.folder_id)(),
        "tabs": [(name, _TAB_TITLES[name], tab_url(name)) for name in tabs],
        "tab": shown,
        "here": here,
    }
    if shown == LINKS:
        context["link_days"] = link_policy.dialog_days(link_policy.current())
    if shown == DETAILS and item.is_folder:
        context["holds"] = len(files.children(item))
    elif shown == VERSIONS:
        found, _ = versions.list_versions(item, 50, None)
        context["versions"] = [versions.describe(version, item, site) for version in found]
    elif shown == LINKS:
        described = [links.describe(link, site) for link in links.links_of_file(item)]
        # Working links first; revoked and expired ones after them, each group newest first as listed.
        context["links"] = sorted(described, key=lambda link: link.status != "active")
        context["group_choices"] = directory.group_names() if item.status == "ready" else []
    elif shown == COLLABORATORS:
        folder = collaborators.of_folder(viewer.person.sub, item.file_id)
        context.update(collaborators=folder.collaborators, invitations=folder.invitations, requests=folder.requests)
    elif shown == HISTORY:
        only = history_filter(filters or {})
        events, next_cursor = audit.events_of(item.file_id, EVENTS_PER_PAGE, cursor, only)
        kept = {name: value for name, value in msgspec.structs.asdict(only).items() if value}
        context["events"] = [event_row(event) for event in events]
        context["older"] = tab_url(HISTORY, cursor=next_cursor, **kept) if next_cursor else None
        context["newest"] = tab_url(HISTORY, **kept) if cursor else None
        context["only"] = only
        context["event_kinds"] = sorted(_EVENT_TITLES.items(), key=lambda pair: pair[1])
        context["link_choices"] = [link.link_id[:8] for link in links.links_of_file(item)]
    return pages.render("console/item.html", **context)


_LINK_PREFIX = re.compile(r"[A-Za-z0-9_-]{1,8}")


def history_filter(query: dict[str, str]) -> audit.EventFilter:
    """The History's filter from its form (`kind`, `who`, `link`), refused in words when it cannot match anything."""
    kind, who, link = (query.get(name, "").strip() for name in ("kind", "who", "link"))
    if kind and kind not in _EVENT_TITLES:
        raise BadRequest("kind must be one of the kinds of event the History lists.", "invalid_kind")
    if link and not _LINK_PREFIX.fullmatch(link):
        raise BadRequest("link must be the first characters of a link's token.", "invalid_link")
    if who and (len(who) > 254 or names.problem(who)):
        raise BadRequest("who must be part of an email address.", "invalid_who")
    return audit.EventFilter(kind=kind, who=who.lower(), link=link)


def _owned_folder(owner: str, folder_id: str) -> FileRecord:
    folder = files.owned_file(owner, folder_id)
    if not folder.is_folder:
        raise NotFound("No such folder.", "folder_not_found")
    return folder


def _trail(site: str, item: FileRecord) -> list[Crumb]:
    """The folders above an item, top first, the item itself last."""
    steps = [item, *files.ancestors(item)]
    return [Crumb(step.name, _href(site, step)) for step in reversed(steps)]


def _folder_page(site: str, folder_id: str | None) -> Callable[..., str]:
    """The URL of a folder's page (the top level for None), given its query."""
    if folder_id is None:
        return partial(urls.url_for, site, "console_top")
    return partial(urls.url_for, site, "console_folder", folder_id=folder_id)


def _href(site: str, item: FileRecord) -> str:
    if item.is_folder:
        return urls.url_for(site, "console_folder", folder_id=item.file_id)
    return urls.url_for(site, "console_item", file_id=item.file_id)


def event_row(event: EventRecord) -> EventRow:
    """The History tab's line of an event, built from the API's answer for it."""
    described = audit.describe(event)
    user_agent = described.user_agent or ""
    return EventRow(
        at=described.at,
        title=_title(described.kind, described.detail),
        detail=_event_detail(described.kind, described.detail),
        valid_until=_moment(described.detail.get("valid_until")),
        who=who_label(described.who),
        ip=described.ip or "",
        browser=browser_of(user_agent),
        user_agent=user_agent,
        link=described.link or "",
    )


def _title(kind: str, detail: dict) -> str:
    if kind == "upload_completed" and detail.get("new_file"):
        return "File received"  # the first file sent into a folder, not a version of one
    return _EVENT_TITLES.get(kind, kind.replace("_", " ").capitalize())


def _event_detail(kind: str, detail: dict) -> str:
    if kind == "renamed":
        return f"from “{detail.get('old_name', '')}” to “{detail.get('name', '')}”"
    if kind == "link_downloaded" and detail.get("file"):
        return str(detail["file"])
    if kind == "stopped_link_opened":
        return "the link was revoked" if detail.get("reason") == "revoked" else "the link had expired"
    if kind == "link_revoked" and detail.get("reason") == "file_deleted":
        return "because the item was deleted"
    if kind == "link_changed":
        return _link_changes(detail)
    if kind == "link_created":
        parts = ["no end date" if detail.get("valid_until") == "never" else ""]
        parts.append("upload allowed" if detail.get("allow_upload") else "")
        parts.append("login required" if detail.get("require_login") else "open to anyone")
        named = list(detail.get("recipients") or []) + [f"group {g}" for g in detail.get("groups") or []]
        parts.append(f"for {', '.join(named)}" if named else "")
        parts += [f"“{detail['label']}”" if detail.get("label") else "", _limit_words(detail.get("download_limit"))]
        parts.append("password" if detail.get("password") == "set" else "")
        return " · ".join(part for part in parts if part)
    if kind in ("upload_started", "upload_completed") and (detail.get("sender_name") or detail.get("sender_email")):
        return sender_label(detail.get("sender_name"), detail.get("sender_email"), bool(detail.get("sender_verified")))
    if kind in ("scan_infected", "scan_failed"):
        return str(detail.get("finding", ""))
    if detail.get("link_label"):
        return f"“{detail['link_label']}”" + (f" · {detail['file']}" if detail.get("file") else "")
    if kind == "file_uploaded" and detail.get("size"):
        return pages.filesize(int(detail["size"]))
    return ""


def _limit_words(limit: object) -> str:
    return f"at most {limit} downloads" if isinstance(limit, int | Decimal) and not isinstance(limit, bool) else ""


def _link_changes(detail: dict) -> str:
    """What a link_changed event changed, in words; a password only as set or removed."""
    words = {
        "valid_until": lambda v: "no end date" if v == "never" else "new end date",
        "allow_upload": lambda v: "upload allowed" if v else "upload not allowed",
        "require_login": lambda v: "login required" if v else "open to anyone",
        "recipients": lambda v: f"people: {', '.join(v)}" if v else "no people named",
        "groups": lambda v: f"groups: {', '.join(v)}" if v else "no groups named",
        "label": lambda v: "label removed" if v == "removed" else f"label “{v}”",
        "message": lambda v: f"message {v}",
        "password": lambda v: f"password {v}",
        "download_limit": lambda v: "no download limit" if v == "none" else _limit_words(v),
    }
    parts = [f"“{detail['link_label']}”"] if detail.get("link_label") else []
    parts += [describe(detail[name]) for name, describe in words.items() if name in detail]
    return " · ".join(part for part in parts if part)


def _moment(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value and value != "never" else None
    except ValueError:
        return None


def sender_label(name: str | None, email: str | None, verified: bool) -> str:
    """Who sent a version, as they said or as they signed in: `from Jane Doe <jane@example.com> (self-declared)`."""
    who = " ".join(part for part in (name, f"<{email}>" if email else None) if part)
    return f"from {who}" + ("" if verified else " (self-declared)")


_BROWSERS = (
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/(\d+)")),
    ("Opera", re.compile(r"OPR/(\d+)")),
    ("Firefox", re.compile(r"(?:Firefox|FxiOS)/(\d+)")),
    ("Chrome", re.compile(r"(?:Chrome|CriOS)/(\d+)")),
    ("Safari", re.compile(r"Version/(\d+)[\d.]* (?:Mobile/\S+ )?Safari/")),
    ("curl", re.compile(r"^curl/([\d.]+)")),
    ("Python", re.compile(r"python-requests/([\d.]+)")),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def browser_of(user_agent: str) -> str:
    """A short name for a User-Agent, such as "Chrome 131 on Windows"; the whole string stays in the page."""
    if not user_agent:
        return ""
    name = next(
        (f"{label} {found.group(1)}" for label, pattern in _BROWSERS if (found := pattern.search(user_agent))),
        None,
    )
    if name and "Headless" in user_agent:
        name += " (headless)"
    system = next((label for needle, label in _SYSTEMS if needle in user_agent), None)
    if name is None:
        return user_agent[:40]
    return f"{name} on {system}" if system else name
