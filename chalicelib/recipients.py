"""What people outside the team see and take: a link's page and downloads, their portal, and
the folders they work on; one call per route.

Someone is read from Cognito only when a link or folder needs to know who they are (see
web.Call): a public link's page and download ask nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib import collaborators, files, folder_links, link_passwords, links, notices, pages, previews, urls
from chalicelib.errors import LoginRequired, NotAllowed, PasswordRequired

if TYPE_CHECKING:
    from chalicelib.web import Call


@dataclass(frozen=True)
class Redirect:
    """An answer that sends the browser elsewhere."""

    location: str


def link_page(token: str, visitor: Call) -> str:
    """A link's page: the file and its Download button, or the shared folder (or one below it);
    for a password link not yet unlocked, only a form asking for the password."""
    try:
        link = links.visit(token, visitor)
    except PasswordRequired:
        return pages.password_form(token, visitor.site, visitor.shown(), wrong=False)
    if link.target.kind == "folder":
        folder, trail, items = folder_links.folder_view(link, visitor.query("folder"))
        return pages.folder(link, token, visitor.site, visitor.shown(), folder, trail, items)
    # A preview is a presigned GET too: a link with a download limit gives its file only by the counted POST.
    preview = None if links.counts_downloads(link) else previews.preview_of(link)
    return pages.landing(link, token, visitor.site, visitor.shown(), preview)


@dataclass(frozen=True)
class Unlocked:
    """The right password: back to the link's page with the cookie that remembers it."""

    location: str
    cookie: str


def unlock(token: str, visitor: Call) -> Unlocked | str:
    """A password typed on a link's page: the cookie and the way back, or the form again saying it was wrong."""
    link, stored = links.unlock(token, visitor.form("password") or "", visitor)
    back = urls.url_for(visitor.site, "landing", token=token)
    if stored is None:
        if link.password_hash is None:  # no password (any more): nothing to unlock
            return Unlocked(back, "")
        return pages.password_form(token, visitor.site, visitor.shown(), wrong=True)
    secure = visitor.site.startswith("https://")
    return Unlocked(back, link_passwords.unlock_cookie(link.link_id, stored, secure))


def download(token: str, visitor: Call, counted: bool = True) -> str:
    """A presigned GET of the file a link shares.

    `counted` is the explicit POST. A GET of a link with a download limit takes the visitor to
    the link's page instead: previews and mail scanners must not use up its downloads.
    """
    link = links.open_link(token, visitor.actor)
    if not counted and links.counts_downloads(link):
        links.check_access(link, visitor)
        return urls.url_for(visitor.site, "landing", token=token)
    return links.download_url(link, visitor)


def folder_download(token: str, file_id: str, visitor: Call) -> str:
    """A presigned GET of a file below the folder a link shares."""
    return folder_links.folder_file_url(links.open_link(token, visitor.actor), file_id, visitor)


def portal(visitor: Call) -> str:
    """Everything released to a signed-in person, and the folders they work on."""
    if visitor.viewer is None:
        raise LoginRequired("Sign in to see what was shared with you.")
    person = visitor.viewer.person
    return pages.portal(visitor.viewer, links.released_to(person), collaborators.folders_of(person), visitor.site)


def join(token: str, visitor: Call) -> str | Redirect:
    """An invitation or join link: into the folder at once, or a page saying the owner was asked."""
    outcome, folder = collaborators.accept(token, visitor.person, visitor.actor)
    if outcome == "joined":
        return Redirect(urls.url_for(visitor.site, "portal_folder", folder_id=folder.file_id))
    return pages.join_requested(visitor.viewer, folder, visitor.site)


def collaborator_folder(folder_id: str, visitor: Call) -> str:
    """A folder someone works on (or a folder inside it), with a way to add files if their role allows."""
    shared, shown = collaborators.folder_for(visitor.person, folder_id, visitor.query("folder"))
    role = collaborators.role_in(visitor.person, folder_id)
    return pages.portal_folder(visitor.viewer, shared, shown, files.children(shown), role, visitor.site)


def collaborator_download(folder_id: str, file_id: str, visitor: Call) -> str:
    """A presigned GET of a file in a folder someone works on."""
    return collaborators.download_url(visitor.person, folder_id, file_id, visitor.actor)


def request_access(token: str, visitor: Call) -> str:
    """Someone signed in whom a link is not for asks its owner for it (one mail a day at most)."""
    link = links.open_link(token, visitor.actor)
    person = visitor.person
    if person is None:
        raise LoginRequired("Sign in to ask for access.")
    if links.is_for(link, person) or not link.require_login:
        return pages.access_requested(visitor.shown(), visitor.site, token, already=True)
    if person.email is None:
        raise NotAllowed("Asking for access needs a verified email address.", signed_in_as=person.label)
    notices.access_requested(link, person.email, visitor.actor)
    return pages.access_requested(visitor.shown(), visitor.site, token, already=False)
