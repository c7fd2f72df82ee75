"""The API's shapes: one msgspec Struct per request body and per resource answer.

Each shape is written once and gives three things: decoding with validation (`decode`),
the JSON answer (`web.json_response` encodes Structs), and its OpenAPI component
(`components`). Friendly `error.code`s stay stable: clients depend on them, so msgspec's
own refusals are mapped onto them here. Imports point one way: domain modules import
shapes, never the reverse.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, ClassVar, Literal, TypeVar

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from chalicelib import clock, names, paging
from chalicelib.config import get_settings
from chalicelib.errors import BadRequest

MAX_AUDIENCE = 50  # named people and groups per link (one transaction writes them all)
MAX_USERNAMES = 100
OCTET_STREAM = "application/octet-stream"


def _whole(regex: str) -> str:
    """A pattern that must match the whole value, read alike by Python (`re.search`) and JSON Schema.

    Python's `$` also matches before a final newline; the lookahead refuses that.
    """
    return f"^(?:{regex})$(?!\\n)"


# Patterns of the checks and the refusal messages: plain strings, compiled (and cached by `re`)
# at first use rather than at cold start.
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z"
_MEDIA_TYPE = (
    r"[A-Za-z0-9][A-Za-z0-9_.+-]*/[A-Za-z0-9][A-Za-z0-9_.+-]*([ \t]*;[ \t]*[A-Za-z0-9_.+-]+=[A-Za-z0-9_.+\"-]+)*"
)

# --- values ----------------------------------------------------------------------------

Name = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=names.MAX_LENGTH,
        description="Without control characters or direction overrides; surrounding spaces are dropped.",
    ),
]
ContentType = Annotated[
    str, Meta(max_length=200, pattern=_whole(_MEDIA_TYPE), description="A media type such as text/plain.")
]
FolderRef = Annotated[str | None, Meta(description="The folder to put it in; null or absent: the top level.")]
Email = Annotated[str, Meta(max_length=254, extra_json_schema={"format": "email"})]
# A group a link names: whatever the directory calls it, without spaces or controls.
AudienceGroup = Annotated[str, Meta(min_length=1, max_length=128, pattern=_whole(r"[^\s\x00-\x1f]+"))]
# A group an admin makes: a name Cognito, URLs and people all read without surprise.
GroupName = Annotated[str, Meta(pattern=_whole(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"))]
Username = Annotated[str, Meta(min_length=1, max_length=128)]
Role = Literal["view", "upload"]
Count = Annotated[int, Meta(ge=0)]
Url = Annotated[str, Meta(extra_json_schema={"format": "uri"})]


def _moment(description: str) -> Any:
    return Annotated[datetime, Meta(tz=True, description=description)]


# --- request bodies --------------------------------------------------------------------


class Body(Struct, forbid_unknown_fields=True):
    """A request body. `refusals`: the code and message for any refusal of a field (or one of
    its items); `limits`: the same for a field's declared limits only (a wrong type stays
    `invalid_field`)."""

    refusals: ClassVar[dict[str, tuple[str, str]]] = {}
    limits: ClassVar[dict[str, tuple[str, str]]] = {}


_NAME_LIMIT = ("invalid_name", f"name must be 1 to {names.MAX_LENGTH} characters.")


class NewFile(Body):
    """A file to announce (or, through a link, a version to send)."""

    name: Name
    size: Annotated[int, Meta(ge=1, description="Bytes.")]
    content_type: ContentType | None = OCTET_STREAM
    folder_id: FolderRef = None

    limits = {
        "name": _NAME_LIMIT,
        "size": ("invalid_size", "size must be at least 1 byte: empty files cannot be shared."),
    }
    refusals = {"content_type": ("invalid_content_type", "content_type must be a media type such as text/plain.")}

    def __post_init__(self) -> None:
        self.name = names.clean(self.name)
        limit = get_settings().max_file_size
        if self.size > limit:
            raise BadRequest(f"size must be at most {limit} bytes.", "file_too_large")
        self.content_type = self.content_type or OCTET_STREAM
        self.folder_id = self.folder_id or None


SENDER_NAME_LENGTH = 100


class NewUpload(NewFile):
    """A version (or, into a folder, a file) sent through a link or a shared folder, and who sends it."""

    sender_name: (
        Annotated[str, Meta(max_length=SENDER_NAME_LENGTH, description="Who sends it (the link's ask_sender asks).")]
        | None
    ) = None
    sender_email: Annotated[Email | None, Meta(description="Their email, as they give it; not verified.")] = None

    limits = {
        **NewFile.limits,
        "sender_name": ("invalid_name", f"sender_name must be at most {SENDER_NAME_LENGTH} characters."),
    }
    refusals = {**NewFile.refusals, "sender_email": ("invalid_email", "sender_email must be an email address.")}

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.sender_name is not None:
            self.sender_name = (
                names.clean(self.sender_name, "sender_name", SENDER_NAME_LENGTH) if self.sender_name.strip() else None
            )
        if self.sender_email is not None:
            self.sender_email = email(self.sender_email) if self.sender_email.strip() else None


AskSender = Annotated[
    Literal["off", "optional", "required"],
    Meta(description="Whether a link with upload asks the sender for a name and email: off, optional or required."),
]
MaxUploadBytes = (
    Annotated[int, Meta(ge=1, description="The largest file a recipient may send through the link, in bytes.")] | None
)
_AllowedType = Annotated[
    str,
    Meta(
        min_length=2,
        max_length=100,
        pattern=_whole(r"\.[A-Za-z0-9]+|" + _MEDIA_TYPE + r"|[A-Za-z0-9][A-Za-z0-9_.+-]*/\*"),
    ),
]
AllowedTypes = (
    Annotated[
        list[_AllowedType],
        Meta(
            max_length=50,
            description="What a recipient may send through the link: extensions (.pdf) or media types "
            "(application/pdf, image/*); empty: anything.",
        ),
    ]
    | None
)
_UPLOAD_LIMIT_REFUSALS = {
    "ask_sender": ("invalid_ask_sender", "ask_sender must be off, optional or required."),
    "max_upload_bytes": (
        "invalid_max_upload_bytes",
        "max_upload_bytes must be a whole number of bytes, at least 1, or null.",
    ),
    "allowed_types": (
        "invalid_allowed_types",
        "allowed_types must list extensions such as .pdf or media types such as image/*.",
    ),
}


def allowed_types(values: list[str] | None) -> list[str]:
    """Extensions and media types as compared: lower-case, without repeats."""
    return list(dict.fromkeys(value.strip().lower() for value in values or ()))


class NewFolder(Body):
    name: Name
    folder_id: FolderRef = None

    limits = {"name": _NAME_LIMIT}

    def __post_init__(self) -> None:
        self.name = names.clean(self.name)
        self.folder_id = self.folder_id or None


class NewName(Body):
    name: Name

    limits = {"name": _NAME_LIMIT}

    def __post_init__(self) -> None:
        self.name = names.clean(self.name)


_VALID_UNTIL = (
    "An ISO-8601 date (2026-12-31, meaning the end of that day, UTC) or time (2026-12-31T18:00:00Z; "
    "without an offset it is UTC), in the future and at most {days} days away; "
    "null means the link works until it is revoked."
)
_VALID_UNTIL_REFUSAL = ("invalid_valid_until", "valid_until must be an ISO-8601 date or time, or null.")
ValidUntil = Annotated[str | None, Meta(description=_VALID_UNTIL)]
AllowUpload = Annotated[bool, Meta(description="Whether the recipient may upload a new version.")]
RequireLogin = Annotated[bool, Meta(description="Whether the recipient must sign in to download.")]
Notify = Annotated[bool, Meta(description="Email each named person the link (when email is on).")]
NotifyUploads = Annotated[bool, Meta(description="Email the owner when a recipient sends a file through the link.")]
DownloadDigest = Annotated[bool, Meta(description="Email the owner one digest a day of the link's downloads.")]


LINK_LABEL_LENGTH = 100
LINK_MESSAGE_LENGTH = 2000
PASSWORD_LENGTHS = (8, 128)
DOWNLOAD_LIMITS = (1, 1000)
Recipients = Annotated[
    list[Email] | None, Meta(description="Release the link only to these people (verified emails); implies login.")
]
Groups = Annotated[
    list[AudienceGroup] | None, Meta(description="Release the link only to members of these groups; implies login.")
]
Label = Annotated[
    str,
    Meta(
        max_length=LINK_LABEL_LENGTH,
        description='A note for the team ("for Acme legal"): shown in the console, the History and the CSV, '
        "never to recipients.",
    ),
]
Message = Annotated[
    str,
    Meta(max_length=LINK_MESSAGE_LENGTH, description="Text shown to recipients on the link's page."),
]
Password = Annotated[
    str,
    Meta(
        min_length=PASSWORD_LENGTHS[0],
        max_length=PASSWORD_LENGTHS[1],
        description="Write-only: recipients must type it before they see anything; only a slow salted hash is "
        "kept. Null: no password.",
    ),
]
DownloadLimit = Annotated[
    int,
    Meta(
        ge=DOWNLOAD_LIMITS[0],
        le=DOWNLOAD_LIMITS[1],
        description="How many downloads the link allows (counted only on POST /s/{token}/download); "
        "null: no limit. A file's link only.",
    ),
]
_LINK_REFUSALS = {
    "valid_until": _VALID_UNTIL_REFUSAL,
    "recipients": ("invalid_email", "recipients must list email addresses."),
    "groups": ("invalid_group", "groups must list group names."),
    "label": ("invalid_label", f"label must be text of at most {LINK_LABEL_LENGTH} characters."),
    "message": ("invalid_message", f"message must be text of at most {LINK_MESSAGE_LENGTH} characters."),
    "password": (
        "invalid_password",
        f"password must be {PASSWORD_LENGTHS[0]} to {PASSWORD_LENGTHS[1]} characters, or null for none.",
    ),
    "download_limit": (
        "invalid_download_limit",
        f"download_limit must be a whole number from {DOWNLOAD_LIMITS[0]} to {DOWNLOAD_LIMITS[1]}, or null.",
    ),
}


class NewLink(Body):
    valid_until: ValidUntil = None
    allow_upload: AllowUpload = False
    require_login: RequireLogin = False  # true whenever recipients or groups are named
    recipients: Recipients = None
    groups: Groups = None
    label: Label | None = None
    message: Message | None = None
    password: Password | None = None
    download_limit: DownloadLimit | None = None
    notify: Notify = True
    notify_uploads: NotifyUploads = True
    download_digest: DownloadDigest = False

    ask_sender: AskSender = "off"
    max_upload_bytes: MaxUploadBytes = None
    allowed_types: AllowedTypes = None

    refusals = {**_LINK_REFUSALS, **_UPLOAD_LIMIT_REFUSALS}

    def __post_init__(self) -> None:
        _check_link_fields(self)
        self.allowed_types = allowed_types(self.allowed_types)
        self.recipients = self.recipients or []
        self.groups = self.groups or []
        self.require_login = self.require_login or bool(self.recipients or self.groups)
        valid_until(self.valid_until)

    @property
    def until(self) -> datetime | None:
        """When the link stops working (checked at decoding); None: never."""
        return _parse_moment(self.valid_until.strip()) if self.valid_until is not None else None


class LinkChange(Body):
    """Only the fields named change; `valid_until`, `label`, `message`, `password` and
    `download_limit` may be set to null (none)."""

    valid_until: ValidUntil | UnsetType = UNSET
    allow_upload: AllowUpload | UnsetType = UNSET
    require_login: RequireLogin | UnsetType = UNSET
    recipients: Recipients | UnsetType = UNSET
    groups: Groups | UnsetType = UNSET
    label: Label | None | UnsetType = UNSET
    message: Message | None | UnsetType = UNSET
    password: Password | None | UnsetType = UNSET
    download_limit: DownloadLimit | None | UnsetType = UNSET
    notify_uploads: NotifyUploads | UnsetType = UNSET
    download_digest: DownloadDigest | UnsetType = UNSET
    ask_sender: AskSender | UnsetType = UNSET
    max_upload_bytes: MaxUploadBytes | UnsetType = UNSET
    allowed_types: AllowedTypes | UnsetType = UNSET

    refusals = {**_LINK_REFUSALS, **_UPLOAD_LIMIT_REFUSALS}

    def __post_init__(self) -> None:
        if not self.fields:
            raise BadRequest(f"Name at least one of {', '.join(self.__struct_fields__)}.", "missing_field")
        _check_link_fields(self)
        for audience in ("recipients", "groups"):
            if getattr(self, audience) is None:
                setattr(self, audience, [])
        if self.valid_until is not UNSET:
            valid_until(self.valid_until)
        if self.allowed_types is not UNSET:
            self.allowed_types = allowed_types(self.allowed_types)

    @property
    def fields(self) -> dict[str, Any]:
        """The fields named, as the link stores them (`password` still in clear: links.py hashes it)."""
        named = {f: getattr(self, f) for f in self.__struct_fields__ if getattr(self, f) is not UNSET}
        if named.get("valid_until") is not None:
            named["valid_until"] = _parse_moment(named["valid_until"].strip())
        return named


def _check_link_fields(body: NewLink | LinkChange) -> None:
    """The checks of a link's fields past their types, alike on creation and on change."""
    if isinstance(body.recipients, list):
        body.recipients = list(dict.fromkeys(email(v) for v in body.recipients))
    if isinstance(body.groups, list):
        body.groups = list(dict.fromkeys(group_name(v) for v in body.groups))
    named = sum(len(v) for v in (body.recipients, body.groups) if isinstance(v, list))
    if named > MAX_AUDIENCE:
        raise BadRequest(f"Name at most {MAX_AUDIENCE} people and groups in all.", "too_many_recipients")
    for field, code in (("label", "invalid_label"), ("message", "invalid_message")):
        value = getattr(body, field)
        if isinstance(value, str):
            setattr(body, field, _note(field, value, code))
    if isinstance(body.password, str) and names.problem(body.password):
        raise BadRequest("password must not hold control characters.", "invalid_password")


def _note(field: str, value: str, code: str) -> str | None:
    """A label (one line) or a message (lines allowed) as stored: NFC, trimmed; empty means none."""
    lines = value.replace("\r\n", "\n").split("\n") if field == "message" else [value]
    wrong = next((found for line in lines if (found := names.problem(line.replace("\t", " ")))), None)
    if wrong:
        raise BadRequest(f"{field} {wrong}.", code)
    return unicodedata.normalize("NFC", "\n".join(lines)).strip() or None


PolicyDays = Annotated[int, Meta(ge=1, description="Days from the moment a link is made or changed.")]


class LinkPolicyChange(Body):
    """The admins' expiry policy. Every field is required: the policy is set as a whole."""

    default_days: Annotated[
        PolicyDays | None, Meta(description="Where the create dialog's end date starts; null: no end date.")
    ]
    max_days: Annotated[
        PolicyDays | None,
        Meta(description="The furthest end date a link may have; null: no maximum, and links may have no end."),
    ]
    max_days_without_login: Annotated[
        PolicyDays | None,
        Meta(description="The same for links that work without signing in; at most max_days. Null: as max_days."),
    ]

    refusals = {
        name: ("invalid_policy", f"{name} must be a whole number of days (at least 1), or null.")
        for name in ("default_days", "max_days", "max_days_without_login")
    }

    def __post_init__(self) -> None:
        ceiling = get_settings().max_link_days
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if value is not None and value > ceiling:
                raise BadRequest(f"{name} must be at most {ceiling} days (MAX_LINK_DAYS).", "invalid_policy")
        most, open_most = self.max_days, self.max_days_without_login
        if most is not None and open_most is not None and open_most > most:
            raise BadRequest("max_days_without_login must not be above max_days.", "invalid_policy")
        strictest = open_most if open_most is not None else most
        if strictest is not None and (self.default_days is None or self.default_days > strictest):
            raise BadRequest(
                f"default_days must be at most {strictest}: the default must suit every new link.", "invalid_policy"
            )


class Usernames(Body):
    usernames: Annotated[list[Username], Meta(min_length=1, max_length=MAX_USERNAMES)]

    refusals = {"usernames": ("invalid_usernames", f"usernames must list 1 to {MAX_USERNAMES} usernames.")}

    def __post_init__(self) -> None:
        self.usernames = list(dict.fromkeys(self.usernames))


class NewGroup(Body):
    name: GroupName

    refusals = {"name": ("invalid_group", "name must be 1 to 64 letters, digits, '.', '_' or '-'.")}


class PersonRef(Body):
    """Someone named by email address or Cognito username."""

    person: Annotated[str, Meta(min_length=1, max_length=254, description="An email address or a Cognito username.")]

    refusals = {"person": ("invalid_person", "person must be an email address or a username.")}

    def __post_init__(self) -> None:
        if not self.person.strip():
            raise BadRequest(self.refusals["person"][1], "invalid_person")
        self.person = email(self.person) if "@" in self.person else self.person.strip()


_ROLE_REFUSAL = ("invalid_role", "role must be view or upload.")


class NewInvitation(Body):
    email: Email
    role: Role = "view"

    refusals = {"email": ("invalid_email", "email must be an email address."), "role": _ROLE_REFUSAL}

    def __post_init__(self) -> None:
        self.email = email(self.email)


class NewJoinLink(Body):
    role: Role = "view"

    refusals = {"role": _ROLE_REFUSAL}


class Decision(Body):
    approve: bool


class AccessAnswer(Body):
    """The owner's answer to someone asking for access to a link: approve adds them to its people."""

    email: Email
    approve: bool

    refusals = {"email": ("invalid_email", "email must be an email address.")}

    def __post_init__(self) -> None:
        self.email = email(self.email)


# The mails a member gets about their own files; each can be turned off (preferences.py).
MAIL_KINDS = ("upload_received", "expiry_reminder", "access_request", "download_digest")
_MailKind = Annotated[bool, Meta(description="Whether this kind of mail is sent.")]


class PreferencesChange(Body):
    """Only the kinds named change."""

    upload_received: _MailKind | UnsetType = UNSET
    expiry_reminder: _MailKind | UnsetType = UNSET
    access_request: _MailKind | UnsetType = UNSET
    download_digest: _MailKind | UnsetType = UNSET

    def __post_init__(self) -> None:
        if not self.fields:
            raise BadRequest(f"Name at least one of {', '.join(MAIL_KINDS)}.", "missing_field")

    @property
    def fields(self) -> dict[str, bool]:
        return {f: getattr(self, f) for f in self.__struct_fields__ if getattr(self, f) is not UNSET}


class ProfileChange(Body):
    """What a signed-in person says about themselves: their name, and a phone number or null."""

    name: Annotated[str, Meta(max_length=256, description="How the team sees them named.")]
    phone: Annotated[str, Meta(max_length=40, description="International: +44 20 7946 0958.")] | None = None

    refusals = {"name": ("invalid_name", "name must be text."), "phone": ("invalid_phone", "phone must be text.")}


B = TypeVar("B", bound=Body)
BODIES = (NewFile, NewUpload, NewFolder, NewName, NewLink, LinkChange, Usernames, NewGroup, PersonRef)
BODIES += (NewInvitation, NewJoinLink, Decision, PreferencesChange, AccessAnswer, LinkPolicyChange)


def decode(raw: bytes | None, shape: type[B], empty: bool = False) -> B:
    """The request body as `shape`, or BadRequest with the code a client can act on.

    `empty`: no body at all means `{}`.
    """
    if not raw and not empty:
        raise BadRequest("The request needs a JSON body.", "invalid_json")
    # The standard parser, not msgspec's: msgspec refuses a lone surrogate as malformed JSON,
    # where the names check answers with what is wrong with the name.
    try:
        body = json.loads(raw) if raw else {}
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError; nesting can be bottomless
        raise BadRequest("The request body is not valid JSON.", "invalid_json") from None
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.", "invalid_json")
    try:
        return msgspec.convert(body, shape)
    except msgspec.ValidationError as error:
        raise _refusal(shape, str(error)) from None
    except UnicodeEncodeError:  # msgspec meets a lone surrogate where no name is expected (a key, a flag)
        raise BadRequest("The request body holds text that is not valid Unicode.", "invalid_json") from None


_AT = r" - at `\$\.(\w+)"
_MISSING = r"^Object missing required field `(\w+)`"
_UNKNOWN = r"^Object contains unknown field `(.*)`"
_TYPE = r"^Expected `(.+?)`, got `(\w+)`"
_KINDS = {"str": "a string", "int": "a whole number", "bool": "true or false", "array": "a list", "object": "an object"}


def _refusal(shape: type[Body], text: str) -> BadRequest:
    """msgspec's words for a refusal, as our code and message."""
    if found := re.match(_UNKNOWN, text):
        return BadRequest(f"Unknown field: {found.group(1)}.", "unknown_field")
    if found := re.match(_MISSING, text):
        return BadRequest(f"{found.group(1)} is required.", "missing_field")
    field = found.group(1) if (found := re.search(_AT, text)) else ""
    kind = re.match(_TYPE, text)
    if kind and kind.group(2) == "null" and field not in _defaults(shape):
        return BadRequest(f"{field} is required.", "missing_field")
    if field in shape.refusals:
        return BadRequest(*shape.refusals[field][::-1])
    if kind:
        wanted = " or ".join(_KINDS.get(k, k) for k in kind.group(1).split(" | ") if k != "null")
        return BadRequest(f"{field} must be {wanted}.", "invalid_field")
    if field in shape.limits:
        return BadRequest(*shape.limits[field][::-1])
    return BadRequest(f"{field} is not acceptable.", "invalid_field")


def _defaults(shape: type[Body]) -> set[str]:
    fields = shape.__struct_fields__
    return set(fields[len(fields) - len(shape.__struct_defaults__) :])


# --- resource answers ------------------------------------------------------------------


class Resource(Struct):
    """A resource answer; its moments are UTC and whole seconds, as the API has always given them."""

    def __post_init__(self) -> None:
        for field in self.__struct_fields__:
            value = getattr(self, field)
            if isinstance(value, datetime):
                setattr(self, field, value.astimezone(UTC).replace(microsecond=0))


R = TypeVar("R", bound=Struct)


def of(record: object, shape: type[R]) -> R:
    """The answer for a record whose attributes bear the shape's field names."""
    return msgspec.convert(record, shape, from_attributes=True)


ScanState = Literal["pending", "clean", "infected"]


class File(Resource):
    """A file or a folder."""

    file_id: str
    kind: Literal["file", "folder"]
    folder_id: Annotated[str | None, Meta(description="The folder holding it; null at the top.")]
    name: str
    size: Annotated[int, Meta(ge=0, description="Bytes (0 for a folder).")]
    content_type: str
    status: Annotated[
        Literal["uploading", "ready", "deleting"],
        Meta(description="`uploading` until the server saw the bytes in S3; only `ready` files are shared."),
    ]
    state: Annotated[
        ScanState | None,
        Meta(
            description="The malware scan of its newest version: links serve only a clean one and keep serving "
            "the last clean version meanwhile. Null for folders and files from before scanning."
        ),
    ]
    created_at: _moment("When the file was announced.")
    updated_at: _moment("When the file last changed.")


class Link(Resource):
    """An external link to a file or folder."""

    token: Annotated[str, Meta(description="The secret that opens the link; keep it like a password.")]
    url: Annotated[str, Meta(description="The link to hand to the recipient.", extra_json_schema={"format": "uri"})]
    qr_svg: Url
    qr_png: Url
    file_id: str
    status: Annotated[
        Literal["active", "expired", "revoked", "used_up"],
        Meta(description="`used_up`: its download limit is reached (raise the limit to open it again)."),
    ]
    valid_until: _moment("When the link stops working; null: until revoked.") | None
    allow_upload: bool
    require_login: bool
    recipients: list[str]
    groups: list[str]
    label: Annotated[str | None, Meta(description="The team's note; never shown to recipients.")]
    message: Annotated[str | None, Meta(description="Shown to recipients on the link's page.")]
    has_password: Annotated[bool, Meta(description="Whether recipients must type a password.")]
    download_limit: Annotated[int | None, Meta(description="Downloads allowed in all; null: no limit.")]
    ask_sender: AskSender
    max_upload_bytes: MaxUploadBytes
    allowed_types: Annotated[list[str], Meta(description="What a recipient may send; empty: anything.")]
    downloads: Count
    notify: Notify
    notify_uploads: NotifyUploads
    download_digest: DownloadDigest
    views: Annotated[int, Meta(ge=0, description="How often its page was opened.")]
    last_opened_at: _moment("When its page was last opened; null: never.") | None
    shared_by: Annotated[str | None, Meta(description="Who made the link, as recipients see it.")]
    created_at: _moment("When the link was made.")
    updated_at: _moment("When the link last changed.")
    revoked_at: _moment("When the link was revoked; null while it is not.") | None

    @property
    def open_to_anyone(self) -> bool:
        """A working link that anyone holding it can open: the console warns about it."""
        return self.status == "active" and not self.require_login


class Version(Resource):
    """One version of a file, kept by S3 versioning."""

    version_id: Annotated[str, Meta(description="The S3 version id.")]
    name: Annotated[str, Meta(description="The name the file had with this version; links serve it under it.")]
    sent_as: Annotated[
        str | None, Meta(description="The name a recipient sent it as (the file keeps its own); null for members.")
    ]
    size: Annotated[int, Meta(ge=1, description="Bytes.")]
    content_type: str
    uploaded_at: _moment("When the server checked the bytes and recorded the version.")
    uploaded_by: Annotated[
        str,
        Meta(
            description="`member:<email>`, `email:<address>` (a signed-in recipient with a verified email), "
            "`user:<username>` (a signed-in recipient without one) or `anonymous`."
        ),
    ]
    link_token: Annotated[
        str | None, Meta(description="The token of the link a recipient uploaded through; null for a member's upload.")
    ]
    ip: Annotated[str | None, Meta(description="The address the upload came from.")]
    current: Annotated[bool, Meta(description="Whether the file and its links serve this version.")]
    state: Annotated[
        ScanState | None,
        Meta(description="The malware scan: only a clean version is ever served. Null: from before scanning."),
    ]
    finding: Annotated[str | None, Meta(description="What the scan found, or why it could not finish.")]
    scanned_at: _moment("When the scan answered.") | None
    sender_name: Annotated[str | None, Meta(description="Who sent it, as they said (the link asked).")]
    sender_email: Annotated[str | None, Meta(description="Their email, as they said, or as they signed in.")]
    sender_verified: Annotated[
        bool, Meta(description="True when the sender was signed in; false: name and email are self-declared.")
    ]
    waiting_seconds: (
        Annotated[int, Meta(ge=0, description="While pending: how long it has waited for its scan, in seconds.")] | None
    )
    download_url: Url


class Upload(Resource):
    """An upload through a link or into a shared folder."""

    upload_id: str
    status: Literal["started", "completing", "completed"]
    name: Annotated[str, Meta(description="The name it was sent as.")]
    size: Annotated[int, Meta(ge=1)]
    content_type: str
    version_id: Annotated[str | None, Meta(description="The version it became, once completed.")]
    created_at: _moment("When the upload started.")
    updated_at: _moment("When it last changed.")
    state: Annotated[
        ScanState | None,
        Meta(description="Once completed, the malware scan of its version: accepted once clean. Null before."),
    ] = None


class FolderZip(Resource):
    """A folder link's files as one ZIP (Download all): built beside the API, then downloaded from S3."""

    state: Annotated[
        Literal["building", "ready", "failed"],
        Meta(description="`building` until every file is in the ZIP; `failed` if it could not be made (start again)."),
    ]
    name: Annotated[str, Meta(description="The name the ZIP is saved under.")]
    files: Annotated[int, Meta(ge=1, description="How many files it holds.")]
    bytes_total: Annotated[int, Meta(ge=0, description="The files' bytes together.")]
    bytes_done: Annotated[int, Meta(ge=0, description="How many of them are in the ZIP so far.")]
    status_url: Annotated[str, Meta(description="Poll this (GET) until `state` is `ready`.")]
    download_url: Annotated[str | None, Meta(description="Once ready: a redirect to a short-lived S3 URL of the ZIP.")]
    usable_until: _moment("Until when status_url and download_url work; after that, start again.")


class Event(Resource):
    """One line of a file's or folder's history."""

    at: _moment("When it happened.")
    kind: Annotated[str, Meta(description="link_created, link_opened, link_downloaded, ...")]
    who: Annotated[str, Meta(description="member:<email>, email:<address> or anonymous.")]
    ip: str | None
    user_agent: str | None
    link: Annotated[str | None, Meta(description="The first characters of the link's token.")]
    detail: dict[str, Any]


class ExternalUser(Resource):
    """Someone outside the team who signed up."""

    username: str
    name: str | None
    email: str | None
    phone: str | None
    status: Annotated[str, Meta(description="Cognito's user status, or DISABLED.")]
    signed_up_at: _moment("When the account was made.")
    last_login_at: _moment("When they last signed in here; null: never.") | None


class GroupPerson(Struct):
    username: str
    email: str | None


class Group(Struct):
    """A directory group and who is in it."""

    name: str
    people: list[GroupPerson]


class Collaborator(Resource):
    """Someone who works on a folder."""

    person: Annotated[str, Meta(description="email:<address> or group:<name>.")]
    role: Role
    added_at: _moment("When they joined.")
    added_by: str


class JoinRequest(Resource):
    """Someone asking to join a folder through its join link."""

    request_id: str
    email: str
    role: Role
    asked_at: _moment("When.")


class Collaborators(Struct):
    """A folder's collaborators, its pending invitations and join links, and open requests to join."""

    collaborators: list[Collaborator]
    invitations: list[Invitation]
    requests: list[JoinRequest]


class Invitation(Resource):
    """An invitation to a folder, or its join link."""

    invitation_id: Annotated[str, Meta(description="Re-send or cancel it with this id.")]
    url: Url
    kind: Literal["invitation", "join_link"]
    email: str | None
    role: Role
    expires_at: _moment("When it stops working.")


class ExternalCollaborator(Struct):
    """An external user who collaborates on at least one folder."""

    username: str
    email: str | None
    name: str | None
    folders: Count


class CollaboratedFolder(Struct):
    folder_id: str
    name: str | None
    role: Role


class Synced(Struct):
    """The list of external users after bringing it in line with Cognito."""

    external_users: Count
    removed: Count


class Failure(Struct):
    username: str
    code: str
    message: str


class Deletions(Struct):
    """Who was deleted, and who was not and why."""

    deleted: list[str]
    failed: list[Failure]


class PartUrl(Struct):
    part_number: Annotated[int, Meta(ge=1)]
    url: Annotated[str, Meta(description="PUT the part's bytes here.", extra_json_schema={"format": "uri"})]


class PostUpload(Resource, tag_field="method", tag="POST"):
    """A small file: one multipart/form-data POST to `url` with every field, then the bytes as `file`."""

    url: Url
    fields: dict[str, str]
    expires_at: _moment("When the URL stops working.")
    upload_id: Annotated[str, Meta(description="A recipient's upload: continue and complete it with this id.")] | (
        UnsetType
    ) = UNSET


class MultipartUpload(Resource, tag_field="method", tag="MULTIPART"):
    """A large file: PUT each part (from byte (part_number - 1) * part_size) to its URL."""

    upload_id: str
    part_size: Annotated[int, Meta(ge=1, description="Bytes in every part but the last.")]
    parts: Annotated[list[PartUrl], Meta(description="The parts still to send.")]
    parts_done: Annotated[list[Annotated[int, Meta(ge=1)]], Meta(description="Part numbers S3 already holds.")]
    expires_at: _moment("When the URLs stop working.")


UploadPlan = PostUpload | MultipartUpload


class Preferences(Struct):
    """Which mails a member gets about their files; `email_on` is false while no SES identity is configured."""

    email_on: bool
    upload_received: _MailKind
    expiry_reminder: _MailKind
    access_request: _MailKind
    download_digest: _MailKind


class LinkPolicy(Resource):
    """How long links may work, set by admins; the defaults until an admin sets it."""

    default_days: Annotated[int | None, Meta(description="Where the create dialog's end date starts; null: none.")]
    max_days: Annotated[int | None, Meta(description="The furthest end date; null: no maximum.")]
    max_days_without_login: Annotated[
        int | None, Meta(description="The furthest end date of a link that works without signing in.")
    ]
    updated_at: _moment("When an admin last set it; null: never.") | None
    updated_by: str | None


class ErrorDetail(Struct):
    code: str
    message: str


class Error(Struct):
    """`code` is stable, for programs; `message` is for people."""

    error: ErrorDetail


RESOURCES = (File, Link, Version, Upload, Event, ExternalUser, Group, Collaborator, JoinRequest, Invitation)
RESOURCES += (Collaborators, ExternalCollaborator, CollaboratedFolder, Synced, Deletions, LinkPolicy, Error)
RESOURCES += (FolderZip,)
RESOURCES += (Preferences,)


def components() -> dict[str, Any]:
    """Every shape's OpenAPI component, with the limits only settings know."""
    refs, found = msgspec.json.schema_components(
        (*BODIES, *RESOURCES, UploadPlan), ref_template="#/components/schemas/{name}"
    )
    # A union has no name of its own; the two below are named here, once.
    found["UploadPlan"] = {
        "description": "How to send the bytes straight to S3; then complete the file or the upload.",
        **refs[-1],
    }
    found["RecipientPlan"] = {
        "description": "An upload plan; continue and complete it through the same link or folder.",
        "allOf": [{"$ref": "#/components/schemas/UploadPlan"}, {"type": "object", "required": ["upload_id"]}],
    }
    settings = get_settings()
    found["NewFile"]["properties"]["size"]["maximum"] = settings.max_file_size
    for body in ("NewLink", "LinkChange"):
        until = found[body]["properties"]["valid_until"]
        until["description"] = until["description"].format(days=settings.max_link_days)
    found["LinkChange"]["minProperties"] = 1
    return found


# --- values checked past the types -----------------------------------------------------


def email(value: str) -> str:
    """An email address in the form links compare addresses in."""
    if not re.match(_EMAIL, value.strip()) or names.problem(value):  # its length is the shape's
        raise BadRequest(f"{_shown(value)} is not an email address.", "invalid_email")
    return names.normalise_email(value)


def group_name(value: str) -> str:
    if names.problem(value):
        raise BadRequest(f"{_shown(value)} is not a group name.", "invalid_group")
    return value


def _shown(value: Any) -> str:
    """A refused value quoted back to the caller: short, and safe to put in JSON."""
    return ascii(str(value)[:80])


def valid_until(value: str | None) -> datetime | None:
    """An ISO-8601 moment in the future within the configured maximum; None for no end.

    A bare date means the end of that day (UTC); a time without offset is UTC.
    """
    if value is None:
        return None
    moment = _parse_moment(value.strip())
    now = clock.now()
    if moment <= now:
        raise BadRequest("valid_until must be in the future.", "valid_until_in_past")
    days = get_settings().max_link_days
    if moment > now + timedelta(days=days):
        raise BadRequest(f"valid_until must be at most {days} days from now.", "valid_until_too_far")
    return moment


def _parse_moment(text: str) -> datetime:
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).replace(microsecond=0)
    except (ValueError, OverflowError):  # an offset can push a moment past year 1 or 9999
        raise BadRequest(
            "valid_until must be an ISO-8601 date (2026-12-31) or time (2026-12-31T18:00:00Z).",
            "invalid_valid_until",
        ) from None


# --- query strings ---------------------------------------------------------------------


class PeopleQuery(Struct, frozen=True):
    """The admin's view of external users: filters, search, sort and page."""

    signed_up_from: datetime | None = None
    signed_up_to: datetime | None = None
    last_login_from: datetime | None = None
    last_login_to: datetime | None = None
    search: str = ""
    sort: str = "signed_up_at"  # or "last_login_at"
    descending: bool = True
    limit: int = paging.DEFAULT_LIMIT
    cursor: str | None = None


def people_query(params: dict[str, str]) -> PeopleQuery:
    sort = params.get("sort", "signed_up_at")
    if sort not in ("signed_up_at", "last_login_at"):
        raise BadRequest("sort must be signed_up_at or last_login_at.", "invalid_sort")
    order = params.get("order", "desc")
    if order not in ("asc", "desc"):
        raise BadRequest("order must be asc or desc.", "invalid_order")
    search = params.get("q", "").strip().lower()
    if len(search) > 100:
        raise BadRequest("q must be at most 100 characters.", "invalid_search")
    return PeopleQuery(
        signed_up_from=_moment_param(params, "signed_up_from", start_of_day=True),
        signed_up_to=_moment_param(params, "signed_up_to"),
        last_login_from=_moment_param(params, "last_login_from", start_of_day=True),
        last_login_to=_moment_param(params, "last_login_to"),
        search=search,
        sort=sort,
        descending=order == "desc",
        limit=paging.limit(params.get("limit")),
        cursor=params.get("cursor") or None,
    )


def _moment_param(params: dict[str, str], name: str, start_of_day: bool = False) -> datetime | None:
    """A bound of a time range; a bare date covers that whole day."""
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        moment = _parse_moment(value)
    except BadRequest:
        raise BadRequest(f"{name} must be an ISO-8601 date or time.", "invalid_time_range") from None
    return moment.replace(hour=0, minute=0, second=0) if start_of_day and len(value) == 10 else moment
