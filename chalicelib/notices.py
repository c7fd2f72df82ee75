"""What is mailed, to whom and when: each kind is queued by a request (or the daily job) with a few
facts, and composed from the records as they are when the queue's handler sends it.

Composing late means a link revoked meanwhile, a preference turned off, or a link whose
owner no longer wants upload mails sends nothing. One queued message is at most one mail,
so a retry never sends anyone a mail twice over.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import PutError

from chalicelib import audit, clock, mail, preferences, tokens, urls
from chalicelib.audit import Actor
from chalicelib.aws import cognito
from chalicelib.config import get_settings
from chalicelib.directory import attributes_of
from chalicelib.mail import Letter
from chalicelib.models import FileRecord, LinkRecord, get_or_none, update_without_reading
from chalicelib.more_models import InvitationRecord, MailRecord, VersionRecord

REMINDER_DAYS = 3  # a used link ending within this many days gets one reminder
ACCESS_REQUEST_DAYS = 14  # how long an owner can still approve a request for access
SYSTEM = Actor("system:mail")
# SES refusals that a retry cannot fix: recorded at once, never retried.
PERMANENT = {"MessageRejected", "MailFromDomainNotVerifiedException", "BadRequestException", "NotFoundException"}


# --- asked for by requests ----------------------------------------------------------------


def link_made(link: LinkRecord, actor: Actor) -> None:
    """A link for named people: each gets a mail with the link (unless the member unticked "Notify by email")."""
    if link.notify is not False:
        for address in link.recipients:
            mail.queue("link_shared", link_id=link.link_id, to=address, shared_by=_name(actor))
    link_changed(link)


def link_changed(link: LinkRecord) -> None:
    """Note the day a link ends, so the daily job finds the links ending soon without a Scan."""
    if link.valid_until is not None and link.revoked_at is None and get_settings().mail_on:
        day = link.valid_until.date().isoformat()
        tidy = link.valid_until + timedelta(days=2)
        MailRecord(f"expiring#{day}", link.link_id, site=urls.current_site.get(), expires_at=tidy).save()


def downloaded(link: LinkRecord) -> None:
    """Count a download toward the owner's daily digest, for links that have one."""
    if link.download_digest and get_settings().mail_on:
        day = clock.now().date()
        record = MailRecord(f"digest#{day.isoformat()}", link.link_id)
        tidy = clock.now() + timedelta(days=3)
        actions = [MailRecord.count.add(1), MailRecord.expires_at.set(tidy)]
        if urls.current_site.get():
            actions.append(MailRecord.site.set(urls.current_site.get()))
        update_without_reading(record, actions)


def invited(invitation: InvitationRecord, actor: Actor) -> None:
    mail.queue("invitation", invitation_id=invitation.invitation_id, invited_by=_name(actor))


def upload_received(file_id: str, version_id: str, link_id: str | None, sender: Actor) -> None:
    """A recipient sent a new version (or a new file into a shared folder): tell the owner."""
    mail.queue("upload_received", file_id=file_id, version_id=version_id, link_id=link_id, sender=_name(sender))


def access_requested(link: LinkRecord, email: str, actor: Actor) -> bool:
    """Someone the link is not for asks for it: the owner gets at most one mail per person per link a day.

    Answers whether a mail was queued (False: one was already sent today).
    """
    now = clock.now()
    MailRecord(f"access#{link.link_id}", email, expires_at=now + timedelta(days=ACCESS_REQUEST_DAYS)).save()
    audit.record(link.file_id, "access_requested", actor, link.link_id, email=email)
    if not _first_time(f"access#{link.link_id}#{email}#{now.date().isoformat()}", now + timedelta(days=2)):
        return False
    mail.queue("access_request", link_id=link.link_id, email=email)
    return True


def open_request(link: LinkRecord, email: str) -> bool:
    """Whether someone's request for access to a link waits for its owner."""
    record = get_or_none(MailRecord, f"access#{link.link_id}", email)
    return record is not None and (record.expires_at is None or record.expires_at > clock.now())


def close_request(link: LinkRecord, email: str) -> None:
    MailRecord(f"access#{link.link_id}", email).delete()


def _first_time(what: str, tidy: datetime) -> bool:
    """Mark `what` as done; False when it was done already (a conditional put, so two callers never both win)."""
    try:
        MailRecord(f"once#{what}", "-", expires_at=tidy).save(condition=MailRecord.key.does_not_exist())
    except PutError:
        return False
    return True


def _name(actor: Actor) -> str:
    """How a mail names who did something: their address, not the audit's prefix."""
    kind, _, rest = actor.who.partition(":")
    return rest if kind in ("member", "email", "user") else "someone"


# --- the daily job -------------------------------------------------------------------------


def daily() -> dict[str, int]:
    """Expiry reminders and yesterday's download digests: queued, each at most once."""
    now = clock.now()
    reminders = 0
    for offset in range(REMINDER_DAYS + 1):
        day = (now + timedelta(days=offset)).date().isoformat()
        for mark in MailRecord.query(f"expiring#{day}"):
            link = get_or_none(LinkRecord, mark.item)
            if link is None or not _ends_soon(link, now) or not _used(link):
                continue
            once = f"reminder#{link.link_id}#{clock.iso(link.valid_until)}"
            if _first_time(once, link.valid_until + timedelta(days=2)):
                mail.queue("expiry_reminder", link_id=link.link_id, site=mark.site)
                reminders += 1
    digests = 0
    yesterday = (now - timedelta(days=1)).date().isoformat()
    for counted in MailRecord.query(f"digest#{yesterday}"):
        if _first_time(f"digest#{counted.item}#{yesterday}", now + timedelta(days=3)):
            downloads = int(counted.count or 0)
            mail.queue("download_digest", link_id=counted.item, day=yesterday, downloads=downloads, site=counted.site)
            digests += 1
    return {"reminders": reminders, "digests": digests}


def _ends_soon(link: LinkRecord, now: datetime) -> bool:
    return (
        link.revoked_at is None
        and link.valid_until is not None
        and now < link.valid_until <= now + timedelta(days=REMINDER_DAYS)
    )


def _used(link: LinkRecord) -> bool:
    return bool(link.downloads) or bool(getattr(link, "views", 0))


# --- the queue's handler -------------------------------------------------------------------


def deliver(body: str, attempt: int) -> None:
    """Compose and send one queued mail. A refusal SES will repeat is recorded in the file's History
    at once; any other failure is raised for SQS to retry, and recorded on the last attempt."""
    message = json.loads(body)
    compose = _COMPOSERS.get(message.get("kind"))
    letter = compose(message.get("facts") or {}) if compose else None
    if letter is None:
        return
    try:
        mail.send(letter)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Error")
        if code in PERMANENT or attempt >= mail.MAX_ATTEMPTS:
            _failed(letter, code)
        if code not in PERMANENT:
            raise
        return
    except ValueError:
        _failed(letter, "InvalidAddress")
        return
    if letter.file_id:
        audit.record(letter.file_id, "mail_sent", SYSTEM, letter.link_id, mail=letter.kind, to=letter.to)


def _failed(letter: Letter, reason: str) -> None:
    if letter.file_id:
        detail = {"mail": letter.kind, "to": letter.to, "reason": reason}
        audit.record(letter.file_id, "mail_failed", SYSTEM, letter.link_id, **detail)


def _site(facts: dict[str, Any]) -> str:
    return facts.get("site") or get_settings().public_url


def _link_url(link: LinkRecord, site: str) -> str:
    return urls.url_for(site, "landing", token=tokens.token_for(link.link_id))


def _working_link(link_id: str | None) -> LinkRecord | None:
    link = get_or_none(LinkRecord, link_id) if link_id else None
    if link is None or link.revoked_at is not None:
        return None
    if link.valid_until is not None and link.valid_until <= clock.now():
        return None
    return link


def member_email(sub: str) -> str | None:
    """A member's verified email, by their Cognito `sub` (what files and links record as owner)."""
    if '"' in sub or "\\" in sub:
        return None
    found = cognito().list_users(UserPoolId=get_settings().user_pool_id, Filter=f'sub = "{sub}"', Limit=1)["Users"]
    if not found:
        return None
    attributes = attributes_of(found[0])
    return attributes.get("email") if attributes.get("email_verified") == "true" else None


def _to_owner(sub: str, kind: str) -> str | None:
    """The owner's address, when they still want this kind of mail."""
    return member_email(sub) if preferences.wants(sub, kind) else None


def _letter(kind: str, to: str, file_id: str | None, link_id: str | None, site: str, **context: Any) -> Letter:
    preferences_url = urls.url_for(site, "console_top") + "#email" if kind in preferences.KINDS else None
    subject, text, html = mail.render(kind, site=site, to=to, preferences_url=preferences_url, **context)
    return Letter(to=to, subject=subject, text=text, html=html, kind=kind, file_id=file_id, link_id=link_id)


def _link_shared(facts: dict[str, Any]) -> Letter | None:
    link = _working_link(facts.get("link_id"))
    if link is None or link.notify is False or facts.get("to") not in link.recipients:
        return None
    site = _site(facts)
    return _letter(
        "link_shared",
        facts["to"],
        link.file_id,
        link.link_id,
        site,
        link=link,
        file=link.target,
        url=_link_url(link, site),
        shared_by=facts.get("shared_by") or "someone",
        message=getattr(link, "message", None),
    )


def _invitation(facts: dict[str, Any]) -> Letter | None:
    invitation = get_or_none(InvitationRecord, facts.get("invitation_id") or "")
    if invitation is None or invitation.kind != "invitation" or invitation.status != "open" or not invitation.email:
        return None
    folder = get_or_none(FileRecord, invitation.folder_id)
    if folder is None:
        return None
    site = _site(facts)
    url = urls.url_for(site, "join", token=tokens.token_for(invitation.invitation_id, tokens.INVITATIONS))
    return _letter(
        "invitation",
        invitation.email,
        folder.file_id,
        None,
        site,
        folder=folder,
        role=invitation.role,
        url=url,
        invited_by=facts.get("invited_by") or "someone",
        expires_at=invitation.expires_at,
    )


def _upload_received(facts: dict[str, Any]) -> Letter | None:
    file = get_or_none(FileRecord, facts.get("file_id") or "")
    if file is None:
        return None
    link_id = facts.get("link_id")
    if link_id:
        link = get_or_none(LinkRecord, link_id)
        if link is None or link.notify_uploads is False:
            return None
    to = _to_owner(file.owner, "upload_received")
    if to is None:
        return None
    newest_first = VersionRecord.query(file.file_id, scan_index_forward=False)
    version = next((v for v in newest_first if v.version_id == facts.get("version_id")), None)
    site = _site(facts)
    shared_folder = file.folder_id and not link_id
    return _letter(
        "upload_received",
        to,
        file.folder_id if shared_folder else file.file_id,
        link_id,
        site,
        file=file,
        version=version,
        sender=facts.get("sender") or "someone",
        state=getattr(version, "state", None) or "received",
        url=urls.url_for(site, "console_item", file_id=file.file_id),
    )


def _to_link_owner(kind: str, link: LinkRecord, site: str, **context: Any) -> Letter | None:
    """A mail about one of their links to its owner, unless they turned this kind off."""
    to = _to_owner(link.owner, kind)
    if to is None:
        return None
    return _letter(kind, to, link.file_id, link.link_id, site, link=link, file=link.target, **context)


def _expiry_reminder(facts: dict[str, Any]) -> Letter | None:
    link = _working_link(facts.get("link_id"))
    if link is None:
        return None
    site = _site(facts)
    return _to_link_owner(
        "expiry_reminder", link, site, url=urls.url_for(site, "console_item", file_id=link.file_id, tab="links")
    )


def _access_request(facts: dict[str, Any]) -> Letter | None:
    link = _working_link(facts.get("link_id"))
    email = facts.get("email") or ""
    if link is None or not open_request(link, email):
        return None
    site = _site(facts)
    answer = urls.url_for(site, "access_request_page", token=tokens.token_for(link.link_id), email=email)
    return _to_link_owner("access_request", link, site, email=email, answer=answer)


def _download_digest(facts: dict[str, Any]) -> Letter | None:
    link = get_or_none(LinkRecord, facts.get("link_id") or "")
    if link is None or not link.download_digest:
        return None
    site = _site(facts)
    return _to_link_owner(
        "download_digest",
        link,
        site,
        day=facts.get("day"),
        downloads=int(facts.get("downloads") or 0),
        url=urls.url_for(site, "console_item", file_id=link.file_id, tab="history"),
    )


_COMPOSERS = {
    "link_shared": _link_shared,
    "invitation": _invitation,
    "upload_received": _upload_received,
    "expiry_reminder": _expiry_reminder,
    "access_request": _access_request,
    "download_digest": _download_digest,
}
