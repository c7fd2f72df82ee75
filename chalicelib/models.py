"""DynamoDB tables as pynamodb models: each class documents its keys, TTL and indexes.

pynamodb reads `Meta` when this module is imported, so table names and the endpoint
come from settings at import time.
"""

from __future__ import annotations

from functools import lru_cache

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.config import get_settings

_settings = get_settings()


class _Meta:
    region = _settings.region
    host = _settings.dynamodb_endpoint or None
    billing_mode = "PAY_PER_REQUEST"


class FilesByOwner(GlobalSecondaryIndex):
    """A member's files, oldest first: the `GET /api/files` listing."""

    class Meta:
        index_name = "FilesByOwner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class FileRecord(Model):
    """A member's file. Bytes live in S3 under `s3_key`; every version stays there."""

    class Meta(_Meta):
        table_name = _settings.files_table

    file_id = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()  # Cognito `sub` of the member
    name = UnicodeAttribute()
    size = NumberAttribute()
    content_type = UnicodeAttribute()
    status = UnicodeAttribute()  # "uploading" until the server saw the bytes, then "ready"
    s3_key = UnicodeAttribute()
    version_id = UnicodeAttribute(null=True)  # S3 version the file serves (the newest)
    upload_id = UnicodeAttribute(null=True)  # open multipart upload, if any
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    by_owner = FilesByOwner()


class LinkTarget(MapAttribute):
    """What a link serves, copied onto the link so opening it is one GetItem.

    Refreshed on every link of a file whenever the file gets a new version.
    """

    name = UnicodeAttribute()
    size = NumberAttribute()
    content_type = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()
    s3_key = UnicodeAttribute()
    version_id = UnicodeAttribute(null=True)


class LinksByFile(GlobalSecondaryIndex):
    """A file's links, oldest first: the member's list of links of a file."""

    class Meta:
        index_name = "LinksByFile"
        projection = AllProjection()

    file_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class LinkRecord(Model):
    """An external link. Keyed by a random id; the URL token is that id plus its HMAC."""

    class Meta(_Meta):
        table_name = _settings.links_table

    link_id = UnicodeAttribute(hash_key=True)
    file_id = UnicodeAttribute()
    owner = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    valid_until = UTCDateTimeAttribute(null=True)  # None: valid until revoked
    revoked_at = UTCDateTimeAttribute(null=True)
    revoked_reason = UnicodeAttribute(null=True)
    allow_upload = BooleanAttribute(default=False)
    require_login = BooleanAttribute(default=False)
    recipients = ListAttribute(of=UnicodeAttribute, default=list)
    groups = ListAttribute(of=UnicodeAttribute, default=list)
    downloads = NumberAttribute(default=0)
    target = LinkTarget()
    # TTL only tidies the table, days after the link stopped working; expiry and
    # revocation are checked in code on every request because TTL deletion lags.
    expires_at = TTLAttribute(null=True)

    by_file = LinksByFile()


class EventRecord(Model):
    """One audit event of a file, newest last in the sort key."""

    class Meta(_Meta):
        table_name = _settings.events_table

    file_id = UnicodeAttribute(hash_key=True)
    event_key = UnicodeAttribute(range_key=True)  # "<ISO time>#<random>": time order, unique
    at = UTCDateTimeAttribute()
    kind = UnicodeAttribute()
    actor = UnicodeAttribute()  # "member:<sub>", "email:<address>" or "anonymous"
    link_id = UnicodeAttribute(null=True)  # never the whole token
    ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    detail = MapAttribute(null=True)


class VersionRecord(Model):
    """One checked version of a file's bytes: its S3 version, and who uploaded it.

    Written only after the server saw the bytes in S3; the file serves its newest one.
    """

    class Meta(_Meta):
        table_name = _settings.versions_table

    file_id = UnicodeAttribute(hash_key=True)
    version_key = UnicodeAttribute(range_key=True)  # "<ISO time>#<random>": time order, unique
    version_id = UnicodeAttribute()  # the S3 version of the file's key
    name = UnicodeAttribute()
    size = NumberAttribute()
    content_type = UnicodeAttribute()
    uploaded_at = UTCDateTimeAttribute()
    uploaded_by = UnicodeAttribute()  # "member:<sub>", "email:<address>" or "anonymous"
    link_id = UnicodeAttribute(null=True)  # the link it came through, if a recipient sent it
    ip = UnicodeAttribute(null=True)
    upload_id = UnicodeAttribute(null=True)  # the recipient's UploadRecord


class UploadRecord(Model):
    """A recipient's upload through a link, from its plan until the server checked the bytes."""

    class Meta(_Meta):
        table_name = _settings.uploads_table

    upload_id = UnicodeAttribute(hash_key=True)  # random, 128 bits; the recipient's handle
    file_id = UnicodeAttribute()
    link_id = UnicodeAttribute()
    name = UnicodeAttribute()
    size = NumberAttribute()
    content_type = UnicodeAttribute()
    s3_key = UnicodeAttribute()  # a staging key for a POST, the file's own key for multipart
    s3_upload_id = UnicodeAttribute(null=True)  # the S3 multipart upload, if any
    status = UnicodeAttribute()  # "started", "completing" (claimed by one request), "completed"
    actor = UnicodeAttribute()  # who started it, as in EventRecord
    ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version_id = UnicodeAttribute(null=True)  # the S3 version it became, once completed
    # Checked in code too; by then the bucket's lifecycle rule has removed its bytes.
    expires_at = TTLAttribute()


class ThrottleRecord(Model):
    """Misses on `/s/...` per source and time window, to slow down token guessing."""

    class Meta(_Meta):
        table_name = _settings.throttle_table

    key = UnicodeAttribute(hash_key=True)  # "<source>#<window start>"
    hits = NumberAttribute(default=0)
    expires_at = TTLAttribute()


@lru_cache(maxsize=1)
def _connection() -> Connection:
    return Connection(region=_settings.region, host=_settings.dynamodb_endpoint or None)


def transaction() -> TransactWrite:
    """Writes that succeed or fail together; commits when its `with` block ends."""
    return TransactWrite(connection=_connection())


ALL_MODELS = (FileRecord, LinkRecord, EventRecord, ThrottleRecord, VersionRecord, UploadRecord)
TTL_ATTRIBUTE = "expires_at"
