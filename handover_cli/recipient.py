"""Downloading through a link, as a recipient: the same routes a browser follows, then the bytes from S3."""

from __future__ import annotations

import html
import os
import re
import urllib.parse
from pathlib import Path
from typing import Any

from handover_cli import http, store
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
    found = _PAGE.search(answer.body.decode("utf-8", "replace"))
    code = _PAGE_CODES.get(answer.status, f"http_{answer.status}")
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


def download_location(url: str) -> str:
    """Where the link's file is: a short-lived presigned URL."""
    site, token = parse_link(url)
    headers = _headers(site)
    answer = http.request("GET", f"{site}/s/{token}/download", headers=headers)
    if answer.status in (301, 302, 303, 307):
        location = urllib.parse.urljoin(f"{site}/", answer.headers.get("Location", ""))
        if urllib.parse.urlsplit(location).path.endswith("/auth/login"):
            hint = "Your session is not allowed to open it." if headers else f"Run `handover login --site {site}`."
            raise Refused("login_required", f"This link requires sign-in. {hint}")
        return location
    raise _page_refusal(answer)


def _filename(headers: Any) -> str:
    disposition = headers.get("Content-Disposition", "") or ""
    if found := _FILENAME_STAR.search(disposition):
        name = urllib.parse.unquote(found.group(1).strip())
    elif found := _FILENAME.search(disposition):
        name = re.sub(r"\\(.)", r"\1", found.group(1))
    else:
        name = "download"
    name = name.replace("\\", "/").split("/")[-1].strip()
    return name if name not in ("", ".", "..") else "download"


def get(url: str, output: str | None, quiet: bool) -> Path | None:
    """Download the link's file to `output` (a file, a directory, `-` for stdout); the path written."""
    location = download_location(url)
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
