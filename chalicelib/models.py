"""DynamoDB tables as pynamodb models: each class documents its keys, TTL and indexes.

Here the tables a link's page, a download and every signed-in request touch (files, links,
events, sessions); the others live in more_models.py, loaded with the first route that
needs them, not at cold start (pynamodb spends ~1 ms defining each model).

Models name their tables through settings given explicitly (`bind`): the app binds them at
cold start, tests once their local stack runs. Unbound, any table access fails loudly.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TypeVar

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
from pynamodb.exceptions import PynamoDBException
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.config import Settings


class TableMeta:
    """Each model's Meta: `setting` names the Settings field that holds its table's name."""

    table_name: str | None = None  # set by bind()
    setting = ""
    region: str | None = None
    host: str | None = None
    billing_mode = "PAY_PER_REQUEST"
    shares_table = False  # an item kept in another model's table: bound, never created on its own


class FilesByOwner(GlobalSecondaryIndex):
    """A member's files, oldest first: the `GET /api/files` listing."""

    class Meta:
        index_name = "FilesByOwner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class ItemsInFolder(GlobalSecondaryIndex):
    """What a folder holds (or a member's top level), oldest first: folder listings."""

    class Meta:
        index_name = "ItemsInFolder"
        projection = AllProjection()

    parent = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class FileRecord(Model):
    """A member's file or folder. A file's bytes live in S3 under `s3_key`; every version stays there."""

    class Meta(TableMeta):
        setting = "files_table"

    file_id = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()  # Cognito `sub` of the member
    kind = UnicodeAttribute(default="file")  # "file" or "folder"
    folder_id = UnicodeAttribute(null=True)  # the folder holding it; None at the top level
    parent = UnicodeAttribute()  # "<owner>/<folder_id or 'root'>", the ItemsInFolder key
    name = UnicodeAttribute()
    size = NumberAttribute()
    content_type = UnicodeAttribute()
    status = UnicodeAttribute()  # "uploading" until the server saw the bytes, then "ready"
    s3_key = UnicodeAttribute(null=True)  # None for folders
    version_id = UnicodeAttribute(null=True)  # S3 version the file serves (the newest)
    version_at = UTCDateTimeAttribute(null=True)  # when that version arrived: an older one never replaces it
    # The malware scan of the newest version to arrive (scans.py): pending, clean or infected.
    # Until its scan says clean, `version_id` stays on the last clean version (None: none yet).
    state = UnicodeAttribute(null=True)  # None: before scanning existed, or a folder
    arrived_at = UTCDateTimeAttribute(null=True)  # when that newest version arrived
    upload_id = UnicodeAttribute(null=True)  # open multipart upload, if any
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    by_owner = FilesByOwner()
    in_folder = ItemsInFolder()

    @property
    def is_folder(self) -> bool:
        return self.kind == "folder"


class LinkTarget(MapAttribute):
    """What a link serves, copied onto the link so opening it is one GetItem.

    Refreshed on every link of a file whenever the file gets a new version. A folder
    link's contents are listed when opened (a Query on ItemsInFolder).
    """

    kind = UnicodeAttribute(default="file")
    name = UnicodeAttribute()
    size = NumberAttribute()
    content_type = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()
    s3_key = UnicodeAttribute(null=True)
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

    class Meta(TableMeta):
        setting = "links_table"

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
    # Email (notices.py): tell the named people, tell the owner of uploads, a daily digest of downloads.
    notify = BooleanAttribute(default=True)
    notify_uploads = BooleanAttribute(default=True)
    download_digest = BooleanAttribute(default=False)
    download_limit = NumberAttribute(null=True)  # None: no limit; counted by one conditional update
    views = NumberAttribute(default=0)
    last_opened_at = UTCDateTimeAttribute(null=True)
    label = UnicodeAttribute(null=True)  # the team's note, never shown to recipients
    message = UnicodeAttribute(null=True)  # shown to recipients
    password_hash = UnicodeAttribute(null=True)  # scrypt, salted (passwords.py); never the password
    shared_by = UnicodeAttribute(null=True)  # the member who made it, as recipients see them

    # For links with upload: ask who sends (off, optional, required), and what may be sent.
    ask_sender = UnicodeAttribute(default="off")
    max_upload_bytes = NumberAttribute(null=True)
    allowed_types = ListAttribute(of=UnicodeAttribute, default=list)  # ".pdf", "application/pdf", "image/*"
    target = LinkTarget()
    # TTL only tidies the table, days after the link stopped working; expiry and
    # revocation are checked in code on every request because TTL deletion lags.
    expires_at = TTLAttribute(null=True)

    by_file = LinksByFile()


class EventRecord(Model):
    """One audit event of a file, newest last in the sort key."""

    class Meta(TableMeta):
        setting = "events_table"

    file_id = UnicodeAttribute(hash_key=True)
    event_key = UnicodeAttribute(range_key=True)  # "<ISO time>#<random>": time order, unique
    at = UTCDateTimeAttribute()
    kind = UnicodeAttribute()
    actor = UnicodeAttribute()  # audit.Actor.who: "member:<email>", "email:<address>", "user:<username>", "anonymous"
    link_id = UnicodeAttribute(null=True)  # never the whole token
    ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    detail = MapAttribute(null=True)


class SessionRecord(Model):
    """A browser session. The cookie holds the id plus its HMAC; the person is re-read per request."""

    class Meta(TableMeta):
        setting = "sessions_table"

    session_id = UnicodeAttribute(hash_key=True)
    username = UnicodeAttribute()  # Cognito username, for fresh lookups of email and groups
    sub = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()  # checked in code; TTL only tidies
    # As at sign-in: what public link pages show and audit without asking Cognito.
    label = UnicodeAttribute(null=True)
    who = UnicodeAttribute(null=True)


_M = TypeVar("_M", bound=Model)


def get_or_none(model: type[_M], hash_key: str, range_key: str | None = None) -> _M | None:
    """One strongly consistent GetItem; None when there is no such item."""
    try:
        return model.get(hash_key, range_key, consistent_read=True)
    except model.DoesNotExist:
        return None


def update_without_reading(item: Model, actions: list[Action], condition: Condition | None = None) -> None:
    """UpdateItem that asks nothing back, for hot paths that never read the result.

    pynamodb's Model.update always asks for ReturnValues=ALL_NEW and reads the item back into
    `item`: a bigger answer to parse, and moto takes ~3 ms longer to give it. `item` keeps the
    values it was read with. Raises UpdateError as Model.update does.
    """
    hash_key, range_key = item._get_hash_range_key_serialized_values()
    item._get_connection().update_item(hash_key, range_key=range_key, actions=actions, condition=condition)


def condition_failed(error: PynamoDBException) -> bool:
    """Whether a write was refused by its condition (the one refusal callers expect)."""
    return error.cause_response_code == "ConditionalCheckFailedException"


_bound: Settings | None = None  # the settings bind() was given
_tables: list[type[Model]] = []  # every model bind() points at a table: these, and more_models' once loaded


def _point(model: type[Model], settings: Settings) -> None:
    model.Meta.table_name = getattr(settings, model.Meta.setting)
    model.Meta.region = settings.region
    model.Meta.host = settings.dynamodb_endpoint or None
    model._connection = None  # pynamodb caches one per model


def register(*models: type[Model]) -> None:
    """Models bind() points at their tables: now if it was already called, and on every later call."""
    _tables.extend(models)
    if _bound is not None:
        for model in models:
            _point(model, _bound)


def bind(settings: Settings) -> None:
    """Point every model at the tables and endpoint `settings` name; call again to rebind."""
    global _bound
    _bound = settings
    for model in _tables:
        _point(model, settings)
    _connection.cache_clear()


@lru_cache(maxsize=1)
def _connection() -> Connection:
    if _bound is None:
        raise RuntimeError("models.bind(settings) was never called: no table is known")
    return Connection(region=_bound.region, host=_bound.dynamodb_endpoint or None)


def transaction() -> TransactWrite:
    """Writes that succeed or fail together; commits when its `with` block ends."""
    return TransactWrite(connection=_connection())


register(FileRecord, LinkRecord, EventRecord, SessionRecord)


def registered() -> list[type[Model]]:
    """The models registered so far (more_models.all_tables() has every table's)."""
    return list(_tables)


TTL_ATTRIBUTE = "expires_at"
