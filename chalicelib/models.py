"""DynamoDB tables as pynamodb models: each class documents its keys, TTL and indexes.

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


class _Meta:
    table_name: str | None = None  # set by bind(): the Settings field named by `setting`
    setting = ""
    region: str | None = None
    host: str | None = None
    billing_mode = "PAY_PER_REQUEST"


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

    class Meta(_Meta):
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

    class Meta(_Meta):
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


class LinkPolicyRecord(Model):
    """The admins' expiry policy for new and changed links: one small item in the links table.

    Its key cannot be a link's (link ids are 22 URL-safe characters, no `#`), no index holds it
    (it has no `file_id`), and no token can name it; a table of its own would cost an extra
    resource for one item.
    """

    class Meta(_Meta):
        setting = "links_table"

    link_id = UnicodeAttribute(hash_key=True)  # always POLICY_KEY
    default_days = NumberAttribute(null=True)  # where the create dialog starts; None: no end date
    max_days = NumberAttribute(null=True)  # None: no maximum, links may have no end date
    max_days_without_login = NumberAttribute(null=True)  # for links anyone holding them can open
    updated_at = UTCDateTimeAttribute()
    updated_by = UnicodeAttribute()


POLICY_KEY = "policy#links"


class EventRecord(Model):
    """One audit event of a file, newest last in the sort key."""

    class Meta(_Meta):
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


class VersionRecord(Model):
    """One checked version of a file's bytes: its S3 version, and who uploaded it.

    Written only after the server saw the bytes in S3; the file serves its newest clean one.
    """

    class Meta(_Meta):
        setting = "versions_table"

    file_id = UnicodeAttribute(hash_key=True)
    version_key = UnicodeAttribute(range_key=True)  # "<ISO time>#<random>": time order, unique
    version_id = UnicodeAttribute()  # the S3 version of the file's key
    name = UnicodeAttribute()  # the file's own name when the version arrived: links serve it under that
    size = NumberAttribute()
    content_type = UnicodeAttribute()
    uploaded_at = UTCDateTimeAttribute()
    uploaded_by = UnicodeAttribute()  # as EventRecord.actor
    sent_as = UnicodeAttribute(null=True)  # the name a recipient sent it under, kept beside the file's
    state = UnicodeAttribute(null=True)  # malware scan: pending, clean, infected; None: before scanning existed
    finding = UnicodeAttribute(null=True)  # what the scan found, or why it could not finish
    scanned_at = UTCDateTimeAttribute(null=True)
    # Who sent it: what they typed when the link asked (self-declared), or who they were signed in as.
    sender_name = UnicodeAttribute(null=True)
    sender_email = UnicodeAttribute(null=True)
    sender_verified = BooleanAttribute(default=False)
    link_id = UnicodeAttribute(null=True)  # the link it came through, if a recipient sent it
    ip = UnicodeAttribute(null=True)
    upload_id = UnicodeAttribute(null=True)  # the recipient's UploadRecord


class UploadRecord(Model):
    """A recipient's upload through a link, from its plan until the server checked the bytes."""

    class Meta(_Meta):
        setting = "uploads_table"

    upload_id = UnicodeAttribute(hash_key=True)  # random, 128 bits; the recipient's handle
    file_id = UnicodeAttribute()
    link_id = UnicodeAttribute()
    name = UnicodeAttribute()
    size = NumberAttribute()
    content_type = UnicodeAttribute()
    s3_key = UnicodeAttribute()  # a staging key for a POST, the file's own key for multipart
    s3_upload_id = UnicodeAttribute(null=True)  # the S3 multipart upload, if any
    status = UnicodeAttribute()  # "started", "completing" (claimed by one request), "completed"
    actor = UnicodeAttribute()  # who started it, as EventRecord.actor
    ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version_id = UnicodeAttribute(null=True)  # the S3 version it became, once completed
    sender_name = UnicodeAttribute(null=True)  # as VersionRecord
    sender_email = UnicodeAttribute(null=True)
    sender_verified = BooleanAttribute(default=False)
    # Checked in code too; by then the bucket's lifecycle rule has removed its bytes.
    expires_at = TTLAttribute()


class ThrottleRecord(Model):
    """Misses on `/s/...` per source and time window, to slow down token guessing."""

    class Meta(_Meta):
        setting = "throttle_table"

    key = UnicodeAttribute(hash_key=True)  # "<source>#<window start>"
    hits = NumberAttribute(default=0)
    expires_at = TTLAttribute()


class SessionRecord(Model):
    """A browser session. The cookie holds the id plus its HMAC; the person is re-read per request."""

    class Meta(_Meta):
        setting = "sessions_table"

    session_id = UnicodeAttribute(hash_key=True)
    username = UnicodeAttribute()  # Cognito username, for fresh lookups of email and groups
    sub = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()  # checked in code; TTL only tidies
    # As at sign-in: what public link pages show and audit without asking Cognito.
    label = UnicodeAttribute(null=True)
    who = UnicodeAttribute(null=True)


class GrantRecord(Model):
    """Who a restricted link is released to: one item per named email or group.

    Lets the partner portal Query what was released to a person without a Scan.
    """

    class Meta(_Meta):
        setting = "grants_table"

    grantee = UnicodeAttribute(hash_key=True)  # "email:<normalised address>" or "group:<name>"
    link_id = UnicodeAttribute(range_key=True)
    file_id = UnicodeAttribute()
    expires_at = TTLAttribute(null=True)  # tidied with the link


class PeopleBySignUp(GlobalSecondaryIndex):
    """External users by sign-up time: the admin list sorted or filtered by it."""

    class Meta:
        index_name = "PeopleBySignUp"
        projection = AllProjection()

    directory = UnicodeAttribute(hash_key=True)
    signed_up_at = UTCDateTimeAttribute(range_key=True)


class PeopleByLastLogin(GlobalSecondaryIndex):
    """External users by last sign-in: the admin list sorted or filtered by it."""

    class Meta:
        index_name = "PeopleByLastLogin"
        projection = AllProjection()

    directory = UnicodeAttribute(hash_key=True)
    last_login_key = UnicodeAttribute(range_key=True)


class Collaborators(GlobalSecondaryIndex):
    """External users in at least one folder (sparse): the admin's Collaborators view."""

    class Meta:
        index_name = "Collaborators"
        projection = AllProjection()

    collaborator = UnicodeAttribute(hash_key=True)
    username = UnicodeAttribute(range_key=True)


class PersonRecord(Model):
    """An external user as the admin list shows them: a projection of Cognito, the source of truth.

    Written when someone signs in through our flow or is invited, and by the admin's sync.
    """

    class Meta(_Meta):
        setting = "people_table"

    username = UnicodeAttribute(hash_key=True)  # Cognito username
    directory = UnicodeAttribute(default="external")  # one partition for the sorted indexes
    sub = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # Cognito's user status, or "DISABLED"
    signed_up_at = UTCDateTimeAttribute()
    last_login_at = UTCDateTimeAttribute(null=True)
    last_login_key = UnicodeAttribute()  # ISO time of last sign-in; "0" for never, so it sorts first
    search = UnicodeAttribute()  # lower-case name, email and phone, for partial matches

    folders = NumberAttribute(default=0)  # folders they collaborate on
    collaborator = UnicodeAttribute(null=True)  # "yes" while folders > 0: the sparse Collaborators index

    by_sign_up = PeopleBySignUp()
    by_last_login = PeopleByLastLogin()
    collaborators = Collaborators()


class SearchEntryRecord(Model):
    """Where a piece of text begins in an external user's name, email or phone digits.

    One item per position (`entry` is the text from there on, a tab, the username), under
    its first three characters: the admin's search reads only the entries beginning with
    what was typed, so it reads about as many items as it finds (people.py, search.py).
    """

    class Meta(_Meta):
        setting = "people_search_table"

    gram = UnicodeAttribute(hash_key=True)  # the first three characters of `entry`
    entry = UnicodeAttribute(range_key=True)
    username = UnicodeAttribute()
    signed_up_at = UTCDateTimeAttribute()  # to page the hits in the list's order without reading them


class CollaborationsByPerson(GlobalSecondaryIndex):
    """The folders someone collaborates on: their portal, and removal from every folder."""

    class Meta:
        index_name = "CollaborationsByPerson"
        projection = AllProjection()

    person = UnicodeAttribute(hash_key=True)
    folder_id = UnicodeAttribute(range_key=True)


class CollaborationRecord(Model):
    """Someone outside the team (an email, or a group) working on a member's folder."""

    class Meta(_Meta):
        setting = "collaborations_table"

    folder_id = UnicodeAttribute(hash_key=True)
    person = UnicodeAttribute(range_key=True)  # "email:<address>" or "group:<name>"
    role = UnicodeAttribute()  # "view" or "upload"
    owner = UnicodeAttribute()
    added_at = UTCDateTimeAttribute()
    added_by = UnicodeAttribute()

    by_person = CollaborationsByPerson()


class InvitationsByFolder(GlobalSecondaryIndex):
    """A folder's invitations and join requests, for its owner."""

    class Meta:
        index_name = "InvitationsByFolder"
        projection = AllProjection()

    folder_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class InvitationRecord(Model):
    """An invitation to one person, a folder's join link, or someone's request through it."""

    class Meta(_Meta):
        setting = "invitations_table"

    invitation_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()  # "invitation", "join_link" or "request"
    folder_id = UnicodeAttribute()
    owner = UnicodeAttribute()
    role = UnicodeAttribute()
    email = UnicodeAttribute(null=True)  # who is invited, or who asks to join
    invited_by = UnicodeAttribute(null=True)  # the member who made the invitation or join link, as in EventRecord
    status = UnicodeAttribute(default="open")  # open, accepted, approved, declined
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute(null=True)

    by_folder = InvitationsByFolder()


class MailRecord(Model):
    """Email bookkeeping (notices.py, preferences.py), one partition per purpose:

    `prefs#<sub>` a member's preferences; `once#<what>` a mail already sent (at most one per
    link per day, one reminder per expiry); `expiring#<day>` links whose end falls on that
    day; `digest#<day>` downloads of links with a daily digest. TTL tidies what is past.
    """

    class Meta(_Meta):
        setting = "mail_table"

    key = UnicodeAttribute(hash_key=True)
    item = UnicodeAttribute(range_key=True)  # "-", or a link id
    off = ListAttribute(of=UnicodeAttribute, null=True)  # kinds of mail a member turned off
    count = NumberAttribute(default=0)
    site = UnicodeAttribute(null=True)  # the site mails about it link to (a daily job has no request)
    expires_at = TTLAttribute(null=True)


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


def bind(settings: Settings) -> None:
    """Point every model at the tables and endpoint `settings` name; call again to rebind."""
    for model in (*ALL_MODELS, *SHARED_TABLE_MODELS):
        model.Meta.table_name = getattr(settings, model.Meta.setting)
        model.Meta.region = settings.region
        model.Meta.host = settings.dynamodb_endpoint or None
        model._connection = None  # pynamodb caches one per model
    global _bound
    _bound = settings
    _connection.cache_clear()


@lru_cache(maxsize=1)
def _connection() -> Connection:
    if _bound is None:
        raise RuntimeError("models.bind(settings) was never called: no table is known")
    return Connection(region=_bound.region, host=_bound.dynamodb_endpoint or None)


def transaction() -> TransactWrite:
    """Writes that succeed or fail together; commits when its `with` block ends."""
    return TransactWrite(connection=_connection())


ALL_MODELS = (
    FileRecord,
    LinkRecord,
    EventRecord,
    ThrottleRecord,
    SessionRecord,
    GrantRecord,
    PersonRecord,
    SearchEntryRecord,
    CollaborationRecord,
    InvitationRecord,
    VersionRecord,
    UploadRecord,
    MailRecord,
)
# Models of an item kept in another model's table: bound, never created on their own.
SHARED_TABLE_MODELS = (LinkPolicyRecord,)
TTL_ATTRIBUTE = "expires_at"
