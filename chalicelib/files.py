"""Files and folders: a member announces a file, sends its bytes straight to S3, and we check
they arrived; folders hold files and other folders."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib import audit, clock, links, paging, scans, shapes, storage, versions
from chalicelib.audit import Actor
from chalicelib.errors import Conflict, NotFound
from chalicelib.models import FileRecord, condition_failed, get_or_none, transaction
from chalicelib.more_models import VersionRecord
from chalicelib.shapes import NewFile, NewFolder

_FILE_ID = re.compile(r"^[0-9a-f]{32}\Z")
_MAX_DEPTH = 32  # folders within folders
UPLOADING = "uploading"
READY = "ready"
DELETING = "deleting"


def _parent(owner: str, folder_id: str | None) -> str:
    return f"{owner}/{folder_id or 'root'}"


def _folder_for(owner: str, folder_id: str | None) -> str | None:
    """A folder id to put something in, checked to be the member's folder."""
    if folder_id is None:
        return None
    folder = _get(folder_id) if _FILE_ID.match(folder_id) else None
    if folder is None or folder.owner != owner or not folder.is_folder or folder.status != READY:
        raise NotFound("No such folder.", "folder_not_found")
    return folder_id


def _new_item(owner: str, folder_id: str | None, name: str, file_id: str | None = None, **fields: Any) -> FileRecord:
    """Save a new file or folder (under a fresh id unless given), in a folder or at the top level."""
    now = clock.now()
    file_id = file_id or uuid.uuid4().hex
    record = FileRecord(
        file_id=file_id,
        owner=owner,
        folder_id=folder_id,
        parent=_parent(owner, folder_id),
        name=name,
        created_at=now,
        updated_at=now,
        **{"s3_key": storage.file_key(file_id), **fields},
    )
    record.save(condition=FileRecord.file_id.does_not_exist())
    return record


def create_folder(owner: str, new: NewFolder, actor: Actor) -> FileRecord:
    folder_id = _folder_for(owner, new.folder_id)
    record = _new_item(
        owner, folder_id, new.name, kind="folder", size=0, content_type="folder", status=READY, s3_key=None
    )
    audit.record(record.file_id, "folder_created", actor, name=new.name)
    return record


def create_file(owner: str, new: NewFile) -> tuple[FileRecord, shapes.UploadPlan]:
    """Record an announced file and plan its upload; it is shareable only once completed."""
    folder_id = _folder_for(owner, new.folder_id)
    file_id = uuid.uuid4().hex
    key = storage.file_key(file_id)
    upload_id = storage.start_multipart(key, new.content_type) if storage.needs_multipart(new.size) else None
    record = _new_item(
        owner,
        folder_id,
        new.name,
        file_id,
        size=new.size,
        content_type=new.content_type,
        status=UPLOADING,
        upload_id=upload_id,
    )
    return record, storage.upload_plan(key, new.size, new.content_type, upload_id)


def requested_file(folder_id: str, owner: str, new: NewFile) -> FileRecord:
    """A file a recipient sends into a shared folder: listed once its bytes are checked."""
    return _new_item(owner, folder_id, new.name, size=new.size, content_type=new.content_type, status=UPLOADING)


def mark_ready(version: VersionRecord) -> None:
    """A requested file whose bytes were checked: now it is listed, and served once its scan is clean."""
    ready = [FileRecord.status.set(READY), FileRecord.updated_at.set(version.uploaded_at), *versions.arrival(version)]
    try:
        FileRecord(version.file_id).update(actions=ready, condition=FileRecord.status == UPLOADING)
    except UpdateError as error:
        if not condition_failed(error):
            raise  # otherwise it is ready already: a repeated complete changes nothing


def owned_file(owner: str, file_id: str) -> FileRecord:
    """The member's file; another member's file is as unknown as a missing one."""
    record = _get(file_id) if _FILE_ID.match(file_id) else None
    if record is None or record.owner != owner:
        raise NotFound("No such file or folder.", "file_not_found")
    return record


def _get(file_id: str) -> FileRecord | None:
    return get_or_none(FileRecord, file_id)


def renew_upload(owner: str, file_id: str) -> shapes.UploadPlan:
    """A fresh upload plan for a file still uploading: new URLs, only the parts missing."""
    record = owned_file(owner, file_id)
    if record.status != UPLOADING or record.is_folder:
        raise Conflict("This file is already uploaded.", "file_already_complete")
    try:
        return storage.upload_plan(record.s3_key, record.size, record.content_type, record.upload_id)
    except storage.UploadGone:
        # Abandoned uploads are aborted by the bucket's lifecycle rule: start a new one.
        upload_id = storage.start_multipart(record.s3_key, record.content_type)
        record.update(actions=[FileRecord.upload_id.set(upload_id)])
        return storage.upload_plan(record.s3_key, record.size, record.content_type, upload_id)


def complete_file(owner: str, file_id: str, actor: Actor) -> FileRecord:
    """Mark a file ready, but only after S3 shows its bytes with the announced size.

    The file, its first version and the event are written in one transaction: a failure
    leaves none of them, and completing again finishes the job.
    """
    record = owned_file(owner, file_id)
    if record.status == READY:
        return record
    if record.status == DELETING:
        raise Conflict("This file is being deleted.", "file_deleting")
    if record.upload_id:
        try:
            storage.join_parts(record.s3_key, record.upload_id, record.size)
        except storage.UploadGone:
            # Joined by an earlier complete that stopped before recording it, or expired: S3 tells which.
            if storage.stored_object(record.s3_key) is None:
                raise Conflict("The upload expired; ask for a new upload plan.", "upload_expired") from None
    stored = storage.arrived(record.s3_key, record.size)
    version_id = stored.version_id or ""
    sender = versions.signed_in_sender(actor)
    version = versions.new_version(
        file_id, version_id, record.name, record.size, record.content_type, actor, sender=sender
    )
    try:
        with transaction() as write:
            write.update(
                record,
                actions=[
                    FileRecord.status.set(READY),
                    FileRecord.upload_id.remove(),
                    FileRecord.updated_at.set(version.uploaded_at),
                    *versions.arrival(version),
                ],
                condition=FileRecord.status == UPLOADING,
            )
            write.save(version, condition=VersionRecord.version_key.does_not_exist())
            write.save(audit.event(file_id, "file_uploaded", actor, size=record.size, version_id=version_id))
    except TransactWriteError as error:
        if error.cause_response_code != "TransactionCanceledException":
            raise  # DynamoDB failed: nothing was written, and completing again finishes the job
        current = owned_file(owner, file_id)
        if current.status == READY:  # another request completed it meanwhile
            return current
        raise Conflict("The file changed while it was completed; try again.", "file_changed") from None
    # Served only once its scan says clean (scans.py); the scan may have answered already.
    scans.settle_from_tag(version, record.s3_key)
    return owned_file(owner, file_id)


def list_files(
    owner: str, limit: int, cursor: str | None, folder_id: str | None = None
) -> tuple[list[FileRecord], str | None]:
    """The member's files and folders, newest first, one page at a time.

    All of them; or, given a folder id ("root" for the top level), what that folder holds.
    """
    if folder_id is None:
        index, key, name = FileRecord.by_owner, owner, "owner"
    else:
        key = _parent(owner, None if folder_id == "root" else _folder_for(owner, folder_id))
        index, name = FileRecord.in_folder, "parent"
    results = index.query(
        key,
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=paging.decode(cursor, {name: key}),
    )
    return paging.page(results)


def children(folder: FileRecord) -> list[FileRecord]:
    """What a folder holds, folders first, then by name."""
    found = FileRecord.in_folder.query(_parent(folder.owner, folder.file_id))
    return sorted(found, key=lambda item: (not item.is_folder, item.name.lower()))


def get_item(file_id: str) -> FileRecord | None:
    return _get(file_id) if _FILE_ID.match(file_id) else None


def ancestors(item: FileRecord) -> Iterator[FileRecord]:
    """The folders above an item, nearest first, read one at a time as they are needed."""
    current = item
    for _ in range(_MAX_DEPTH):
        if not current.folder_id:
            return
        parent = _get(current.folder_id)
        if parent is None or parent.owner != item.owner:
            return
        yield parent
        current = parent


def is_inside(item: FileRecord, folder: FileRecord) -> bool:
    """Whether `item` is somewhere below `folder` (a folder link reaches only that far)."""
    return any(parent.file_id == folder.file_id for parent in ancestors(item))


def rename(owner: str, file_id: str, name: str, actor: Actor) -> FileRecord:
    record = owned_file(owner, file_id)
    old = record.name
    record.update(actions=[FileRecord.name.set(name), FileRecord.updated_at.set(clock.now())])
    links.refresh_targets(record)
    audit.record(file_id, "renamed", actor, old_name=old, name=name)
    return record


def delete_file(owner: str, file_id: str, actor: Actor) -> None:
    """Delete a file or a folder with all it holds: their links stop at once.

    S3 keeps the files' versions behind delete markers.
    """
    record = owned_file(owner, file_id)
    if record.is_folder:
        for item in children(record):
            delete_file(owner, item.file_id, actor)
    # Mark first: a link can only be made for a ready file, so none appears while we
    # revoke. A delete that stops half-way leaves the file listed, to be deleted again.
    was_ready = record.status in (READY, DELETING)
    record.update(actions=[FileRecord.status.set(DELETING)])
    links.revoke_all(file_id, "file_deleted", actor)
    if record.upload_id:
        storage.abort_multipart(record.s3_key, record.upload_id)
    if was_ready and record.s3_key:
        storage.delete_object(record.s3_key)
    record.delete()
    audit.record(file_id, "file_deleted", actor, name=record.name)


def describe(record: FileRecord) -> shapes.File:
    return shapes.of(record, shapes.File)
