"""Download all: a folder link's files as one ZIP, built by a Lambda function of its own.

No file byte passes through API Gateway (6 MB answers, 29 s): a recipient's POST lists the
folder's files into S3 (the manifest) and invokes the builder asynchronously; the builder
streams each file from S3 into an S3 multipart upload as a ZIP (ZIP64 where sizes need it)
and writes its progress beside it; the page polls, then downloads the ZIP with a presigned
GET. Everything lives under `zips/<id>/` in the files bucket (manifest.json, status.json,
the ZIP), which the bucket's lifecycle rule removes after a day. The id is a hash of the
link and of what the folder holds, so asking again for an unchanged folder reuses the ZIP.
"""

from __future__ import annotations

import hashlib
import json
import time
import traceback
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import clock, files, keys, links, shapes, storage, urls
from chalicelib.aws import lambda_, s3
from chalicelib.config import GiB, MiB, get_settings
from chalicelib.errors import Conflict, NotFound
from chalicelib.models import FileRecord, LinkRecord

PREFIX = "zips/"
BUILDING, READY, FAILED = "building", "ready", "failed"
_TICKETS = "zip-ticket-v1"
# A POST is the counted action; its polls and its download work for this long after it.
TICKET_SECONDS = 3600
# The builder writes its progress at least once a part; silent this long, it died (Lambda's
# timeout, a crash) and the next Download all starts again.
_STALE_SECONDS = 300
# A ready ZIP is reused this long; the lifecycle rule removes it after a day, never mid-download.
_REUSE_SECONDS = 12 * 3600
# Lambda stops a function after 15 minutes: at S3's usual 50-100 MB/s that is far above this.
MAX_BYTES = 20 * GiB
MAX_FILES = 10_000
_CHUNK = 1 * MiB


def _key(zip_id: str, name: str) -> str:
    return f"{PREFIX}{zip_id}/{name}"


# --- the recipient's side: start, poll, download ------------------------------------------


def start(token: str, visitor: links.Visiting, site: str) -> shapes.FolderZip:
    """Download all (the counted action): reuse a ZIP of the same contents, or have one built."""
    link = links.open_link(token, visitor.actor)
    links.check_access(link, visitor)
    shared = _shared_folder(link)
    entries = _entries(shared)
    found = [entry for entry in entries if "key" in entry]
    total = sum(entry["size"] for entry in found)
    if not found:
        raise Conflict("This folder holds no files yet.", "folder_empty")
    if total > MAX_BYTES or len(found) > MAX_FILES:
        raise Conflict(
            f"This folder is too large to download at once (over {MAX_FILES:,} files or {MAX_BYTES // GiB} GB); "
            "download its files one by one.",
            "folder_too_large",
        )
    manifest = {"name": f"{storage.download_name(shared.name)}.zip", "entries": entries}
    zip_id = hashlib.sha256(f"{link.link_id}\n{json.dumps(manifest, sort_keys=True)}".encode()).hexdigest()[:32]
    # Counted (and refused once the link was revoked meanwhile) before any work starts.
    links.record_download(link, visitor.actor, file=manifest["name"], files=str(len(found)))
    status = _status(zip_id)
    if status is None or _state(status) == FAILED or not _reusable(status):
        status = {"state": BUILDING, "name": manifest["name"], "files": len(found), "bytes_total": total}
        _put_json(_key(zip_id, "manifest.json"), manifest)
        status = _put_status(zip_id, status, bytes_done=0)
        lambda_().invoke(
            FunctionName=get_settings().zip_function,
            InvocationType="Event",
            Payload=json.dumps({"zip_id": zip_id}).encode(),
        )
    ticket = keys.seal(_TICKETS, {"zip": zip_id, "link": link.link_id}, TICKET_SECONDS)
    return _describe(token, ticket, status, site)


def progress(token: str, ticket: str, visitor: links.Visiting, site: str) -> shapes.FolderZip:
    """How far the ZIP of a Download all has come."""
    _, zip_id, status = _ticketed(token, ticket, visitor)
    return _describe(token, ticket, status, site)


def download_url(token: str, ticket: str, visitor: links.Visiting) -> str:
    """A presigned GET of the finished ZIP, short-lived and never outliving the link."""
    link, zip_id, status = _ticketed(token, ticket, visitor)
    if _state(status) != READY:
        raise Conflict("The ZIP is not ready yet; wait until its state is `ready`.", "zip_not_ready")
    seconds = links.presign_seconds(link)
    return storage.presigned_download(_key(zip_id, "folder.zip"), None, status["name"], "application/zip", seconds)


def _ticketed(token: str, ticket: str, visitor: links.Visiting) -> tuple[LinkRecord, str, dict[str, Any]]:
    """The link (checked as every download checks it, without new events) and the ZIP its ticket names."""
    link = links.open_link(token, visitor.actor)
    links.check_access(link, visitor, quiet=True)
    data = keys.unseal(_TICKETS, ticket) or {}
    zip_id = str(data.get("zip", "")) if data.get("link") == link.link_id else ""
    status = _status(zip_id) if zip_id else None
    if status is None:
        raise NotFound("This download has ended or does not exist; choose Download all again.", "zip_not_found")
    return link, zip_id, status


def _shared_folder(link: LinkRecord) -> FileRecord:
    folder = files.get_item(link.file_id)
    if link.target.kind != "folder" or folder is None or folder.status != files.READY:
        raise NotFound("This link shares a single file: download it with its Download button.", "not_a_folder_link")
    return folder


def _entries(shared: FileRecord) -> list[dict[str, Any]]:
    """Every folder (so empty ones survive) and ready file below `shared`, with its path in the ZIP.

    Paths start with the folder's own name, as the peers' ZIPs do; names are made safe for
    a path (no separators or control characters) and unique per folder, ignoring case,
    since Windows and macOS unpack into case-insensitive folders.
    """
    root = storage.download_name(shared.name) + "/"
    entries: list[dict[str, Any]] = [{"path": root, "modified": clock.iso(shared.updated_at)}]
    pending = [(shared, root)]
    while pending:
        folder, path = pending.pop(0)
        taken: set[str] = set()
        for item in files.children(folder):
            if item.status != files.READY or not (item.is_folder or item.version_id):
                continue  # a file whose first version is still being scanned has nothing to give yet
            name = _unique(storage.download_name(item.name), taken)
            if item.is_folder:
                entries.append({"path": f"{path}{name}/", "modified": clock.iso(item.updated_at)})
                pending.append((item, f"{path}{name}/"))
            else:
                entries.append(
                    {
                        "path": path + name,
                        "key": item.s3_key,
                        "version_id": item.version_id,
                        "size": int(item.size),
                        "modified": clock.iso(item.updated_at),
                    }
                )
            if len(entries) > MAX_FILES * 2:
                return entries  # far too many already: start() refuses it
    return entries


def _unique(name: str, taken: set[str]) -> str:
    """`name`, or `name (2).ext`, `name (3).ext`, ... when the folder already holds it."""
    stem, dot, suffix = name.rpartition(".") if "." in name.strip(".") else (name, "", "")
    candidate, number = name, 1
    while candidate.casefold() in taken:
        number += 1
        candidate = f"{stem} ({number}){dot}{suffix}"
    taken.add(candidate.casefold())
    return candidate


def _describe(token: str, ticket: str, status: dict[str, Any], site: str) -> shapes.FolderZip:
    state = _state(status)
    sealed = keys.unseal(_TICKETS, ticket) or {}
    return shapes.FolderZip(
        state=state,
        name=status["name"],
        files=status["files"],
        bytes_total=status["bytes_total"],
        bytes_done=status["bytes_done"],
        status_url=urls.url_for(site, "folder_zip_status", token=token, ticket=ticket),
        download_url=urls.url_for(site, "folder_zip_download", token=token, ticket=ticket) if state == READY else None,
        usable_until=datetime.fromtimestamp(sealed.get("exp", time.time()), UTC),
    )


def _state(status: dict[str, Any]) -> str:
    if status["state"] == BUILDING and time.time() - status["updated_at"] > _STALE_SECONDS:
        return FAILED
    return status["state"]


def _reusable(status: dict[str, Any]) -> bool:
    if _state(status) == BUILDING:
        return True
    return _state(status) == READY and time.time() - status["updated_at"] < _REUSE_SECONDS


# --- S3 as the record of a build ------------------------------------------------------------


def _put_json(key: str, value: dict[str, Any]) -> None:
    body = json.dumps(value).encode()
    s3().put_object(Bucket=get_settings().files_bucket, Key=key, Body=body, ContentType="application/json")


def _get_json(key: str) -> dict[str, Any] | None:
    try:
        answer = s3().get_object(Bucket=get_settings().files_bucket, Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("NoSuchKey", "404", "NotFound"):
            return None
        raise
    return json.loads(answer["Body"].read())


def _status(zip_id: str) -> dict[str, Any] | None:
    return _get_json(_key(zip_id, "status.json"))


def _put_status(zip_id: str, status: dict[str, Any], **changes: Any) -> dict[str, Any]:
    status = {**status, **changes, "updated_at": time.time()}
    _put_json(_key(zip_id, "status.json"), status)
    return status


# --- the builder (its own Lambda function: app.build_zip) ------------------------------------


def build(zip_id: str) -> None:
    """Stream every file of the manifest from S3 into one ZIP in S3, writing progress as it goes."""
    manifest = _get_json(_key(zip_id, "manifest.json"))
    status = _status(zip_id)
    if manifest is None or status is None:
        _log(zip_id, "nothing to build: the manifest is gone")
        return
    entries = manifest["entries"]
    done = 0
    part_size = storage.part_size_for(status["bytes_total"] + 4096 * len(entries))
    writer = _PartWriter(_key(zip_id, "folder.zip"), part_size, lambda: _put_status(zip_id, status, bytes_done=done))
    try:
        # No seek or tell: zipfile writes each size and CRC after its bytes (a data descriptor).
        with zipfile.ZipFile(writer, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            for entry in entries:
                info = zipfile.ZipInfo(entry["path"], _zip_time(entry["modified"]))
                if "key" not in entry:
                    info.external_attr = (0o40755 << 16) | 0x10  # a folder, for Unix tools and Windows alike
                    info.CRC = info.compress_size = info.file_size = 0  # mkdir leaves these to the caller
                    archive.mkdir(info)
                    continue
                info.file_size = entry["size"]  # decides ZIP64 before the bytes come
                info.compress_type = zipfile.ZIP_STORED  # photos, PDFs and archives do not shrink
                params = {"Bucket": get_settings().files_bucket, "Key": entry["key"]}
                if entry["version_id"]:
                    params["VersionId"] = entry["version_id"]
                body = s3().get_object(**params)["Body"]
                with archive.open(info, "w") as out:
                    for chunk in body.iter_chunks(_CHUNK):
                        out.write(chunk)
                        done += len(chunk)
                if info.file_size != entry["size"]:
                    raise ValueError(f"{entry['path']}: {info.file_size} bytes, {entry['size']} listed")
        size = writer.finish()
    except Exception:
        writer.abort()
        _put_status(zip_id, status, state=FAILED, bytes_done=done)
        _log(zip_id, "could not build the ZIP", traceback.format_exc())
        return
    _put_status(zip_id, status, state=READY, bytes_done=done, size=size)


def _zip_time(iso: str) -> tuple[int, int, int, int, int, int]:
    """A ZIP's time of day has no zone: UTC, as everywhere in Handover."""
    return datetime.fromisoformat(iso).timetuple()[:6]  # type: ignore[return-value]


def _log(zip_id: str, message: str, trace: str | None = None) -> None:
    line = {"level": "ERROR", "zip_id": zip_id, "message": message} | ({"traceback": trace} if trace else {})
    print(json.dumps(line), flush=True)


class _PartWriter:
    """A write-only stream into an S3 multipart upload: a part each `part_size` bytes, one in memory."""

    def __init__(self, key: str, part_size: int, on_part: Callable[[], Any]) -> None:
        self.key = key
        self.part_size = part_size
        self.on_part = on_part
        self.upload_id = storage.start_multipart(key, "application/zip")
        self.buffer = bytearray()
        self.parts: list[dict[str, Any]] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.buffer += data
        while len(self.buffer) >= self.part_size:
            self._send(bytes(self.buffer[: self.part_size]))
            del self.buffer[: self.part_size]
        return len(data)

    def flush(self) -> None:
        """Parts leave when full; the last one with finish()."""

    def _send(self, body: bytes) -> None:
        number = len(self.parts) + 1
        answer = s3().upload_part(
            Bucket=get_settings().files_bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=body
        )
        self.parts.append({"part_number": number, "etag": answer["ETag"]})
        self.size += len(body)
        self.on_part()

    def finish(self) -> int:
        """Send what is left and join the parts; the ZIP's size."""
        if self.buffer or not self.parts:
            self._send(bytes(self.buffer))
            self.buffer.clear()
        storage.complete_multipart(self.key, self.upload_id, self.parts)
        return self.size

    def abort(self) -> None:
        storage.abort_multipart(self.key, self.upload_id)
