"""Versions of a file: each checked upload is one, every one stays, and the newest clean one is served."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib import audit, clock, links, paging, shapes, storage, tokens, urls
from chalicelib.audit import Actor
from chalicelib.config import get_settings
from chalicelib.errors import Conflict, NotFound
from chalicelib.models import FileRecord, condition_failed
from chalicelib.more_models import VersionRecord

# A version's malware scan (scans.py): served only once clean.
PENDING = "pending"
CLEAN = "clean"
INFECTED = "infected"


def new_version(
    file_id: str,
    version_id: str,
    name: str,
    size: int,
    content_type: str,
    uploader: Actor,
    *,
    link_id: str | None = None,
    upload_id: str | None = None,
    sent_as: str | None = None,
    sender: dict[str, Any] | None = None,
) -> VersionRecord:
    """A version ready to save, alone or inside a transaction; call only once S3 showed its bytes."""
    at = clock.now()
    return VersionRecord(
        file_id=file_id,
        version_key=clock.sort_key(at),
        version_id=version_id,
        name=name,
        size=size,
        content_type=content_type,
        uploaded_at=at,
        uploaded_by=uploader.who,
        link_id=link_id,
        ip=uploader.ip,
        upload_id=upload_id,
        sent_as=sent_as,
        state=PENDING,
        **(sender or {}),
    )


def signed_in_sender(actor: Actor, name: str | None = None) -> dict[str, Any] | None:
    """Who sends a version, known from their sign-in (verified); None for someone not signed in."""
    kind, _, who = actor.who.partition(":")
    if kind not in ("email", "member", "user"):
        return None
    return {"sender_name": name, "sender_email": who if "@" in who else None, "sender_verified": True}


def arrival(version: VersionRecord) -> list:
    """The file's update for a version that just arrived: its scan is pending, and the file says so."""
    return [FileRecord.state.set(PENDING), FileRecord.arrived_at.set(version.uploaded_at)]


def arrived(version: VersionRecord) -> None:
    """Show on the file that a newer version arrived and waits for its scan (never an older one)."""
    newer = FileRecord.arrived_at.does_not_exist() | (FileRecord.arrived_at < version.uploaded_at)
    try:
        FileRecord(version.file_id).update(actions=arrival(version), condition=(FileRecord.status == "ready") & newer)
    except UpdateError as error:
        if not condition_failed(error):
            raise


def publish(version: VersionRecord) -> bool:
    """Make a version the one its file and every link of it serve, unless a newer one already is.

    The file keeps its own name and type: only its owner renames it. Two uploads
    completing at once both stay versions; the conditions let the later one win
    whichever order the writes land in. False when the file moved on or is gone.
    """
    file = FileRecord(version.file_id)
    newer = FileRecord.version_at.does_not_exist() | (FileRecord.version_at < version.uploaded_at)
    try:
        file.update(
            actions=[
                FileRecord.size.set(version.size),
                FileRecord.version_id.set(version.version_id),
                FileRecord.version_at.set(version.uploaded_at),
                FileRecord.updated_at.set(max(clock.now(), version.uploaded_at)),
            ],
            condition=(FileRecord.status == "ready") & newer,
        )
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    links.refresh_targets(file)
    return True


def list_versions(file: FileRecord, limit: int, cursor: str | None) -> tuple[list[VersionRecord], str | None]:
    """A file's versions, newest first, one page at a time."""
    results = VersionRecord.query(
        file.file_id,
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=paging.decode(cursor, {"file_id": file.file_id}),
    )
    return paging.page(results)


def version_by_id(file_id: str, version_id: str) -> VersionRecord | None:
    """One recorded version of a file by its S3 version id (a Query of its few versions, never a Scan)."""
    return next(VersionRecord.query(file_id, filter_condition=VersionRecord.version_id == version_id), None)


def version_of(file: FileRecord, version_id: str) -> VersionRecord:
    """One recorded version of the file, or 404."""
    found = version_by_id(file.file_id, version_id)
    if found is None:
        raise NotFound("No such version of this file.", "version_not_found")
    return found


def download_url(file: FileRecord, version_id: str, actor: Actor) -> str:
    """A short-lived GET of any version, for the file's owner; audited."""
    version = version_of(file, version_id)
    if version.state == INFECTED:
        raise Conflict(f"This version holds malware ({version.finding}); it is never served.", "version_infected")
    if version.state == PENDING:
        raise Conflict("This version is being checked for malware. Try again in a few minutes.", "scan_pending")
    audit.record(file.file_id, "version_downloaded", actor, version_id=version.version_id)
    seconds = get_settings().presign_seconds
    return storage.presigned_download(file.s3_key, version.version_id, version.name, version.content_type, seconds)


def waited(version: VersionRecord) -> int | None:
    """How many seconds a pending version has waited for its scan; None once it has an answer."""
    if version.state != PENDING:
        return None
    return max(0, int((clock.now() - version.uploaded_at).total_seconds()))


def describe(version: VersionRecord, file: FileRecord, site_url: str) -> shapes.Version:
    return shapes.Version(
        version_id=version.version_id,
        name=version.name,
        sent_as=version.sent_as,
        size=version.size,
        content_type=version.content_type,
        uploaded_at=version.uploaded_at,
        uploaded_by=version.uploaded_by,
        link_token=tokens.token_for(version.link_id) if version.link_id else None,
        ip=version.ip,
        current=version.version_id == file.version_id,
        state=version.state,
        finding=version.finding,
        scanned_at=version.scanned_at,
        sender_name=version.sender_name,
        sender_email=version.sender_email,
        sender_verified=bool(version.sender_verified),
        waiting_seconds=waited(version),
        download_url=urls.url_for(site_url, "download_version", file_id=file.file_id, version_id=version.version_id),
    )
