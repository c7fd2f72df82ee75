"""The `handover` command's subcommands: sign in, share, manage links, read history, download.

Exit status: 0 done, 1 refused (the server's `error.code` and message, or what went wrong
on the way, in one line), 2 bad usage (click's own).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import urllib.parse
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from handover_cli import http, login, recipient, store, terminal, upload
from handover_cli.api import Api
from handover_cli.http import Refused

_FILE_ID = re.compile(r"^[0-9a-f]{32}$")
DEFAULT_DAYS = 7


class _Command(click.Group):
    """Expected failures as one line and status 1; Ctrl-C as one line too."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Refused as refused:
            click.echo(f"handover: {refused.code}: {refused.message}", err=True)
            ctx.exit(1)
        except OSError as error:  # a file that vanished or cannot be written meanwhile
            click.echo(
                f"handover: local_error: {error.strerror or error}: {error.filename or ''}".rstrip(": "), err=True
            )
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("\nhandover: interrupted. An unfinished upload resumes when you run the same command.", err=True)
            ctx.exit(130)


@click.group(cls=_Command)
@click.version_option("1", prog_name="handover")
def cli() -> None:
    """Share files from a terminal through a Handover site."""


def main() -> None:
    cli(prog_name="handover")


def _say(quiet: bool):
    return (lambda text: None) if quiet else (lambda text: click.echo(text, err=True))


# --- signing in ----------------------------------------------------------------------


@cli.command("login")
@click.option("--site", required=True, help="The site's address, e.g. https://files.example.com.")
@click.option("--no-browser", is_flag=True, help="Print the sign-in address instead of opening a browser.")
def login_command(site: str, no_browser: bool) -> None:
    """Sign in through the site's login page; the session is kept in your config directory."""
    session = login.sign_in(login.site_url(site), not no_browser, lambda text: click.echo(text, err=True))
    click.echo(f"Signed in to {session['site']} as {session['email']}.")


@cli.command("logout")
def logout_command() -> None:
    """Forget the session kept on this computer, and end it at the login page."""
    click.echo("Signed out." if login.sign_out() else "You were not signed in.")


# --- link options ----------------------------------------------------------------------


def _end_of_day(day: datetime) -> str:
    return day.replace(hour=23, minute=59, second=59, microsecond=0).isoformat()


def _valid_until(days: int | None, until: str | None, never: bool) -> tuple[bool, str | None]:
    """(given, value): whether an end was chosen, and the ISO time it is (None: never)."""
    chosen = [name for name, value in (("--days", days), ("--until", until), ("--never", never or None)) if value]
    if len(chosen) > 1:
        raise click.UsageError(f"Choose one of {', '.join(chosen)}.")
    if never:
        return True, None
    if days is not None:
        return True, _end_of_day(datetime.now().astimezone() + timedelta(days=days))
    if until is not None:
        try:
            moment = datetime.fromisoformat(until)
        except ValueError:
            raise click.BadParameter("use a date (2030-12-31) or an ISO time.", param_hint="--until") from None
        if len(until) == 10:  # a day: its end, in this computer's time zone, as the console does
            return True, _end_of_day(moment.astimezone())
        return True, (moment if moment.tzinfo else moment.astimezone()).isoformat()
    return False, None


def _expiry_options(function: Any) -> Any:
    for option in reversed(
        [
            click.option(
                "--days", type=click.IntRange(min=0), help="Valid until the end of the day N days from today."
            ),
            click.option("--until", metavar="DATE", help="Valid until the end of DATE (or an ISO time)."),
            click.option("--never", is_flag=True, help="No end date: valid until revoked."),
            click.option("--label", metavar="TEXT", help="A label for the link, for you (at most 100 characters)."),
            click.option(
                "--password-prompt",
                is_flag=True,
                help="Ask for a password the recipient must type (or read $HANDOVER_LINK_PASSWORD, or standard input).",
            ),
            click.option("--limit", type=click.IntRange(1, 1000), help="At most N downloads."),
        ]
    ):
        function = option(function)
    return function


def _password() -> str:
    """The new password: typed twice on a terminal, else from $HANDOVER_LINK_PASSWORD or standard input."""
    password = terminal.link_password("Password for the link", confirm=True)
    if not 8 <= len(password) <= 128:  # checked before any upload, not after it (the server checks too)
        raise click.BadParameter("a link's password has 8 to 128 characters.", param_hint="--password-prompt")
    return password


# --- sharing -------------------------------------------------------------------------


@cli.command("share")
@click.argument("path", type=click.Path(exists=True, readable=True, path_type=Path))
@_expiry_options
@click.option("--login", "require_login", is_flag=True, help="The recipient must sign in.")
@click.option("--to", "recipients", multiple=True, metavar="EMAIL", help="Only this person (repeatable).")
@click.option("--group", "groups", multiple=True, metavar="G", help="Only members of this group (repeatable).")
@click.option("--upload", "allow_upload", is_flag=True, help="The recipient may send a new version back.")
@click.option("--folder", metavar="F", help="Put it into your folder F (a path such as Reports/2026, or an id).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: the file and its link.")
@click.option("--quiet", "-q", is_flag=True, help="Print the link's URL only.")
def share(
    path: Path,
    days: int | None,
    until: str | None,
    never: bool,
    label: str | None,
    password_prompt: bool,
    limit: int | None,
    require_login: bool,
    recipients: tuple[str, ...],
    groups: tuple[str, ...],
    allow_upload: bool,
    folder: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Upload PATH (a file, or a directory as a folder) and make a link to it."""
    given, valid_until = _valid_until(days, until, never)
    if not given:
        valid_until = _valid_until(DEFAULT_DAYS, None, False)[1]
    _check_readable(path)
    options: dict[str, Any] = {
        "valid_until": valid_until,
        "allow_upload": allow_upload,
        "require_login": require_login,
        "recipients": list(recipients),
        "groups": list(groups),
    }
    options.update(_extra_fields(label, password_prompt, limit))
    api = Api.signed_in()
    folder_id = _folder(api, folder) if folder else None
    say = _say(quiet)
    quiet_bytes = quiet or as_json
    if path.is_dir():
        item = upload.upload_directory(api, path, folder_id, quiet_bytes, say)
    else:
        item = upload.upload_file(api, path, folder_id, quiet_bytes, say)
    link = _make_link(api, item["file_id"], options)
    store.forget_resume(upload.resume_key(api.site, path, folder_id))
    if as_json:
        click.echo(json.dumps({"file": item, "link": link}))
    elif quiet:
        click.echo(link["url"])
    else:
        _show_link(link)


def _make_link(api: Api, file_id: str, options: dict[str, Any]) -> dict[str, Any]:
    """The link; tried again when the file changed meanwhile (its malware scan finishing just then
    changes it too), as the server's `file_changed` asks."""
    for attempt in range(3):
        try:
            return api.call("POST", f"/api/files/{file_id}/links", options)["link"]
        except Refused as refused:
            if refused.code != "file_changed" or attempt == 2:
                raise
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def _extra_fields(label: str | None, password_prompt: bool, limit: int | None) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if label is not None:
        if len(label) > 100:  # before any upload, not after it (the server checks too)
            raise click.BadParameter("a label has at most 100 characters.", param_hint="--label")
        fields["label"] = label
    if password_prompt:
        fields["password"] = _password()
    if limit is not None:
        fields["download_limit"] = limit
    return fields


def _check_readable(path: Path) -> None:
    """Every file readable and not empty before anything is made on the site."""
    files = [path] if path.is_file() else [Path(d) / f for d, _, names in os.walk(path) for f in names]
    for file in files:
        if not os.access(file, os.R_OK):
            raise Refused("unreadable", f"{file} cannot be read.")
    if path.is_file() and path.stat().st_size == 0:
        raise Refused("empty_file", f"{path} is empty: empty files cannot be shared.")


def _show_link(link: dict[str, Any]) -> None:
    colour = sys.stdout.isatty()
    click.echo()
    for line in terminal.qr_lines(link["url"], colour):
        click.echo(f"  {line}")
    click.echo()
    click.echo(link["url"])
    click.echo(_describe(link), err=True)


def _describe(link: dict[str, Any]) -> str:
    until = link.get("valid_until") or "never expires"
    parts = [link["status"], f"until {until}" if link.get("valid_until") else until]
    if link.get("require_login"):
        audience = link.get("recipients", []) + [f"group {g}" for g in link.get("groups", [])]
        parts.append("sign-in" + (f" for {', '.join(audience)}" if audience else ""))
    if link.get("allow_upload"):
        parts.append("upload allowed")
    if link.get("label"):
        parts.append(f"label {link['label']!r}")
    if link.get("has_password"):
        parts.append("password")
    downloads = f"{link.get('downloads', 0)} downloads"
    if link.get("download_limit"):
        downloads += f" of {link['download_limit']}"
    parts.append(downloads)
    return " · ".join(parts)


# --- finding files ----------------------------------------------------------------------


def _find(api: Api, reference: str, want_folder: bool = False) -> dict[str, Any]:
    """A file or folder of the member's by id, or by its path of names from the top (Reports/q3.pdf)."""
    if _FILE_ID.match(reference):
        return api.call("GET", f"/api/files/{reference}")["file"]
    item: dict[str, Any] | None = None
    names = [name for name in reference.strip("/").split("/") if name]
    if not names:
        raise click.BadParameter("name a file or folder.", param_hint="FILE")
    for depth, name in enumerate(names):
        last = depth == len(names) - 1
        found = [
            entry
            for entry in api.each_file(item["file_id"] if item else "root")
            if entry["name"] == name and (entry["kind"] == "folder" or (last and not want_folder))
        ]
        if not found:
            raise Refused(
                "file_not_found", f"You have no {'folder' if want_folder or not last else 'file'} {reference!r}."
            )
        if len(found) > 1:
            ids = ", ".join(entry["file_id"] for entry in found)
            raise Refused("ambiguous", f"Several of yours are called {name!r}; name one by id: {ids}.")
        item = found[0]
    assert item is not None
    return item


def _folder(api: Api, reference: str) -> str:
    return _find(api, reference, want_folder=True)["file_id"]


def _token(reference: str) -> str:
    """A link's token, from the token itself or its URL."""
    if "/s/" in reference:
        return recipient.parse_link(reference)[1]
    if not re.fullmatch(r"[A-Za-z0-9_-]+", reference):
        raise click.BadParameter("give a link's token or its URL.", param_hint="TOKEN")
    return reference


# --- links ---------------------------------------------------------------------------


@cli.command("links")
@click.argument("file", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines, one link each.")
def links(file: str | None, as_json: bool) -> None:
    """The links of FILE (a path of names or an id), or of all your files."""
    api = Api.signed_in()
    items = [_find(api, file)] if file else list(api.each_file())
    for item in items:
        found = api.call("GET", f"/api/files/{item['file_id']}/links")["links"]
        if not found:
            continue
        if not as_json:
            click.echo(f"{item['name']} ({item['file_id']})")
        for link in found:
            if as_json:
                click.echo(json.dumps({"file": item["name"], **link}))
            else:
                click.echo(f"  {link['url']}\n    {_describe(link)}")


# A token may begin with "-": read as the token, not as options.
_TOKEN_FIRST = {"ignore_unknown_options": True}


@cli.command("revoke", context_settings=_TOKEN_FIRST)
@click.argument("token")
def revoke(token: str) -> None:
    """Revoke a link (its token or URL): it stops working at once."""
    link = Api.signed_in().call("DELETE", f"/api/links/{_token(token)}")["link"]
    click.echo(f"Revoked {link['url']}.")


@cli.command("edit", context_settings=_TOKEN_FIRST)
@click.argument("token")
@_expiry_options
@click.option("--login/--no-login", "require_login", default=None, help="Require sign-in, or not.")
@click.option("--upload/--no-upload", "allow_upload", default=None, help="Allow a new version back, or not.")
@click.option("--no-password", is_flag=True, help="Remove the link's password.")
@click.option("--no-limit", is_flag=True, help="Remove the download limit.")
def edit(
    token: str,
    days: int | None,
    until: str | None,
    never: bool,
    label: str | None,
    password_prompt: bool,
    limit: int | None,
    require_login: bool | None,
    allow_upload: bool | None,
    no_password: bool,
    no_limit: bool,
) -> None:
    """Change a link (its token or URL)."""
    change: dict[str, Any] = {}
    given, valid_until = _valid_until(days, until, never)
    if given:
        change["valid_until"] = valid_until
    if require_login is not None:
        change["require_login"] = require_login
    if allow_upload is not None:
        change["allow_upload"] = allow_upload
    if password_prompt and no_password:
        raise click.UsageError("Choose one of --password-prompt, --no-password.")
    if limit is not None and no_limit:
        raise click.UsageError("Choose one of --limit, --no-limit.")
    change.update(_extra_fields(label, password_prompt, limit))
    if no_password:
        change["password"] = None
    if no_limit:
        change["download_limit"] = None
    if not change:
        raise click.UsageError("Name at least one change, e.g. --days 7 or --no-upload.")
    link = Api.signed_in().call("PATCH", f"/api/links/{_token(token)}", change)["link"]
    click.echo(link["url"])
    click.echo(_describe(link))


# --- versions and history ---------------------------------------------------------------


@cli.command("versions")
@click.argument("file")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines, one version each.")
def versions(file: str, as_json: bool) -> None:
    """Every version of FILE, newest first."""
    api = Api.signed_in()
    item = _find(api, file)
    for version in _pages(api, f"/api/files/{item['file_id']}/versions", "versions"):
        if as_json:
            click.echo(json.dumps(version))
            continue
        mark = "*" if version["current"] else " "
        when, size, who = version["uploaded_at"], terminal.size(version["size"]), version["uploaded_by"]
        click.echo(f"{mark} {when}  {size:>10}  {version['name']}  {who}  {version['version_id']}")


@cli.command("history")
@click.argument("file")
@click.option("--csv", "as_csv", is_flag=True, help="Print the history as CSV, as the console exports it.")
def history(file: str, as_csv: bool) -> None:
    """What happened to FILE and its links, newest first."""
    api = Api.signed_in()
    item = _find(api, file)
    if as_csv:
        _history_csv(api, item["file_id"])
        return
    for event in _pages(api, f"/api/files/{item['file_id']}/events", "events"):
        link = f"  link {event['link']}" if event.get("link") else ""
        click.echo(f"{event['at']}  {event['kind']:<20} {event['who']}{link}  {event.get('ip') or ''}".rstrip())


def _history_csv(api: Api, file_id: str) -> None:
    """Every part of the export, one header; each part names the next in its Link header."""
    url: str | None = f"/api/files/{file_id}/events.csv"
    first = True
    while url:
        answer = api.raw("GET", url)
        if answer.status != 200:
            raise http.refusal(answer)
        text = answer.body.decode("utf-8")
        if not first:
            text = text.split("\n", 1)[1] if "\n" in text else ""
        click.echo(text, nl=False)
        first = False
        found = re.search(r'<([^>]+)>;\s*rel="next"', answer.headers.get("Link", "") or "")
        url = found.group(1) if found else None


def _pages(api: Api, path: str, key: str):
    cursor = None
    while True:
        query = urllib.parse.urlencode({"limit": "100", **({"cursor": cursor} if cursor else {})})
        page = api.call("GET", f"{path}?{query}")
        yield from page[key]
        cursor = page.get("next_cursor")
        if not cursor:
            return


# --- recipients ------------------------------------------------------------------------


@cli.command("get")
@click.argument("url")
@click.option("-o", "--output", metavar="PATH", help="Where to save it: a file, a directory, or - for stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def get(url: str, output: str | None, quiet: bool) -> None:
    """Download the file a link shares."""
    written = recipient.get(url, output, quiet)
    if written is not None and not quiet:
        click.echo(str(written))
