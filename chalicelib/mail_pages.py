"""The console's email pages: a member's mail preferences, and the answer to a request for access."""

from __future__ import annotations

from chalicelib import links, notices, pages, preferences
from chalicelib.auth import Caller
from chalicelib.config import get_settings
from chalicelib.errors import NotFound

_KIND_TITLES = {
    "upload_received": "Someone sends a file through my link or into my shared folder",
    "expiry_reminder": "A used link of mine ends within 3 days (one reminder)",
    "access_request": "Someone asks for access to a link of mine",
    "download_digest": "Daily digest of downloads (for links that have it turned on)",
}


def email_page(viewer: Caller, site: str) -> str:
    """Which mails the member gets; says when email is off, and links the local outbox on a laptop."""
    settings = get_settings()
    chosen = preferences.describe(viewer.person.sub)
    kinds = [(kind, _KIND_TITLES[kind], getattr(chosen, kind)) for kind in preferences.KINDS]
    return pages.render(
        "console/email.html",
        site=site,
        viewer=viewer,
        kinds=kinds,
        email_on=settings.mail_on,
        sender=settings.sender if settings.mail_on else None,
        outbox=settings.stage == "local",
    )


def access_request_page(viewer: Caller, site: str, token: str, email: str | None) -> str:
    """One request for access to a member's link: approve (adds them to the link) or ignore."""
    link = links.owned_link(viewer.person.sub, token)
    if not email or not notices.open_request(link, email):
        raise NotFound("This request for access was answered already, or has expired.", "request_not_found")
    return pages.render("console/access_request.html", site=site, viewer=viewer, link=link, token=token, email=email)
