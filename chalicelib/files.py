"""Files: a member announces a file, sends its bytes straight to S3, and we check they arrived."""

from __future__ import annotations

import re
import uuid
from typing import Any

from pynamodb.exceptions import QueryError

from chalicelib import audit, clock, links, paging, storage, versions
from chalicelib.audit import Actor
from chalicelib.bodies import NewFile
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.models import FileRecord

_FILE_ID = re.compile(r"^[0-9a-f]{32}$")
UPLOADING = "uploading"
READY = "ready"
DELETING = "deleting"


def create_file(owner: str, new: NewFile) -> tuple[FileRecord, dict[str, Any]]:
    """Record an announced file and plan its upload; it is shareable only once completed."""
    file_id = uuid.uuid4().hex
    key = f"files/{file_id}"
    multipart = storage.needs_multipart(new.size)
    upload_id = storage.start_multipart(key, new.content_type) if multipart else None
    now = clock.now()
    record = FileRecord(
        file_id=file_id,
        owner=owner,
        name=new.name,
        size=new.size,
        content_type=new.content_type,
        status=UPLOADING,
        s3_key=key,
        upload_id=upload_id,
        created_at=now,
        updated_at=now,
    )
    record.save(condition=FileRecord.file_id.does_not_exist())
    return record, storage.upload_plan(key, new.size, new.content_type, upload_id)


def owned_file(owner: str, file_id: str) -> FileRecord:
    """The member's file; another member's file is as unknown as a missing one."""
    record = _get(file_id) if _FILE_ID.match(file_id) else None
    if record is None or record.owner != owner:
        raise NotFound("No such file.", "file_not_found")
    return record


def _get(file_id: str) -> FileRecord | None:
    try:
        return FileRecord.get(file_id, consistent_read=True)
    except FileRecord.DoesNotExist:
        return None


def renew_upload(owner: str, file_id: str) -> dict[str, Any]:
    """A fresh upload plan for a file still uploading: new URLs, only the parts missing."""
    record = owned_file(owner, file_id)
    if record.status != UPLOADING:
        raise Conflict("This file is already uploaded.", "file_already_complete")
    try:
        return storage.upload_plan(record.s3_key, record.size, record.content_type, record.upload_id)
    except storage.UploadGone:
        # Abandoned uploads are aborted by the bucket's lifecycle rule: start a new one.
        upload_id = storage.start_multipart(record.s3_key, record.content_type)
        record.update(actions=[FileRecord.upload_id.set(upload_id)])
        return storage.upload_plan(record.s3_key, record.size, record.content_type, upload_id)


def complete_file(owner: str, file_id: str, actor: Actor) -> FileRecord:
    """Mark a file ready, but only after S3 shows its bytes with the announced size."""
    record = owned_file(owner, file_id)
    if record.status == READY:
        return record
    if record.status == DELETING:
        raise Conflict("This file is being deleted.", "file_deleting")
    if record.upload_id:
        try:
            parts = storage.uploaded_parts(record.s3_key, record.upload_id)
        except storage.UploadGone:
            raise Conflict("The upload expired; ask for a new upload plan.", "upload_expired") from None
        expected = -(-record.size // storage.part_size_for(record.size))
        if len(parts) != expected or sum(p["size"] for p in parts) != record.size:
            raise Conflict(
                f"{len(parts)} of {expected} parts have arrived; send the rest, then complete.",
                "upload_incomplete",
            )
        storage.complete_multipart(record.s3_key, record.upload_id, parts)
    stored = storage.stored_object(record.s3_key)
    if stored is None:
        raise Conflict("The file's bytes have not arrived in storage; upload them first.", "upload_missing")
    if stored.size != record.size:
        raise Conflict(f"Storage holds {stored.size} bytes but {record.size} were announced.", "size_mismatch")
    record.update(
        actions=[
            FileRecord.status.set(READY),
            FileRecord.version_id.set(stored.version_id),
            FileRecord.upload_id.remove(),
            FileRecord.updated_at.set(clock.now()),
        ]
    )
    versions.new_version(file_id, stored.version_id or "", record.name, record.size, record.content_type, actor).save()
    audit.record(file_id, "file_uploaded", actor, size=record.size, version_id=stored.version_id or "")
    return record


def list_files(owner: str, limit: int, cursor: str | None) -> tuple[list[FileRecord], str | None]:
    """The member's files, newest first, one page at a time."""
    results = FileRecord.by_owner.query(
        owner,
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=paging.decode(cursor, {"owner": owner}),
    )
    try:
        page = list(results)
    except QueryError:
        raise BadRequest("cursor is not one this listing handed out.", "invalid_cursor") from None
    return page, paging.encode(results.last_evaluated_key)


def delete_file(owner: str, file_id: str, actor: Actor) -> None:
    """Delete a file: its links stop at once; S3 keeps its versions behind a delete marker."""
    record = owned_file(owner, file_id)
    # Mark first: a link can only be made for a ready file, so none appears while we
    # revoke. A delete that stops half-way leaves the file listed, to be deleted again.
    was_ready = record.status in (READY, DELETING)
    record.update(actions=[FileRecord.status.set(DELETING)])
    links.revoke_all(file_id, "file_deleted", actor)
    if record.upload_id:
        storage.abort_multipart(record.s3_key, record.upload_id)
    if was_ready:
        storage.delete_object(record.s3_key)
    record.delete()
    audit.record(file_id, "file_deleted", actor, name=record.name)


def describe(record: FileRecord) -> dict[str, Any]:
    return {
        "file_id": record.file_id,
        "name": record.name,
        "size": record.size,
        "content_type": record.content_type,
        "status": record.status,
        "created_at": clock.iso(record.created_at),
        "updated_at": clock.iso(record.updated_at),
    }
