"""External links: create, change, revoke, and open them; expiry and revocation are checked here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib import (
    audit,
    clock,
    directory,
    link_passwords,
    link_policy,
    notices,
    shapes,
    storage,
    throttle,
    tokens,
    urls,
)
from chalicelib.audit import Actor
from chalicelib.config import get_settings
from chalicelib.directory import Person
from chalicelib.errors import (
    BadRequest,
    Conflict,
    Gone,
    LoginRequired,
    NotAllowed,
    NotFound,
    PasswordRequired,
)
from chalicelib.models import (
    FileRecord,
    LinkRecord,
    LinkTarget,
    condition_failed,
    get_or_none,
    transaction,
    update_without_reading,
)
from chalicelib.more_models import GrantRecord
from chalicelib.shapes import LinkChange, NewLink


class Visiting(Protocol):
    """Who opens a link. `person` may ask Cognito, so it is read only for links that need sign-in."""

    @property
    def person(self) -> Person | None: ...

    @property
    def actor(self) -> Actor: ...

    @property
    def cookies(self) -> str | None:
        """The request's Cookie header: a password link's cookie rides in it."""


@dataclass(frozen=True)
class Visit:
    """A visitor already known."""

    person: Person | None
    actor: Actor
    cookies: str | None = None


ACTIVE = "active"
EXPIRED = "expired"
REVOKED = "revoked"
USED_UP = "used_up"


def status(link: LinkRecord, now: datetime | None = None) -> str:
    """Whether a link works right now. TTL deletion lags expiry by days, so never rely on it."""
    if link.revoked_at is not None:
        return REVOKED
    if link.valid_until is not None and link.valid_until <= (now or clock.now()):
        return EXPIRED
    if link.download_limit is not None and int(link.downloads or 0) >= int(link.download_limit):
        return USED_UP
    return ACTIVE


def _tidy_after(link: LinkRecord) -> datetime | None:
    """When DynamoDB may delete the link: a while after it stopped working, so members still see it."""
    end = link.revoked_at or link.valid_until
    if end is None:
        return None
    return end + timedelta(days=get_settings().link_retention_days)


def _target(file: FileRecord) -> LinkTarget:
    return LinkTarget(
        kind=file.kind,
        name=file.name,
        size=file.size,
        content_type=file.content_type,
        updated_at=file.updated_at,
        s3_key=file.s3_key,
        version_id=file.version_id,
    )


def create_link(file: FileRecord, options: NewLink, actor: Actor) -> LinkRecord:
    """A new link to a ready file; the file must still be ready when the link is written."""
    if file.status != "ready":
        raise Conflict("Only a completely uploaded file can be shared.", "file_not_ready")
    _check_groups(options.groups)
    _check_limit_target(file.kind, options.download_limit)
    link_policy.check(options.until, options.require_login)
    now = clock.now()
    link = LinkRecord(
        link_id=tokens.new_link_id(),
        file_id=file.file_id,
        owner=file.owner,
        created_at=now,
        updated_at=now,
        valid_until=options.until,
        allow_upload=options.allow_upload,
        require_login=options.require_login,
        recipients=list(options.recipients),
        groups=list(options.groups),
        notify=options.notify,
        notify_uploads=options.notify_uploads,
        download_digest=options.download_digest,
        label=options.label,
        message=options.message,
        password_hash=link_passwords.hash_password(options.password) if options.password else None,
        download_limit=options.download_limit,
        shared_by=_sharer(actor),
        ask_sender=options.ask_sender,
        max_upload_bytes=options.max_upload_bytes,
        allowed_types=list(options.allowed_types or ()),
        target=_target(file),
    )
    link.expires_at = _tidy_after(link)
    try:
        with transaction() as write:
            # Still ready, and no newer version meanwhile: the link's target is the newest.
            write.condition_check(
                FileRecord,
                file.file_id,
                condition=(FileRecord.status == "ready") & (FileRecord.updated_at == file.updated_at),
            )
            # Two links never share an id, even if the random generator ever repeated.
            write.save(link, condition=LinkRecord.link_id.does_not_exist())
            write.save(audit.event(file.file_id, "link_created", actor, link.link_id, **_options(link)))
            for grantee in _grantees(link):
                write.save(GrantRecord(grantee, link.link_id, file_id=file.file_id, expires_at=link.expires_at))
    except TransactWriteError:
        raise Conflict("The file changed while the link was made; try again.", "file_changed") from None
    notices.link_made(link, actor)
    return link


def _check_groups(names: list[str]) -> None:
    unknown = sorted(set(names) - directory.existing_groups(list(names)))
    if unknown:
        raise BadRequest(f"There is no group named {unknown[0]!r}.", "unknown_group")


def _check_limit_target(kind: str, limit: int | None) -> None:
    """A limit counts downloads of one file; a folder's page downloads many files, each by a GET."""
    if limit is not None and kind == "folder":
        raise BadRequest("A download limit applies to a file's link, not a folder's.", "download_limit_for_folder")


def _sharer(actor: Actor) -> str | None:
    """How recipients see who shared a link: the member's address as the audit names them."""
    kind, _, name = actor.who.partition(":")
    return name if kind == "member" and name else None


def _grantees(link: LinkRecord) -> list[str]:
    return [f"email:{address}" for address in link.recipients] + [f"group:{name}" for name in link.groups]


def _options(link: LinkRecord) -> dict[str, Any]:
    """A link's options as an event tells them; never its password, only whether it has one."""
    options = {
        "valid_until": clock.iso(link.valid_until) or "never",
        "allow_upload": link.allow_upload,
        "require_login": link.require_login,
        "recipients": list(link.recipients),
        "groups": list(link.groups),
        "ask_sender": link.ask_sender,
        "max_upload_bytes": int(link.max_upload_bytes) if link.max_upload_bytes else "any",
        "allowed_types": list(link.allowed_types or ()),
    }
    if link.label:
        options["label"] = link.label
    if link.message:
        options["message"] = "set"
    if link.password_hash:
        options["password"] = "set"
    if link.download_limit is not None:
        options["download_limit"] = int(link.download_limit)
    return options


def links_of_file(file: FileRecord) -> list[LinkRecord]:
    """A file's links, newest first, revoked and expired ones included."""
    return list(LinkRecord.by_file.query(file.file_id, scan_index_forward=False))


def owned_link(owner: str, token: str) -> LinkRecord:
    link_id = tokens.link_id_from(token)
    link = _get(link_id) if link_id else None
    if link is None or link.owner != owner:
        raise NotFound("No such link.", "link_not_found")
    return link


def _get(link_id: str) -> LinkRecord | None:
    return get_or_none(LinkRecord, link_id)


# How an event tells each change: the new value, or words for what must not be repeated.
_CHANGE_WORDS: dict[str, Any] = {
    "valid_until": lambda v: clock.iso(v) or "never",
    "message": lambda v: "set" if v else "removed",
    "password": lambda v: "set" if v else "removed",
    "label": lambda v: v or "removed",
    "download_limit": lambda v: "none" if v is None else v,
}


def change_link(link: LinkRecord, change: LinkChange, actor: Actor) -> LinkRecord:
    """Change any option of a link that still exists; one event says what changed (never a password)."""
    if link.revoked_at is not None:
        raise Conflict("A revoked link cannot be changed; make a new one.", "link_revoked")
    asked = change.fields
    if "groups" in asked:
        _check_groups([g for g in asked["groups"] if g not in link.groups])
    _check_limit_target(link.target.kind, asked.get("download_limit"))
    old_grantees, old_login = set(_grantees(link)), link.require_login
    changed: dict[str, Any] = {}
    for name, value in asked.items():
        if name == "password":
            if value is None and link.password_hash is None:
                continue
            link.password_hash = link_passwords.hash_password(value) if value else None
            changed[name] = value
        elif getattr(link, name) != value:
            setattr(link, name, value)
            changed[name] = value
    # Naming people or groups implies sign-in, whatever was asked.
    link.require_login = link.require_login or bool(link.recipients or link.groups)
    changed.pop("require_login", None)
    if link.require_login != old_login:
        changed["require_login"] = link.require_login
    if not changed:
        return link
    if changed.keys() & {"valid_until", "require_login", "recipients", "groups"}:
        link_policy.check(link.valid_until, link.require_login)
    link.updated_at = clock.now()
    link.expires_at = _tidy_after(link)
    stored = {"password": "password_hash"}
    names = [stored.get(name, name) for name in changed] + ["updated_at", "expires_at"]
    attributes = [getattr(LinkRecord, n) for n in names]
    actions = [
        a.set(getattr(link, a.attr_name)) if getattr(link, a.attr_name) is not None else a.remove() for a in attributes
    ]
    try:
        # Only the fields changed, never the whole item: downloads and views count on meanwhile.
        link.update(actions=actions, condition=LinkRecord.revoked_at.does_not_exist())
    except UpdateError as error:
        if condition_failed(error):
            raise Conflict("The link was revoked meanwhile.", "link_revoked") from None
        raise
    new_grantees = set(_grantees(link))
    for grantee in old_grantees - new_grantees:
        GrantRecord(grantee, link.link_id).delete()
    for grantee in new_grantees - old_grantees:
        GrantRecord(grantee, link.link_id, file_id=link.file_id, expires_at=link.expires_at).save()
    _retidy_grants(link)
    detail = {name: _CHANGE_WORDS.get(name, lambda v: v)(value) for name, value in changed.items()}
    if link.label and "label" not in detail:
        detail["link_label"] = link.label  # which link, in the team's words
    audit.record(link.file_id, "link_changed", actor, link.link_id, **detail)
    notices.link_changed(link)
    return link


def revoke_link(link: LinkRecord, actor: Actor, reason: str = "revoked") -> LinkRecord:
    """Stop a link at once. Presigned URLs already handed out live on for their short life."""
    if link.revoked_at is None:
        link.revoked_at = clock.now()
        link.revoked_reason = reason
        link.expires_at = _tidy_after(link)
        link.update(
            actions=[
                LinkRecord.revoked_at.set(link.revoked_at),
                LinkRecord.revoked_reason.set(reason),
                LinkRecord.expires_at.set(link.expires_at),
            ]
        )
        _retidy_grants(link)
        audit.record(link.file_id, "link_revoked", actor, link.link_id, reason=reason)
    return link


def _retidy_grants(link: LinkRecord) -> None:
    """Keep the grants' TTL with the link's, so the portal never loses a link still working."""
    tidy = GrantRecord.expires_at.set(link.expires_at) if link.expires_at else GrantRecord.expires_at.remove()
    for grantee in _grantees(link):
        GrantRecord(grantee, link.link_id).update(actions=[tidy])


def revoke_all(file_id: str, reason: str, actor: Actor) -> None:
    for link in LinkRecord.by_file.query(file_id):
        revoke_link(link, actor, reason)


def refresh_targets(file: FileRecord) -> None:
    """Point every link of a file at its newest version; a refresh for an older one never wins."""
    target = _target(file)
    for link in LinkRecord.by_file.query(file.file_id):
        if link.revoked_at is not None:
            continue
        try:
            link.update(
                actions=[LinkRecord.target.set(target)],
                condition=LinkRecord.target.updated_at < file.updated_at,
            )
        except UpdateError as error:
            if not condition_failed(error):
                raise


def open_link(token: str, actor: Actor) -> LinkRecord:
    """The link a recipient's token names, if it works now: one GetItem, nothing else read."""
    link = _named_by(token, actor)
    _refuse_if_stopped(link)
    return link


def _named_by(token: str, actor: Actor) -> LinkRecord:
    """The link a token names, working or not.

    Misses are counted per source so guessing is throttled; a token whose MAC fails is
    refused before any table read.
    """
    link_id = tokens.link_id_from(token)
    link = _get(link_id) if link_id else None
    if link is None:
        throttle.count_miss(actor.ip)
        raise NotFound("This link does not exist. Check that it was copied completely.", "link_not_found")
    return link


def _refuse_if_stopped(link: LinkRecord) -> None:
    state = status(link)
    if state == REVOKED:
        raise Gone("This link has been revoked by its owner.", "link_revoked")
    if state == EXPIRED:
        raise Gone("This link has expired.", "link_expired")
    if state == USED_UP:
        raise Gone(USED_UP_MESSAGE, "download_limit_reached")


USED_UP_MESSAGE = "This link has been downloaded as many times as its owner allowed."


def visit(token: str, visitor: Visiting) -> LinkRecord:
    """Open a link's landing page for a visitor it is for, and audit that it was opened: one event a visit.

    A visit to a revoked or expired link is audited too, so its owner sees who still tries it.
    """
    link = _named_by(token, visitor.actor)
    state = status(link)
    if state != ACTIVE:
        audit.record(link.file_id, "stopped_link_opened", visitor.actor, link.link_id, reason=state)
    _refuse_if_stopped(link)
    check_access(link, visitor)
    try:  # an update never makes an item: a link deleted meanwhile stays deleted
        link.update(
            actions=[LinkRecord.views.add(1), LinkRecord.last_opened_at.set(clock.now())],
            condition=LinkRecord.link_id.exists(),
        )
    except UpdateError as error:
        if not condition_failed(error):
            raise
    audit.record(link.file_id, "link_opened", visitor.actor, link.link_id, **_named(link))
    return link


def _named(link: LinkRecord) -> dict[str, str]:
    """Which link an event is about, in the team's words (the History and the CSV show it)."""
    return {"link_label": link.label} if link.label else {}


def unlock(token: str, password: str, visitor: Visiting) -> tuple[LinkRecord, str | None]:
    """Check a password typed on a link's page: the link, and the cookie that remembers it (None if wrong).

    Wrong guesses are counted per link and per source; past either limit nothing is checked.
    """
    link = open_link(token, visitor.actor)
    check_access(link, visitor, password=False)
    if link.password_hash is None:
        return link, None
    throttle.check_password_guesses(link.link_id, visitor.actor.ip)
    fits = 0 < len(password) <= shapes.PASSWORD_LENGTHS[1]  # never hash a megabyte someone posted
    if fits and link_passwords.matches(password, link.password_hash):
        return link, link.password_hash
    throttle.count_wrong_password(link.link_id, visitor.actor.ip)
    audit.record(link.file_id, "password_refused", visitor.actor, link.link_id, **_named(link))
    return link, None


def note_sign_in(path: str, person: Person, actor: Actor) -> None:
    """A sign-in made to open a link (`path` is where it leads): one "access granted" on the link, if it is for them.

    Visits and downloads after it are audited as themselves; granting is recorded once, here.
    """
    found = re.fullmatch(r"/s/([A-Za-z0-9_-]+)(?:[/?].*)?", path)
    link_id = tokens.link_id_from(found[1]) if found else None
    link = _get(link_id) if link_id else None
    if link is None or status(link) != ACTIVE or not link.require_login or not is_for(link, person):
        return
    audit.record(link.file_id, "access_granted", actor, link.link_id)


def is_for(link: LinkRecord, person: Person) -> bool:
    """Whether a signed-in person may use a login-required link, by what Cognito says now."""
    if person.sub == link.owner or not (link.recipients or link.groups):
        return True
    return (person.email is not None and person.email in link.recipients) or bool(set(link.groups) & person.groups)


def check_access(link: LinkRecord, visitor: Visiting, *, quiet: bool = False, password: bool = True) -> None:
    """Refuse visitors a login-required link is not for (auditing each refusal), and, unless
    `password` is False, visitors of a password link without its cookie.

    Access granted is audited once, at the sign-in made for the link (note_sign_in), not on every
    request. `quiet` checks the same without events, for requests that only follow up on an action
    already recorded (polling a Download all).
    """
    _check_login(link, visitor, quiet)
    stored = link.password_hash
    if password and stored and not link_passwords.unlocked(link.link_id, stored, visitor.cookies):
        raise PasswordRequired("Type this link's password on its page first.")


def _check_login(link: LinkRecord, visitor: Visiting, quiet: bool) -> None:
    if not link.require_login:
        return
    person = visitor.person
    actor = visitor.actor  # after `person`: from Cognito now

    def note(kind: str) -> None:
        if not quiet:
            audit.record(link.file_id, kind, actor, link.link_id)

    if person is None:
        note("login_required")
        raise LoginRequired("Sign in to use this link.")
    if not is_for(link, person):
        note("access_refused")
        raise NotAllowed("This link was shared with other people.", signed_in_as=person.label)


def forget_recipient(email: str, actor: Actor) -> int:
    """Take a deleted person off every link naming them; returns how many links named them."""
    return _forget_grantee(f"email:{email}", actor)


def forget_group(name: str, actor: Actor) -> int:
    """Take a deleted group off every link naming it; returns how many links named it."""
    return _forget_grantee(f"group:{name}", actor)


def _forget_grantee(grantee: str, actor: Actor) -> int:
    """Take someone off every link's audience; a link left for nobody is revoked."""
    kind, _, name = grantee.partition(":")
    field = LinkRecord.recipients if kind == "email" else LinkRecord.groups
    grants = list(GrantRecord.query(grantee))
    for grant in grants:
        link = _get(grant.link_id)
        if link is not None and name in getattr(link, field.attr_name):
            remaining = [value for value in getattr(link, field.attr_name) if value != name]
            setattr(link, field.attr_name, remaining)
            link.update(actions=[field.set(remaining)])
            audit.record(link.file_id, "audience_removed", actor, link.link_id, **{kind: name})
            if not link.recipients and not link.groups:
                # Left with no one named, a login-required link would open to anyone signed in.
                revoke_link(link, actor, "audience_removed")
        grant.delete()
    return len(grants)


def rename_group(old: str, new: str, actor: Actor) -> None:
    """Follow a group's new name on every link naming it."""
    for grant in list(GrantRecord.query(f"group:{old}")):
        link = _get(grant.link_id)
        if link is not None and old in link.groups:
            link.update(actions=[LinkRecord.groups.set([new if g == old else g for g in link.groups])])
            GrantRecord(f"group:{new}", link.link_id, file_id=link.file_id, expires_at=link.expires_at).save()
            audit.record(link.file_id, "audience_renamed", actor, link.link_id, group=new, old_name=old)
        grant.delete()


def released_to(person: Person) -> list[LinkRecord]:
    """Every working link released to this person by verified email or by group, newest first."""
    grantees = ([f"email:{person.email}"] if person.email else []) + [f"group:{g}" for g in sorted(person.groups)]
    link_ids = {grant.link_id for grantee in grantees for grant in GrantRecord.query(grantee)}
    found = LinkRecord.batch_get(link_ids, consistent_read=True) if link_ids else []
    working = [link for link in found if status(link) == ACTIVE and is_for(link, person)]
    return sorted(working, key=lambda link: link.created_at, reverse=True)


def download_url(link: LinkRecord, visitor: Visiting) -> str:
    """A presigned GET of the newest version, short-lived and never outliving the link.

    Counted on the link; with a download limit, only the first `download_limit` calls get one.
    """
    check_access(link, visitor)
    target = link.target
    if target.kind == "folder":
        raise NotFound("This link shares a folder: download its files one by one.", "link_is_folder")
    seconds = presign_seconds(link)
    storage.servable(target.version_id)  # before counting: nothing clean yet is no download
    record_download(link, visitor.actor)
    return storage.presigned_download(target.s3_key, target.version_id, target.name, target.content_type, seconds)


def counts_downloads(link: LinkRecord) -> bool:
    """Whether a download must be the explicit POST: previews and scanners GET every URL they see."""
    return link.download_limit is not None


def presign_seconds(link: LinkRecord) -> int:
    """How long a URL presigned for this link may live: short, and never beyond the link's end."""
    seconds = get_settings().presign_seconds
    if link.valid_until is not None:
        seconds = min(seconds, int((link.valid_until - clock.now()).total_seconds()))
    if seconds < 1:
        raise Gone("This link has expired.", "link_expired")
    return seconds


def record_download(link: LinkRecord, actor: Actor, **detail: str) -> None:
    """Count the download on the link, then audit it; refused if revoked (or used up) meanwhile.

    The count is one conditional UpdateItem (`downloads < download_limit` when limited), judged
    by DynamoDB at write time: however many recipients press at once, exactly the limit pass.
    Not a transaction: concurrent transactions on one item cancel each other in DynamoDB.
    """
    condition = LinkRecord.link_id.exists() & LinkRecord.revoked_at.does_not_exist()
    if link.download_limit is not None:
        condition &= LinkRecord.downloads < LinkRecord.download_limit
    try:
        update_without_reading(link, [LinkRecord.downloads.add(1)], condition)
    except UpdateError as error:
        if not condition_failed(error):
            raise
        now = _get(link.link_id)
        if now is None or now.revoked_at is not None:
            raise Gone("This link has been revoked by its owner.", "link_revoked") from None
        raise Gone(USED_UP_MESSAGE, "download_limit_reached") from None
    audit.record(link.file_id, "link_downloaded", actor, link.link_id, **detail, **_named(link))
    notices.downloaded(link)


def addresses(token: str, site_url: str) -> dict[str, str]:
    """Where a link lives: the URL handed to recipients, and its QR codes for members."""
    return {
        "url": urls.url_for(site_url, "landing", token=token),
        "qr_svg": urls.url_for(site_url, "link_qr_svg", token=token),
        "qr_png": urls.url_for(site_url, "link_qr_png", token=token),
    }


def describe(link: LinkRecord, site_url: str) -> shapes.Link:
    token = tokens.token_for(link.link_id)
    return shapes.Link(
        token=token,
        **addresses(token, site_url),
        file_id=link.file_id,
        status=status(link),
        valid_until=link.valid_until,
        allow_upload=link.allow_upload,
        require_login=link.require_login,
        recipients=list(link.recipients),
        groups=list(link.groups),
        label=link.label,
        message=link.message,
        has_password=link.password_hash is not None,
        download_limit=int(link.download_limit) if link.download_limit is not None else None,
        ask_sender=link.ask_sender or "off",
        max_upload_bytes=int(link.max_upload_bytes) if link.max_upload_bytes else None,
        allowed_types=list(link.allowed_types or ()),
        downloads=int(link.downloads or 0),
        notify=link.notify is not False,
        notify_uploads=link.notify_uploads is not False,
        download_digest=bool(link.download_digest),
        views=int(link.views or 0),
        last_opened_at=link.last_opened_at,
        shared_by=link.shared_by,
        created_at=link.created_at,
        updated_at=link.updated_at,
        revoked_at=link.revoked_at,
    )


def answer_access(link: LinkRecord, email: str, approve: bool, actor: Actor) -> LinkRecord:
    """The owner's answer to a request for access: approving names the person on the link."""
    if not notices.open_request(link, email):
        raise NotFound("No such request for access, or it was answered already.", "request_not_found")
    notices.close_request(link, email)
    if not approve:
        audit.record(link.file_id, "access_ignored", actor, link.link_id, email=email)
        return link
    if link.revoked_at is not None:
        raise Conflict("A revoked link cannot be changed; make a new one.", "link_revoked")
    if email not in link.recipients:
        if len(link.recipients) + len(link.groups) >= shapes.MAX_AUDIENCE:
            raise BadRequest(f"A link names at most {shapes.MAX_AUDIENCE} people and groups.", "too_many_recipients")
        link.recipients = [*link.recipients, email]
        link.update(
            actions=[LinkRecord.recipients.set(link.recipients), LinkRecord.require_login.set(True)],
            condition=LinkRecord.revoked_at.does_not_exist(),
        )
        link.require_login = True
        GrantRecord(f"email:{email}", link.link_id, file_id=link.file_id, expires_at=link.expires_at).save()
    audit.record(link.file_id, "access_approved", actor, link.link_id, email=email)
    return link
