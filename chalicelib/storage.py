"""S3: presigned uploads (POST or multipart) and downloads, and checks of what arrived."""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlparse

import msgspec
from botocore.exceptions import ClientError

from chalicelib import clock, shapes
from chalicelib.aws import s3
from chalicelib.config import get_settings
from chalicelib.errors import Conflict

# S3's own limits for multipart uploads, and for one POST.
_MIN_PART = 5 * 1024 * 1024
_MAX_PARTS = 10_000
_MAX_POST = 5 * 1024**3
# Recipients' POSTs land here first; the bucket's lifecycle rule removes what is left behind.
STAGING = "uploads/"
FILES = "files/"


class UploadGone(Exception):
    """The multipart upload was aborted (by the lifecycle rule) or already completed."""


class StoredObject(msgspec.Struct, frozen=True):
    size: int
    version_id: str | None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)


def _bucket() -> str:
    return get_settings().files_bucket


def file_key(file_id: str) -> str:
    """Where a file's bytes live; every version of them stays under this one key."""
    return f"{FILES}{file_id}"


def part_size_for(size: int) -> int:
    """The configured part size, grown when needed to stay within S3's 10,000 parts."""
    configured = max(get_settings().multipart_part_size, _MIN_PART)
    return max(configured, math.ceil(size / _MAX_PARTS))


def part_count(size: int) -> int:
    return math.ceil(size / part_size_for(size))


def needs_multipart(size: int) -> bool:
    """Whether a file goes up in parts: above the threshold, and always above what one POST may carry."""
    return size > min(get_settings().multipart_threshold, _MAX_POST)


def start_multipart(key: str, content_type: str, metadata: dict[str, str] | None = None) -> str:
    answer = s3().create_multipart_upload(Bucket=_bucket(), Key=key, ContentType=content_type, Metadata=metadata or {})
    return answer["UploadId"]


def upload_plan(
    key: str,
    size: int,
    content_type: str,
    upload_id: str | None,
    *,
    metadata: dict[str, str] | None = None,
    seconds: int | None = None,
) -> shapes.UploadPlan:
    """How a browser or script sends the bytes straight to S3.

    A small file is one presigned POST whose policy fixes the key, the content type, the
    metadata and the exact size. A large one is a multipart upload: one presigned PUT URL
    for each part not yet in S3, each signed for its part's exact length, so a refreshed
    plan also resumes an interrupted upload and no URL writes more than the announced size.
    """
    seconds = seconds or get_settings().presign_seconds
    expires_at = clock.now() + timedelta(seconds=seconds)
    if upload_id is None:
        fields = {"Content-Type": content_type} | {f"x-amz-meta-{k}": v for k, v in (metadata or {}).items()}
        post = s3().generate_presigned_post(
            Bucket=_bucket(),
            Key=key,
            Fields=fields,
            Conditions=[{name: value} for name, value in fields.items()] + [["content-length-range", size, size]],
            ExpiresIn=seconds,
        )
        return shapes.PostUpload(url=post["url"], fields=post["fields"], expires_at=expires_at)
    part_size = part_size_for(size)
    done = {part["part_number"] for part in uploaded_parts(key, upload_id)}
    parts = [
        shapes.PartUrl(
            part_number=number,
            url=s3().generate_presigned_url(
                "upload_part",
                Params={
                    "Bucket": _bucket(),
                    "Key": key,
                    "UploadId": upload_id,
                    "PartNumber": number,
                    # Signed: S3 refuses a body of any other length.
                    "ContentLength": min(part_size, size - (number - 1) * part_size),
                },
                ExpiresIn=seconds,
            ),
        )
        for number in range(1, part_count(size) + 1)
        if number not in done
    ]
    return shapes.MultipartUpload(
        upload_id=upload_id, part_size=part_size, parts=parts, parts_done=sorted(done), expires_at=expires_at
    )


def uploaded_parts(key: str, upload_id: str) -> list[dict[str, Any]]:
    """The parts S3 holds for an open multipart upload, in order."""
    parts: list[dict[str, Any]] = []
    marker = 0
    while True:
        try:
            page = s3().list_parts(Bucket=_bucket(), Key=key, UploadId=upload_id, PartNumberMarker=marker)
        except ClientError as error:
            if error.response["Error"]["Code"] == "NoSuchUpload":
                raise UploadGone(upload_id) from None
            raise
        parts += [{"part_number": p["PartNumber"], "etag": p["ETag"], "size": p["Size"]} for p in page.get("Parts", [])]
        if not page.get("IsTruncated"):
            return parts
        marker = page["NextPartNumberMarker"]


def join_parts(key: str, upload_id: str, size: int) -> str | None:
    """Join a multipart upload once every part is in S3 with the announced size; the new version's id."""
    parts = uploaded_parts(key, upload_id)
    expected = part_count(size)
    if len(parts) != expected or sum(p["size"] for p in parts) != size:
        raise Conflict(
            f"{len(parts)} of {expected} parts have arrived; send the rest, then complete.", "upload_incomplete"
        )
    return complete_multipart(key, upload_id, parts)


def arrived(key: str, size: int, version_id: str | None = None) -> StoredObject:
    """The object as S3 holds it, checked to have the announced size."""
    stored = stored_object(key, version_id)
    if stored is None:
        raise Conflict("The file's bytes have not arrived in storage; upload them first.", "upload_missing")
    if stored.size != size:
        raise Conflict(f"Storage holds {stored.size} bytes but {size} were announced.", "size_mismatch")
    return stored


def complete_multipart(key: str, upload_id: str, parts: list[dict[str, Any]]) -> str | None:
    """Join the parts into one object; its S3 version id."""
    try:
        answer = s3().complete_multipart_upload(
            Bucket=_bucket(),
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": p["part_number"], "ETag": p["etag"]} for p in parts]},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchUpload":
            raise UploadGone(upload_id) from None
        raise
    return answer.get("VersionId")


def abort_multipart(key: str, upload_id: str) -> None:
    try:
        s3().abort_multipart_upload(Bucket=_bucket(), Key=key, UploadId=upload_id)
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchUpload":
            raise


def stored_object(key: str, version_id: str | None = None) -> StoredObject | None:
    """An object's newest (or given) version as S3 sees it, or None when it is not there."""
    params = {"Bucket": _bucket(), "Key": key} | ({"VersionId": version_id} if version_id else {})
    try:
        head = s3().head_object(**params)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        # S3 answers a malformed or unknown version id with 400 on HEAD (no body to say more).
        if code in ("404", "NoSuchKey", "NotFound", "NoSuchVersion") or (version_id and code == "400"):
            return None
        raise
    return StoredObject(size=head["ContentLength"], version_id=head.get("VersionId"), metadata=head.get("Metadata", {}))


def copy_version(source: str, version_id: str | None, key: str, content_type: str, metadata: dict[str, str]) -> str:
    """Copy one version of `source` to a new version of `key`, inside S3; the new version's id."""
    origin = {"Bucket": _bucket(), "Key": source} | ({"VersionId": version_id} if version_id else {})
    answer = s3().copy_object(
        Bucket=_bucket(),
        Key=key,
        CopySource=origin,
        MetadataDirective="REPLACE",
        ContentType=content_type,
        Metadata=metadata,
    )
    return answer["VersionId"]


def staging_key(file_id: str, upload_id: str) -> str:
    """Where a recipient's POST puts bytes until the server has checked them."""
    return f"{STAGING}{file_id}/{upload_id}"


def purge_staged(key: str) -> None:
    """Remove every version of a staging key for good (never a file's key: those versions stay)."""
    if not key.startswith(STAGING):
        raise ValueError(f"not a staging key: {key}")
    for page in s3().get_paginator("list_object_versions").paginate(Bucket=_bucket(), Prefix=key):
        for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
            if entry["Key"] == key:
                s3().delete_object(Bucket=_bucket(), Key=key, VersionId=entry["VersionId"])


def find_version(key: str, since: datetime, **metadata: str) -> StoredObject | None:
    """The version of `key` written after `since` that carries the given metadata, or None."""
    pages = s3().get_paginator("list_object_versions").paginate(Bucket=_bucket(), Prefix=key)
    for page in pages:
        for version in page.get("Versions", []):
            if version["Key"] != key or version["LastModified"] < since - timedelta(minutes=5):
                continue
            found = stored_object(key, version["VersionId"])
            if found and all(found.metadata.get(name) == value for name, value in metadata.items()):
                return found
    return None


_GONE = ("404", "NoSuchKey", "NoSuchVersion", "NoSuchTagSet")


def object_tags(key: str, version_id: str) -> dict[str, str]:
    """The tags of one object version; none when there is no such version."""
    try:
        answer = s3().get_object_tagging(Bucket=_bucket(), Key=key, VersionId=version_id)
    except ClientError as error:
        if error.response["Error"]["Code"] in _GONE:
            return {}
        raise
    return {tag["Key"]: tag["Value"] for tag in answer.get("TagSet", [])}


def add_object_tag(key: str, version_id: str, name: str, value: str) -> None:
    """Add one tag to an object version's tags, keeping the others; nothing when it is gone."""
    tags = object_tags(key, version_id) | {name: value[:256]}
    try:
        s3().put_object_tagging(
            Bucket=_bucket(),
            Key=key,
            VersionId=version_id,
            Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] not in _GONE:
            raise


def delete_object(key: str) -> None:
    """Hide the object behind a delete marker; its versions stay in the versioned bucket."""
    s3().delete_object(Bucket=_bucket(), Key=key)


def browser_origins() -> tuple[str, ...]:
    """The origins of the URLs presigned for browsers, which the pages' CSP must let them reach."""
    settings = get_settings()
    if settings.s3_endpoint:
        endpoint = urlparse(settings.s3_endpoint)
        return (f"{endpoint.scheme}://{endpoint.netloc}",)
    # Virtual-hosted style: regional, and the global name boto3 uses for us-east-1.
    bucket = settings.files_bucket
    return (f"https://{bucket}.s3.{settings.region}.amazonaws.com", f"https://{bucket}.s3.amazonaws.com")


# Types a browser would run or render as a page (scripts, markup): served from our bucket's
# origin, a file someone else sent could act there. Served as bytes instead.
_ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/xsl",
        "application/xslt+xml",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "text/ecmascript",
        "application/ecmascript",
        "application/wasm",
        "application/x-shockwave-flash",
        "multipart/x-mixed-replace",
    }
)


def served_type(content_type: str) -> str:
    """The type a download is presigned with: the stored one, unless a browser would run it."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media in _ACTIVE_TYPES or media.endswith(("+xml", "/xml")) or "script" in media or "html" in media:
        return "application/octet-stream"
    return content_type


def servable(version_id: str | None) -> str:
    """The clean version to serve; a file whose first version is still being scanned has none."""
    if not version_id:
        raise Conflict("This file is being checked for malware. Try again in a few minutes.", "scan_pending")
    return version_id


def presigned_download(
    key: str, version_id: str | None, name: str, content_type: str, seconds: int, *, inline: bool = False
) -> str:
    """A short-lived GET of one version that makes the browser save it under its real name, inert if need be.

    `inline` lets the browser show it instead (previews); the type is still the safe one. A file's
    is always of a named version: its newest object may be one still being scanned (scans.py), so
    a file with no clean version yet has none to give.
    """
    if key.startswith(FILES):
        servable(version_id)
    params = {
        "Bucket": _bucket(),
        "Key": key,
        "ResponseContentDisposition": content_disposition(name, "inline" if inline else "attachment"),
        "ResponseContentType": served_type(content_type),
    }
    if version_id:
        params["VersionId"] = version_id
    return s3().generate_presigned_url("get_object", Params=params, ExpiresIn=seconds)


_UNSAFE_IN_FILENAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def download_name(name: str) -> str:
    """The name a browser saves under: no path separators, no control characters."""
    return _UNSAFE_IN_FILENAME.sub("_", name).strip() or "download"


def content_disposition(name: str, disposition: str = "attachment") -> str:
    """`attachment` (or `inline`) with an ASCII fallback and the exact UTF-8 name (RFC 6266, RFC 5987)."""
    safe = download_name(name)
    ascii_name = unicodedata.normalize("NFKD", safe).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r'["\\%]', "_", ascii_name).strip() or "download"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(safe, safe='')}"
