"""Recipients send files back: an upload through a link, checked in S3, becomes the file's newest version.

Where the bytes go, and why. S3 versioning keeps every version of `files/{file_id}`, but
a presigned POST straight to that key would make a recipient's bytes its current version
before the server checked anything; an upload never completed would stay on top, and
the noncurrent-version expiry rule would then delete the version the file really serves.
So a POST goes to a staging key of its own (`uploads/{file_id}/{upload_id}`, fixed by
the policy with the exact size), and on complete the server copies it inside S3 onto
the file's key. CopyObject answers the new version's id, so the server knows which
version is *its* upload without the browser's word, and two uploads at once become two
versions. A multipart upload goes to the file's key directly: parts stay invisible
until CompleteMultipartUpload, which only the server calls and which also answers the
version id. Both pin `x-amz-meta-upload-id`, so every S3 version names its upload, and a
complete that stopped half-way finds its version again. SeaweedFS (the local S3) and S3
both enforce the POST policy's metadata and size conditions and the part URLs' signed
lengths, and both answer version ids from CopyObject and CompleteMultipartUpload.
"""

from __future__ import annotations

import mimetypes
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath
from typing import Any

import msgspec
from botocore.exceptions import ClientError
from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib import audit, clock, files, links, notices, scans, shapes, storage, tokens, versions
from chalicelib.audit import Actor
from chalicelib.config import get_settings
from chalicelib.directory import Person
from chalicelib.errors import BadRequest, Conflict, Forbidden, Gone, HandoverError, NotFound
from chalicelib.models import LinkRecord, condition_failed, get_or_none, transaction
from chalicelib.more_models import UploadRecord, VersionRecord

STARTED = "started"
COMPLETING = "completing"
COMPLETED = "completed"

_UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{22}\Z")
# A complete that stopped half-way (a crash, a timeout) may be taken over after this.
_CLAIM_SECONDS = 120


@dataclass(frozen=True)
class Inbox:
    """Where uploads land and through what: a link, or a collaborator's folder.

    A file gets new versions; a folder gets new files (a file request). An upload is
    continued and completed only through the channel that started it.
    """

    file_id: str
    into_folder: bool
    owner: str
    channel: str  # the link's id, or "folder:<id>" for collaborators
    link_id: str | None  # for the audit trail and versions: the link, if one was used
    seconds: int  # how long presigned URLs may live
    ask_sender: str = "off"  # whether to ask who sends: off, optional, required
    max_upload_bytes: int | None = None
    allowed_types: tuple[str, ...] = ()  # ".pdf", "application/pdf", "image/*"; empty: anything


def through_link(token: str, person: Person | None, actor: Actor, cookies: str | None = None) -> Inbox:
    """The inbox of a link, if it works now, lets this visitor in (a password link: its cookie) and accepts uploads."""
    link = _upload_link(token, person, actor, cookies)
    return Inbox(
        file_id=link.file_id,
        into_folder=link.target.kind == "folder",
        owner=link.owner,
        channel=link.link_id,
        link_id=link.link_id,
        seconds=links.presign_seconds(link),
        ask_sender=link.ask_sender or "off",
        max_upload_bytes=int(link.max_upload_bytes) if link.max_upload_bytes else None,
        allowed_types=tuple(link.allowed_types or ()),
    )


def start(inbox: Inbox, raw_body: bytes | None, actor: Actor) -> shapes.UploadPlan:
    """Begin an upload: record it and hand out the presigned plan for its bytes."""
    with _refusals(inbox, actor):
        new = shapes.decode(raw_body, shapes.NewUpload)
        _within_limits(inbox, new)  # before any URL is issued
        sender = _sender(inbox, new, actor)
        seconds = inbox.seconds
        upload_id = secrets.token_urlsafe(16)
        multipart = storage.needs_multipart(new.size)
        file_id = files.requested_file(inbox.file_id, inbox.owner, new).file_id if inbox.into_folder else inbox.file_id
        file_key = storage.file_key(file_id)
        s3_upload_id = (
            storage.start_multipart(file_key, new.content_type, {"upload-id": upload_id}) if multipart else None
        )
        now = clock.now()
        upload = UploadRecord(
            upload_id=upload_id,
            file_id=file_id,
            link_id=inbox.channel,
            name=new.name,
            size=new.size,
            content_type=new.content_type,
            s3_key=file_key if multipart else storage.staging_key(file_id, upload_id),
            s3_upload_id=s3_upload_id,
            status=STARTED,
            actor=actor.who,
            ip=actor.ip,
            user_agent=(actor.user_agent or "")[:300] or None,
            created_at=now,
            updated_at=now,
            expires_at=now + timedelta(days=get_settings().incomplete_upload_days),
            **sender,
        )
        detail = {"upload_id": upload_id, "name": new.name, "size": new.size, "multipart": multipart}
        detail |= {key: value for key, value in sender.items() if value is not None}
        with transaction() as write:
            write.save(upload, condition=UploadRecord.upload_id.does_not_exist())
            write.save(audit.event(inbox.file_id, "upload_started", actor, inbox.link_id, **detail))
        return _plan(upload, seconds)


def renew(inbox: Inbox, upload_id: str, actor: Actor) -> shapes.UploadPlan:
    """A fresh plan for an unfinished upload: new URLs, and only for the parts S3 lacks (resume)."""
    with _refusals(inbox, actor, upload_id):
        upload = _upload_of(inbox, upload_id)
        _still_open(upload)
        return _plan(upload, inbox.seconds)


def complete(inbox: Inbox, upload_id: str, actor: Actor) -> shapes.Upload:
    """Record the upload as the file's newest version, once S3 shows its bytes as announced.

    Never on the browser's word: the server checks the size (and, for multipart, that
    every part is there), makes the version itself, and only then writes it down.
    """
    with _refusals(inbox, actor, upload_id):
        upload = _upload_of(inbox, upload_id)
        if upload.status == COMPLETED:
            return status(inbox, upload_id)
        taking_over = _claim(upload)
        file_key = storage.file_key(upload.file_id)
        try:
            found = storage.find_version(file_key, upload.created_at, **_metadata(upload)) if taking_over else None
            stored = found or _place(upload, file_key)
        except HandoverError:
            _release(upload)
            raise
        name, content_type = _identity(inbox, upload)
        version = versions.new_version(
            upload.file_id,
            stored.version_id or "",
            name,
            upload.size,
            content_type,
            Actor(upload.actor, upload.ip, upload.user_agent),
            link_id=inbox.link_id,
            upload_id=upload.upload_id,
            sent_as=upload.name,
            sender=_sender_of(upload),
        )
        detail = {"upload_id": upload.upload_id, "version_id": version.version_id, "size": upload.size}
        if inbox.into_folder:
            detail["new_file"] = True  # the History calls it a file received, not a new version
        detail |= {key: value for key, value in _sender_of(upload).items() if value is not None}
        try:
            with transaction() as write:
                write.update(
                    upload,
                    actions=[
                        UploadRecord.status.set(COMPLETED),
                        UploadRecord.version_id.set(version.version_id),
                        UploadRecord.updated_at.set(version.uploaded_at),
                    ],
                    condition=UploadRecord.status == COMPLETING,
                )
                write.save(version, condition=VersionRecord.version_key.does_not_exist())
                write.save(audit.event(upload.file_id, "upload_completed", actor, inbox.link_id, **detail))
        except TransactWriteError:
            raise Conflict("Another request completed this upload meanwhile.", "upload_completing") from None
    upload.status, upload.version_id, upload.updated_at = COMPLETED, version.version_id, version.uploaded_at
    if inbox.into_folder:
        files.mark_ready(version)
    else:
        versions.arrived(version)
    # Served only once its scan says clean (scans.py); the scan may have answered already.
    scans.settle_from_tag(version, file_key)
    if upload.s3_upload_id is None:
        _tidy(upload.s3_key)
    notices.upload_received(upload.file_id, version.version_id, inbox.link_id, actor)
    return msgspec.structs.replace(describe(upload), state=version.state)


def status(inbox: Inbox, upload_id: str) -> shapes.Upload:
    """An upload as its sender may see it: whether it is complete, and whether its scan accepted it."""
    upload = _upload_of(inbox, upload_id)
    answer = describe(upload)
    if upload.version_id:
        version = versions.version_by_id(upload.file_id, upload.version_id)
        answer = msgspec.structs.replace(answer, state=version.state if version else None)
    return answer


def describe(upload: UploadRecord) -> shapes.Upload:
    return shapes.of(upload, shapes.Upload)


# --- the steps ------------------------------------------------------------------------


def _upload_link(token: str, person: Person | None, actor: Actor, cookies: str | None) -> LinkRecord:
    """The link, if it works now, lets this visitor in and accepts uploads; refusals are audited."""
    try:
        link = links.open_link(token, actor)
    except Gone as error:
        _audit_gone(token, actor, error)
        raise
    with _refusals(link, actor):
        links.check_access(link, links.Visit(person, actor, cookies))
        if not link.allow_upload:
            raise Forbidden("This link lets you download the file, not send a new version.", "upload_not_allowed")
    return link


def _audit_gone(token: str, actor: Actor, error: Gone) -> None:
    """A refused upload on a link that exists but stopped working is still an event of its file."""
    link = get_or_none(LinkRecord, tokens.link_id_from(token) or "")
    if link is None:
        return
    audit.record(link.file_id, "upload_refused", actor, link.link_id, code=error.code)


@contextmanager
def _refusals(inbox: Inbox | LinkRecord, actor: Actor, upload_id: str | None = None) -> Iterator[None]:
    """Record every refused upload step as an event of the file, then let the error answer."""
    try:
        yield
    except HandoverError as error:
        detail = {"upload_id": upload_id} if upload_id and _UPLOAD_ID.match(upload_id) else {}
        audit.record(inbox.file_id, "upload_refused", actor, inbox.link_id, code=error.code, **detail)
        raise


def _upload_of(inbox: Inbox, upload_id: str) -> UploadRecord:
    """An upload started through this very link or folder; any other is as unknown as a missing one."""
    upload = get_or_none(UploadRecord, upload_id) if _UPLOAD_ID.match(upload_id) else None
    if upload is None or upload.link_id != inbox.channel:
        raise NotFound("No such upload here.", "upload_not_found")
    return upload


def _still_open(upload: UploadRecord) -> None:
    if upload.status == COMPLETED:
        raise Conflict("This upload is complete already.", "upload_already_complete")
    if upload.status == COMPLETING and upload.updated_at > clock.now() - timedelta(seconds=_CLAIM_SECONDS):
        raise Conflict("This upload is being completed; try again in a moment.", "upload_completing")
    # TTL deletion lags; by now the lifecycle rule has removed the upload's bytes.
    if clock.now() >= upload.expires_at:
        raise Conflict("This upload was abandoned too long ago; start a new one.", "upload_expired")


def _claim(upload: UploadRecord) -> bool:
    """Let one request at a time complete an upload; True when taking over one that stopped half-way."""
    _still_open(upload)
    taking_over = upload.status == COMPLETING
    try:
        upload.update(
            actions=[UploadRecord.status.set(COMPLETING), UploadRecord.updated_at.set(clock.now())],
            condition=(UploadRecord.status == upload.status) & (UploadRecord.updated_at == upload.updated_at),
        )
    except UpdateError as error:
        if not condition_failed(error):
            raise
        raise Conflict("This upload is being completed; try again in a moment.", "upload_completing") from None
    return taking_over


def _release(upload: UploadRecord) -> None:
    """Nothing was recorded: let the recipient send what is missing and complete again."""
    try:
        upload.update(actions=[UploadRecord.status.set(STARTED)], condition=UploadRecord.status == COMPLETING)
    except UpdateError as error:
        if not condition_failed(error):
            raise


def _within_limits(inbox: Inbox, new: shapes.NewUpload) -> None:
    """The link's own limits on what it takes: refused before anything is stored or presigned."""
    if inbox.max_upload_bytes and new.size > inbox.max_upload_bytes:
        limit = f"{inbox.max_upload_bytes:,} bytes"
        raise BadRequest(f"This link takes files of at most {limit}.", "upload_too_large")
    if inbox.allowed_types and not allowed(new.name, new.content_type or "", inbox.allowed_types):
        raise BadRequest(f"This link takes only {', '.join(inbox.allowed_types)}.", "type_not_allowed")


def allowed(name: str, content_type: str, types: tuple[str, ...]) -> bool:
    """Whether a file is one of `types`: its extension is listed, or its declared type is and its
    extension does not say otherwise (a `.exe` declared as `application/pdf` is not a PDF)."""
    extension = PurePosixPath(name).suffix.lower()
    declared = content_type.split(";", 1)[0].strip().lower()
    implied = (mimetypes.guess_type(name)[0] or "").lower()

    def matches(entry: str, media: str) -> bool:
        return media == entry or (entry.endswith("/*") and media.startswith(entry[:-1]))

    for entry in types:
        if entry.startswith("."):
            if extension == entry:
                return True
        elif matches(entry, declared) and (not implied or matches(entry, implied)):
            return True
    return False


def _sender(inbox: Inbox, new: shapes.NewUpload, actor: Actor) -> dict[str, Any]:
    """Who sends it: who they are signed in as (verified), else what they typed when the link asks."""
    known = versions.signed_in_sender(actor, new.sender_name)
    if known:
        return known
    if inbox.ask_sender == "off":
        return {"sender_name": None, "sender_email": None, "sender_verified": False}
    if inbox.ask_sender == "required" and not (new.sender_name and new.sender_email):
        raise BadRequest("Give your name and email address to send a file through this link.", "sender_required")
    return {"sender_name": new.sender_name, "sender_email": new.sender_email, "sender_verified": False}


def _sender_of(upload: UploadRecord) -> dict[str, Any]:
    return {
        "sender_name": upload.sender_name,
        "sender_email": upload.sender_email,
        "sender_verified": bool(upload.sender_verified),
    }


def _identity(inbox: Inbox, upload: UploadRecord) -> tuple[str, str]:
    """The name and type a new version is served under: the file's own, never what a recipient sent.

    Anyone holding an upload link could otherwise turn `contract.pdf` into `contract.exe`
    for every other recipient. A file request names its new file after what was sent.
    """
    file = None if inbox.into_folder else files.get_item(upload.file_id)
    if file is None:
        return upload.name, upload.content_type
    return file.name, file.content_type


def _metadata(upload: UploadRecord) -> dict[str, str]:
    return {"upload-id": upload.upload_id}


def _plan(upload: UploadRecord, seconds: int) -> shapes.UploadPlan:
    try:
        plan = storage.upload_plan(
            upload.s3_key,
            upload.size,
            upload.content_type,
            upload.s3_upload_id,
            metadata=_metadata(upload),
            seconds=seconds,
        )
    except storage.UploadGone:
        raise Conflict("Storage removed this abandoned upload; start a new one.", "upload_expired") from None
    # The recipient's handle is our upload id; S3's own id stays inside the part URLs.
    return msgspec.structs.replace(plan, upload_id=upload.upload_id)


def _place(upload: UploadRecord, file_key: str) -> storage.StoredObject:
    """Check that the bytes arrived as announced and make them a new version of the file's key."""
    if upload.s3_upload_id:
        try:
            version_id = storage.join_parts(upload.s3_key, upload.s3_upload_id, upload.size)
        except storage.UploadGone:
            raise Conflict("Storage removed this abandoned upload; start a new one.", "upload_expired") from None
    else:
        staged = storage.arrived(upload.s3_key, upload.size)
        version_id = storage.copy_version(
            upload.s3_key, staged.version_id, file_key, upload.content_type, _metadata(upload)
        )
    stored = storage.stored_object(file_key, version_id)
    if stored is None or stored.size != upload.size:
        raise Conflict("Storage does not hold the announced bytes.", "size_mismatch")
    return stored


def _tidy(staging_key: str) -> None:
    """Drop the staged bytes now that the file's key holds them; the lifecycle rule is the backstop."""
    with suppress(ClientError):
        storage.purge_staged(staging_key)
