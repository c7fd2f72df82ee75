"""HTML pages: the Jinja environment, its filters, and the pages recipients see."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib import clock, tokens, urls, words
from chalicelib.auth import Caller
from chalicelib.models import FileRecord, LinkRecord

if TYPE_CHECKING:  # Jinja loads with the first page rendered, not at cold start
    from jinja2 import Environment

    from chalicelib.previews import Preview


class Viewer(Protocol):
    """Who a recipient's page says is signed in (web.Call, or an auth.Caller)."""

    @property
    def label(self) -> str | None: ...

    @property
    def csrf_token(self) -> str | None: ...


# Next to app.py both in the repository and in the deployment package (infra/precompile.py puts them there).
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = TEMPLATES / "static"
_STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}


def filesize(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def readable(moment: datetime | None) -> str:
    return moment.strftime("%d %b %Y, %H:%M UTC") if moment else ""


def duration(seconds: int | None) -> str:
    """A wait in words: `less than a minute`, `20 minutes`, `3 hours`, `2 days`."""
    seconds = seconds or 0
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "less than a minute"


@lru_cache(maxsize=2)
def _environment(*also_from: Path) -> Environment:
    """A Jinja environment, made (and Jinja imported) with the first page a container renders."""
    from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape

    # Autoescaping is off in Jinja unless asked for: every page shows names people chose.
    env = Environment(
        loader=FileSystemLoader([*also_from, TEMPLATES]),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        filesize=filesize,
        readable=readable,
        iso=clock.iso,
        duration=duration,
        who=words.who,
        role_words=words.role,
        status_words=words.status,
    )
    # Templates build links from routes as Python does: url_for(view, ...) on the page's site,
    # path_for(view, ...) for the paths scripts call.
    env.globals.update(url_for=pass_context(lambda page, view, **params: urls.url_for(page["site"], view, **params)))
    env.globals.update(path_for=urls.path_for)
    return env


def render(template: str, *, also_from: tuple[Path, ...] = (), **context: Any) -> str:
    """A page from templates/ (or first from `also_from`, for pages that are not the app's own)."""
    return _environment(*also_from).get_template(template).render(**context)


def landing(link: LinkRecord, token: str, site: str, viewer: Viewer | None, preview: Preview | None = None) -> str:
    """The page a recipient sees on opening a link: what the file is, a download button, and its preview."""
    return render("landing.html", site=site, viewer=viewer, token=token, link=link, file=link.target, preview=preview)


def password_form(token: str, site: str, viewer: Viewer | None, wrong: bool) -> str:
    """A password link's page before its password was typed: the form, and nothing about what it shares."""
    return render("password.html", site=site, viewer=viewer, token=token, wrong=wrong)


def folder(
    link: LinkRecord,
    token: str,
    site: str,
    viewer: Viewer | None,
    shown: FileRecord,
    trail: list[FileRecord],
    items: list[FileRecord],
) -> str:
    """A folder link's page: the folder's files to download and its subfolders to open."""
    return render(
        "folder.html", site=site, viewer=viewer, token=token, link=link, folder=shown, trail=trail, items=items
    )


def portal(viewer: Caller, released: list[LinkRecord], folders: list[tuple[FileRecord, str]], site: str) -> str:
    """Everything released to a signed-in person and the folders they work on, and nothing else."""
    items = [(tokens.token_for(link.link_id), link) for link in released]
    return render("portal.html", site=site, viewer=viewer, items=items, folders=folders)


def portal_folder(
    viewer: Caller, shared: FileRecord, shown: FileRecord, items: list[FileRecord], role: str, site: str
) -> str:
    """A folder a collaborator works on (or a folder inside it); with the upload role, a way to add files."""
    return render("portal_folder.html", site=site, viewer=viewer, shared=shared, folder=shown, items=items, role=role)


def join_requested(viewer: Caller | None, folder: FileRecord, site: str) -> str:
    return render("join_requested.html", site=site, viewer=viewer, folder=folder)


def access_requested(viewer: Viewer | None, site: str, token: str, already: bool) -> str:
    """After "Request access": the owner was asked (or the link is already for this person)."""
    return render("access_requested.html", site=site, viewer=viewer, token=token, already=already)


def home(viewer: Caller | None, site: str) -> str:
    return render("home.html", site=site, viewer=viewer)


def static_file(name: str) -> tuple[str, str] | None:
    """A stylesheet or script shipped with the templates, or None."""
    path = STATIC / name
    kind = _STATIC_TYPES.get(path.suffix)
    if kind is None or path.parent != STATIC or not path.is_file():
        return None
    return path.read_text(encoding="utf-8"), kind
