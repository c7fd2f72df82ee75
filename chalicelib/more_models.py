"""The tables only some routes use, as pynamodb models: versions and uploads, grants, the
people projection and its search index, collaborations and invitations, mail bookkeeping,
the guessing throttle and the link policy.

Kept out of models.py so a download or a link's page does not define them at cold start;
they register with models.bind() when this module is first imported.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models import TableMeta, register, registered


class LinkPolicyRecord(Model):
    """The admins' expiry policy for new and changed links: one small item in the links table.

    Its key cannot be a link's (link ids are 22 URL-safe characters, no `#`), no index holds it
    (it has no `file_id`), and no token can name it; a table of its own would cost an extra
    resource for one item.
    """

    class Meta(TableMeta):
        setting = "links_table"
        shares_table = True

    link_id = UnicodeAttribute(hash_key=True)  # always POLICY_KEY
    default_days = NumberAttribute(null=True)  # where the create dialog starts; None: no end date
    max_days = NumberAttribute(null=True)  # None: no maximum, links may have no end date
    max_days_without_login = NumberAttribute(null=True)  # for links anyone holding them can open
    updated_at = UTCDateTimeAttribute()
    updated_by = UnicodeAttribute()


POLICY_KEY = "policy#links"


class VersionRecord(Model):
    """One checked version of a file's bytes: its S3 version, and who uploaded it.

    Written only after the server saw the bytes in S3; the file serves its newest clean one.
    """

    class Meta(TableMeta):
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

    class Meta(TableMeta):
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

    class Meta(TableMeta):
        setting = "throttle_table"

    key = UnicodeAttribute(hash_key=True)  # "<source>#<window start>"
    hits = NumberAttribute(default=0)
    expires_at = TTLAttribute()


class GrantRecord(Model):
    """Who a restricted link is released to: one item per named email or group.

    Lets the partner portal Query what was released to a person without a Scan.
    """

    class Meta(TableMeta):
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

    class Meta(TableMeta):
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

    class Meta(TableMeta):
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

    class Meta(TableMeta):
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

    class Meta(TableMeta):
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

    class Meta(TableMeta):
        setting = "mail_table"

    key = UnicodeAttribute(hash_key=True)
    item = UnicodeAttribute(range_key=True)  # "-", or a link id
    off = ListAttribute(of=UnicodeAttribute, null=True)  # kinds of mail a member turned off
    count = NumberAttribute(default=0)
    site = UnicodeAttribute(null=True)  # the site mails about it link to (a daily job has no request)
    expires_at = TTLAttribute(null=True)


register(
    LinkPolicyRecord,
    VersionRecord,
    UploadRecord,
    ThrottleRecord,
    GrantRecord,
    PersonRecord,
    SearchEntryRecord,
    CollaborationRecord,
    InvitationRecord,
    MailRecord,
)


def all_tables() -> list[type[Model]]:
    """A model for each table, this module's and models.py's: to create or describe them all."""
    return [model for model in registered() if not model.Meta.shares_table]
