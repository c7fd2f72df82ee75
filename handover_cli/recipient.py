"""Downloading through a link, as a recipient: the same routes a browser follows, then the bytes from S3."""

from __future__ import annotations

import html
import os
import re
import urllib.parse
from pathlib import Path
from typing import Any

from handover_cli import http, store, terminal
from handover_cli.http import Refused
from handover_cli.terminal import Progress

_LINK = re.compile(r"^(?P<site>https?://.+?)/s/(?P<token>[A-Za-z0-9_-]+)/?$")
_PAGE = re.compile(r"<h1>(?P<title>.*?)</h1>\s*<p>(?P<message>.*?)</p>", re.S)
_PAGE_CODES = {
    400: "bad_request",
    403: "not_allowed",
    404: "link_not_found",
    410: "link_gone",
    429: "too_many_requests",
}
_PAGE_CODE = re.compile(r'<meta name="handover-error" content="(?P<code>[a-z0-9_]+)">')
_FILENAME_STAR = re.compile(r"filename\*\s*=\s*UTF-8''([^;]+)", re.I)
_FILENAME = re.compile(r'filename\s*=\s*"((?:[^"\\]|\\.)*)"', re.I)


def parse_link(url: str) -> tuple[str, str]:
    """The site and token of a link's URL (`…/s/<token>`)."""
    found = _LINK.match(url.strip().split("?")[0].split("#")[0])
    if not found:
        raise Refused("invalid_link", f"{url} is not a Handover link (…/s/<token>).")
    return found["site"], found["token"]


def _page_refusal(answer: http.Answer) -> Refused:
    """A recipient's error page, told in one line."""
    text = answer.body.decode("utf-8", "replace")
    found = _PAGE.search(text)
    # The page names the server's code (as the API's JSON would); older sites only the status.
    named = _PAGE_CODE.search(text)
    code = named["code"] if named else _PAGE_CODES.get(answer.status, f"http_{answer.status}")
    if not found:
        return Refused(code, f"The server answered {answer.status}: is this a Handover link?")
    return Refused(code, html.unescape(re.sub(r"<[^>]+>", "", found["message"])).strip())


def _headers(site: str) -> dict[str, str]:
    """The member's token for a link of the site they signed in to: links that require sign-in need it."""
    session = store.load_session()
    if session and session.get("site") == site:
        from handover_cli import login  # renewing needs the token endpoint only then

        return {"Authorization": f"Bearer {login.current(site)['id_token']}"}
    return {}


_REDIRECTS = (301, 302, 303, 307)
# A folder link's download route refuses (older sites: as a link not found); its pages list the files.
_NOT_A_FILE = ("link_is_folder", "link_not_found")


def _location(site: str, path: str, headers: dict[str, str]) -> str:
    """Where a download route sends the browser: a short-lived presigned URL."""
    answer = http.request("GET", f"{site}{path}", headers=headers)
    if answer.status in _REDIRECTS:
        return _followed(site, answer, headers)
    raise _page_refusal(answer)


def _followed(site: str, answer: http.Answer, headers: dict[str, str]) -> str:
    location = urllib.parse.urljoin(f"{site}/", answer.headers.get("Location", ""))
    if urllib.parse.urlsplit(location).path.endswith("/auth/login"):
        hint = "Your session is not allowed to open it." if headers else f"Run `handover login --site {site}`."
        raise Refused("login_required", f"This link requires sign-in. {hint}")
    return location


def _file_location(site: str, token: str, headers: dict[str, str]) -> str:
    """The link's file as a presigned URL, doing first what its landing page asks (as a browser would).

    A link without a password or a download limit redirects its download route straight to
    the storage. One with a password refuses until unlocked: its landing page shows a password
    form (POST `/s/{token}/password`, a cookie comes back). One with a limit sends a GET back to
    its landing page, whose Download button POSTs `/s/{token}/download`, the counted action:
    done once per run, and the server says whether it still may.
    """
    landing = f"{site}/s/{token}"
    answer = http.request("GET", f"{landing}/download", headers=headers)
    unlocked = posted = False
    while True:
        if answer.status in _REDIRECTS:
            location = _followed(site, answer, headers)
            if urllib.parse.urlsplit(location).path.rstrip("/") != urllib.parse.urlsplit(landing).path:
                return location
            if posted:
                raise _page_refusal(http.request("GET", landing, headers=headers))
            posted = True
            answer = http.request("POST", f"{landing}/download", headers=headers)
            continue
        if answer.status < 400:
            raise _page_refusal(answer)
        page = http.request("GET", landing, headers=headers)
        password_form = rf'action="[^"]*/s/{re.escape(token)}/password"'
        if unlocked or not re.search(password_form, page.body.decode("utf-8", "replace")):
            raise _page_refusal(answer)
        headers["Cookie"] = _unlock(site, token, headers)  # in place: a folder link's pages need it too
        unlocked = True
        answer = http.request("GET", f"{landing}/download", headers=headers)


def _unlock(site: str, token: str, headers: dict[str, str]) -> str:
    """The link's password, typed (or read from standard input), exchanged for the cookie that opens it."""
    password = terminal.link_password("This link has a password", confirm=False)
    if not password:
        raise Refused(
            "password_required",
            f"This link needs its password: type it, set {terminal.PASSWORD_VARIABLE} or send it on standard input.",
        )
    answer = http.request("POST", f"{site}/s/{token}/password", form={"password": password}, headers=headers)
    cookies = [value.split(";", 1)[0] for value in answer.headers.get_all("Set-Cookie") or []]
    if answer.status == 401:
        raise Refused("wrong_password", "That password is not right for this link.")
    if answer.status not in _REDIRECTS or not cookies:
        raise _page_refusal(answer)
    return "; ".join(filter(None, [headers.get("Cookie"), *cookies]))


def get(url: str, output: str | None, quiet: bool) -> Path | None:
    """Download the link's file (or folder) to `output` (a file, a directory, `-` for stdout); the path written."""
    site, token = parse_link(url)
    headers = _headers(site)
    try:
        location = _file_location(site, token, headers)
    except Refused as refused:
        folder = _folder_page(site, token, None, headers) if refused.code in _NOT_A_FILE else None
        if folder is None:
            raise
        if output == "-":
            raise Refused("link_is_folder", "This link shares a folder: save it with -o DIRECTORY.") from None
        target = Path(output or ".")
        target = target / _safe(folder[0]) if target.is_dir() else target
        _get_folder(site, token, headers, folder, target, quiet)
        return target
    return _save(location, output, quiet)


def _save(location: str, output: str | None, quiet: bool) -> Path | None:
    with http.open_url("GET", location, timeout=120) as answer:
        if answer.status != 200:
            raise Refused("download_failed", f"The storage answered {answer.status}; try again.")
        name = _filename(answer.headers)
        total = int(answer.headers.get("Content-Length") or 0)
        if output == "-":
            _copy(answer, os.fdopen(os.dup(1), "wb"), Progress(name, total, quiet=quiet))
            return None
        target = Path(output) if output else Path(name)
        if target.is_dir():
            target = target / name
        if target.exists():
            raise Refused("file_exists", f"{target} exists already: choose another with -o.")
        partial = target.with_name(f".{target.name}.part")
        try:
            _copy(answer, open(partial, "wb"), Progress(name, total, quiet=quiet))  # noqa: SIM115 - _copy closes it
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        return target


# A folder link's pages: its name, its subfolders (?folder=<id>) and its files' download routes.
_FOLDER_NAME = re.compile(r'<h1 class="filename">(.*?)</h1>', re.S)
# A subfolder's entry (not the breadcrumb's links): its icon, then its name.
_SUBFOLDER = re.compile(
    r'<a class="filename[^"]*" href="[^"]*/s/[A-Za-z0-9_-]+\?folder=([0-9a-f]{32})"[^>]*>'
    r"\s*(?:<svg.*?</svg>)?\s*(.*?)</a>",
    re.S,
)
_FOLDER_FILE = re.compile(r'href="([^"]*/s/[A-Za-z0-9_-]+/files/[0-9a-f]{32}/download)"')


def _folder_page(site: str, token: str, folder_id: str | None, headers: dict[str, str]) -> tuple | None:
    """(name, subfolders [(id, name)], file download paths) of a folder link's page; None if it is no folder."""
    query = f"?folder={folder_id}" if folder_id else ""
    answer = http.request("GET", f"{site}/s/{token}{query}", headers=headers)
    text = answer.body.decode("utf-8", "replace")
    name = _FOLDER_NAME.search(text)
    if answer.status != 200 or name is None or "/files/" not in text and "This folder is empty" not in text:
        return None
    subfolders = [(found, html.unescape(label).strip()) for found, label in _SUBFOLDER.findall(text)]
    files = [urllib.parse.urlsplit(html.unescape(href)).path for href in _FOLDER_FILE.findall(text)]
    return html.unescape(name.group(1)).strip(), subfolders, files


def _safe(name: str, fallback: str = "folder") -> str:
    """A name from the server as one path component here: never a path, never `..`."""
    name = name.replace("\\", "/").split("/")[-1].strip()
    return name if name not in ("", ".", "..") else fallback


def _get_folder(site: str, token: str, headers: dict[str, str], page: tuple, target: Path, quiet: bool) -> None:
    """The folder's files into `target`, its subfolders into subdirectories, as the recipient's pages list them."""
    if target.exists():
        raise Refused("file_exists", f"{target} exists already: choose another with -o.")
    pending, seen = [(page, target)], set()
    while pending:
        (_, subfolders, files), into = pending.pop()
        into.mkdir(parents=True)
        prefix = urllib.parse.urlsplit(site).path
        for path in files:
            _save(_location(site, path[len(prefix) :] if prefix else path, headers), str(into), quiet)
        for folder_id, name in subfolders:
            if folder_id not in seen:
                seen.add(folder_id)
                found = _folder_page(site, token, folder_id, headers)
                if found is not None:
                    pending.append((found, into / _safe(name)))


def _filename(headers: Any) -> str:
    """The name the storage gives the download (RFC 6266 / RFC 5987), without any path."""
    disposition = headers.get("Content-Disposition", "") or ""
    if found := _FILENAME_STAR.search(disposition):
        name = urllib.parse.unquote(found.group(1).strip())
    elif found := _FILENAME.search(disposition):
        name = re.sub(r"\\(.)", r"\1", found.group(1))
    else:
        name = ""
    return _safe(name, "download")


def _copy(answer: Any, out: Any, progress: Progress) -> None:
    with out:
        while True:
            try:
                block = answer.read(1 << 20)
            except OSError as error:
                raise Refused("unreachable", f"The download was interrupted: {error}.") from None
            if not block:
                break
            out.write(block)
            progress.add(len(block))
    if progress.total and progress.done != progress.total:
        raise Refused("download_failed", "The download ended early; try again.")
    progress.finish()
