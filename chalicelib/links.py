"""External links: create, change, revoke, and open them; expiry and revocation are checked here."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError

from chalicelib import audit, clock, storage, throttle, tokens
from chalicelib.audit import Actor
from chalicelib.bodies import LinkChange, NewLink
from chalicelib.config import get_settings
from chalicelib.errors import Conflict, Gone, NotFound, Unauthorized
from chalicelib.models import FileRecord, LinkRecord, LinkTarget, transaction

ACTIVE = "active"
EXPIRED = "expired"
REVOKED = "revoked"


def status(link: LinkRecord, now: datetime | None = None) -> str:
    """Whether a link works right now. TTL deletion lags expiry by days, so never rely on it."""
    if link.revoked_at is not None:
        return REVOKED
    if link.valid_until is not None and link.valid_until <= (now or clock.now()):
        return EXPIRED
    return ACTIVE


def _tidy_after(link: LinkRecord) -> datetime | None:
    """When DynamoDB may delete the link: a while after it stopped working, so members still see it."""
    end = link.revoked_at or link.valid_until
    if end is None:
        return None
    return end + timedelta(days=get_settings().link_retention_days)


def _target(file: FileRecord) -> LinkTarget:
    return LinkTarget(
        name=file.name,
        size=file.size,
        content_type=file.content_type,
        updated_at=file.updated_at,
        s3_key=file.s3_key,
        version_id=file.version_id,
    )


def create_link(file: FileRecord, options: NewLink, actor: Actor) -> LinkRecord:
    """A new link to a ready file; the file must still be ready when the link is written."""
    if file.status != "ready":
        raise Conflict("Only a completely uploaded file can be shared.", "file_not_ready")
    now = clock.now()
    link = LinkRecord(
        link_id=tokens.new_link_id(),
        file_id=file.file_id,
        owner=file.owner,
        created_at=now,
        updated_at=now,
        valid_until=options.valid_until,
        allow_upload=options.allow_upload,
        require_login=options.require_login,
        target=_target(file),
    )
    link.expires_at = _tidy_after(link)
    try:
        with transaction() as write:
            # Still ready, and no newer version meanwhile: the link's target is the newest.
            write.condition_check(
                FileRecord,
                file.file_id,
                condition=(FileRecord.status == "ready") & (FileRecord.updated_at == file.updated_at),
            )
            # Two links never share an id, even if the random generator ever repeated.
            write.save(link, condition=LinkRecord.link_id.does_not_exist())
            write.save(audit.event(file.file_id, "link_created", actor, link.link_id, **_options(link)))
    except TransactWriteError:
        raise Conflict("The file changed while the link was made; try again.", "file_changed") from None
    return link


def _options(link: LinkRecord) -> dict[str, Any]:
    return {
        "valid_until": clock.iso(link.valid_until) or "never",
        "allow_upload": link.allow_upload,
        "require_login": link.require_login,
    }


def links_of_file(file: FileRecord) -> list[LinkRecord]:
    """A file's links, newest first, revoked and expired ones included."""
    return list(LinkRecord.by_file.query(file.file_id, scan_index_forward=False))


def owned_link(owner: str, token: str) -> LinkRecord:
    link_id = tokens.link_id_from(token)
    link = _get(link_id) if link_id else None
    if link is None or link.owner != owner:
        raise NotFound("No such link.", "link_not_found")
    return link


def _get(link_id: str) -> LinkRecord | None:
    try:
        return LinkRecord.get(link_id, consistent_read=True)
    except LinkRecord.DoesNotExist:
        return None


def change_link(link: LinkRecord, change: LinkChange, actor: Actor) -> LinkRecord:
    if link.revoked_at is not None:
        raise Conflict("A revoked link cannot be changed; make a new one.", "link_revoked")
    for name, value in change.fields.items():
        setattr(link, name, value)
    link.updated_at = clock.now()
    link.expires_at = _tidy_after(link)
    try:
        link.save(condition=LinkRecord.revoked_at.does_not_exist())
    except PutError:
        raise Conflict("The link was revoked meanwhile.", "link_revoked") from None
    audit.record(link.file_id, "link_changed", actor, link.link_id, **_options(link))
    return link


def revoke_link(link: LinkRecord, actor: Actor, reason: str = "revoked") -> LinkRecord:
    """Stop a link at once. Presigned URLs already handed out live on for their short life."""
    if link.revoked_at is None:
        link.revoked_at = clock.now()
        link.revoked_reason = reason
        link.expires_at = _tidy_after(link)
        link.update(
            actions=[
                LinkRecord.revoked_at.set(link.revoked_at),
                LinkRecord.revoked_reason.set(reason),
                LinkRecord.expires_at.set(link.expires_at),
            ]
        )
        audit.record(link.file_id, "link_revoked", actor, link.link_id, reason=reason)
    return link


def revoke_all(file_id: str, reason: str, actor: Actor) -> None:
    for link in LinkRecord.by_file.query(file_id):
        revoke_link(link, actor, reason)


def refresh_targets(file: FileRecord) -> None:
    """Point every link of a file at its newest version; a refresh for an older one never wins."""
    target = _target(file)
    for link in LinkRecord.by_file.query(file.file_id):
        if link.revoked_at is not None:
            continue
        try:
            link.update(
                actions=[LinkRecord.target.set(target)],
                condition=LinkRecord.target.updated_at < file.updated_at,
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise


def open_link(token: str, actor: Actor) -> LinkRecord:
    """The link a recipient's token names, if it works now: one GetItem, nothing else read.

    Misses are counted per source so guessing is throttled; a token whose MAC fails is
    refused before any table read.
    """
    link_id = tokens.link_id_from(token)
    link = _get(link_id) if link_id else None
    if link is None:
        throttle.count_miss(actor.ip or "unknown")
        raise NotFound("This link does not exist. Check that it was copied completely.", "link_not_found")
    state = status(link)
    if state == REVOKED:
        raise Gone("This link has been revoked by its owner.", "link_revoked")
    if state == EXPIRED:
        raise Gone("This link has expired.", "link_expired")
    return link


def visit(token: str, actor: Actor) -> LinkRecord:
    """Open a link's landing page, and audit that it was opened."""
    link = open_link(token, actor)
    audit.record(link.file_id, "link_opened", actor, link.link_id)
    return link


def check_access(link: LinkRecord, actor: Actor) -> None:
    """Refuse a visitor the link is not for: anonymous visitors of a login-required link."""
    if link.require_login and actor.who == "anonymous":
        raise Unauthorized("Sign in to use this link.", "login_required")


def download_url(link: LinkRecord, actor: Actor) -> str:
    """A presigned GET of the newest version, short-lived and never outliving the link."""
    check_access(link, actor)
    seconds = presign_seconds(link)
    _record_download(link, actor)
    target = link.target
    return storage.presigned_download(target.s3_key, target.version_id, target.name, target.content_type, seconds)


def presign_seconds(link: LinkRecord) -> int:
    """How long a URL presigned for this link may live: short, and never beyond the link's end."""
    seconds = get_settings().presign_seconds
    if link.valid_until is not None:
        seconds = min(seconds, int((link.valid_until - clock.now()).total_seconds()))
    if seconds < 1:
        raise Gone("This link has expired.", "link_expired")
    return seconds


def _record_download(link: LinkRecord, actor: Actor) -> None:
    """Count the download on the link and audit it, together; refused if revoked meanwhile."""
    try:
        with transaction() as write:
            write.update(
                link,
                actions=[LinkRecord.downloads.add(1)],
                condition=LinkRecord.revoked_at.does_not_exist(),
            )
            write.save(audit.event(link.file_id, "link_downloaded", actor, link.link_id))
    except TransactWriteError:
        raise Gone("This link has been revoked by its owner.", "link_revoked") from None


def describe(link: LinkRecord, site_url: str) -> dict[str, Any]:
    token = tokens.token_for(link.link_id)
    return {
        "token": token,
        "url": f"{site_url}/s/{token}",
        "qr_svg": f"{site_url}/api/links/{token}/qr.svg",
        "qr_png": f"{site_url}/api/links/{token}/qr.png",
        "file_id": link.file_id,
        "status": status(link),
        "valid_until": clock.iso(link.valid_until),
        "allow_upload": link.allow_upload,
        "require_login": link.require_login,
        "downloads": link.downloads,
        "created_at": clock.iso(link.created_at),
        "updated_at": clock.iso(link.updated_at),
        "revoked_at": clock.iso(link.revoked_at),
    }
