"""Collaborators: people outside the team working on a member's folder, by invitation or request.

A member invites someone by email (an invitation link only that verified email can use),
or shares a folder's join link: whoever opens it asks to join, and the member approves or
declines. Collaborators find their folders in the portal.
"""

from __future__ import annotations

from datetime import timedelta

from pynamodb.exceptions import UpdateError

from chalicelib import audit, clock, directory, files, notices, shapes, storage, throttle, tokens, uploads, urls
from chalicelib.audit import Actor
from chalicelib.config import get_settings
from chalicelib.directory import Person, normalise_email
from chalicelib.errors import BadRequest, Conflict, Forbidden, LoginRequired, NotAllowed, NotFound
from chalicelib.models import FileRecord, get_or_none
from chalicelib.more_models import CollaborationRecord, InvitationRecord, PersonRecord

_INVITATION_DAYS = 14


def _folder_of(owner: str, folder_id: str) -> FileRecord:
    folder = files.owned_file(owner, folder_id)
    if not folder.is_folder:
        raise BadRequest("Only folders have collaborators.", "not_a_folder")
    return folder


def invite(owner: str, folder_id: str, email: str, role: str, actor: Actor) -> InvitationRecord:
    """An invitation for one person: only someone signed in with that verified email can accept."""
    folder = _folder_of(owner, folder_id)
    return _new_invitation(folder, "invitation", role, actor, email=email)


def join_link(owner: str, folder_id: str, role: str, actor: Actor) -> InvitationRecord:
    """A link anyone can open to ask to join the folder; the owner approves each request."""
    folder = _folder_of(owner, folder_id)
    return _new_invitation(folder, "join_link", role, actor)


def _new_invitation(
    folder: FileRecord, kind: str, role: str, actor: Actor, email: str | None = None
) -> InvitationRecord:
    now = clock.now()
    invitation = InvitationRecord(
        tokens.new_link_id(),
        kind=kind,
        folder_id=folder.file_id,
        owner=folder.owner,
        role=role,
        email=email,
        invited_by=actor.who,
        created_at=now,
        expires_at=now + timedelta(days=_INVITATION_DAYS),
    )
    invitation.save(condition=InvitationRecord.invitation_id.does_not_exist())
    audit.record(folder.file_id, f"{kind}_created", actor, email=email or "", role=role)
    if kind == "invitation":
        notices.invited(invitation, actor)
    return invitation


def url_of(invitation: InvitationRecord, site: str) -> str:
    return urls.url_for(site, "join", token=tokens.token_for(invitation.invitation_id, tokens.INVITATIONS))


def open_invitation(token: str, actor: Actor) -> InvitationRecord:
    """The invitation or join link a token names; misses are counted against guessing, as for links."""
    invitation_id = tokens.link_id_from(token, tokens.INVITATIONS)
    invitation = _get_invitation(invitation_id) if invitation_id else None
    if invitation is None or invitation.kind == "request":
        throttle.count_miss(actor.ip)
        raise NotFound("This invitation does not exist.", "invitation_not_found")
    if invitation.expires_at is not None and invitation.expires_at <= clock.now():
        raise NotFound("This invitation has expired. Ask for a new one.", "invitation_expired")
    return invitation


def _get_invitation(invitation_id: str) -> InvitationRecord | None:
    return get_or_none(InvitationRecord, invitation_id)


def rename_group(old: str, new: str, actor: Actor) -> None:
    """Follow a group's new name on every folder it collaborates on."""
    for collaboration in list(CollaborationRecord.by_person.query(f"group:{old}")):
        folder = files.get_item(collaboration.folder_id)
        if folder is not None:
            _add(folder, f"group:{new}", collaboration.role, actor, added_by=collaboration.added_by)
        remove(collaboration.folder_id, f"group:{old}", actor)


def accept(token: str, person: Person | None, actor: Actor) -> tuple[str, FileRecord]:
    """Open an invitation or join link as a signed-in person: ("joined" | "requested", folder)."""
    invitation = open_invitation(token, actor)
    if person is None:
        raise LoginRequired("Sign in or sign up to join this folder.")
    folder = files.get_item(invitation.folder_id)
    if folder is None:
        raise NotFound("The folder no longer exists.", "folder_not_found")
    if person.email is None:
        raise NotAllowed("Joining a folder needs a verified email address.", signed_in_as=person.label)
    if invitation.kind == "invitation":
        if person.email != invitation.email:
            raise NotAllowed(f"This invitation is for {invitation.email}.", signed_in_as=person.label)
        if invitation.status == "open":
            _add(folder, f"email:{person.email}", invitation.role, actor, added_by=invitation.invited_by)
            invitation.update(actions=[InvitationRecord.status.set("accepted")])
        return "joined", folder
    if _collaboration(folder.file_id, f"email:{person.email}"):
        return "joined", folder
    request = InvitationRecord(
        f"{invitation.invitation_id}.{person.email}",
        kind="request",
        folder_id=folder.file_id,
        owner=folder.owner,
        role=invitation.role,
        email=person.email,
        created_at=clock.now(),
        expires_at=clock.now() + timedelta(days=_INVITATION_DAYS),
    )
    request.save()  # asking twice keeps one request
    audit.record(folder.file_id, "join_requested", actor, email=person.email)
    return "requested", folder


def decide(owner: str, folder_id: str, request_id: str, approve: bool, actor: Actor) -> None:
    """The owner approves or declines a request to join."""
    folder = _folder_of(owner, folder_id)
    request = _get_invitation(request_id)
    if request is None or request.kind != "request" or request.folder_id != folder.file_id:
        raise NotFound("No such request.", "request_not_found")
    if request.status != "open":
        raise Conflict("This request was answered already.", "request_answered")
    request.update(actions=[InvitationRecord.status.set("approved" if approve else "declined")])
    if approve:
        _add(folder, f"email:{request.email}", request.role, actor)
    else:
        audit.record(folder.file_id, "join_declined", actor, email=request.email)


def _add(folder: FileRecord, person: str, role: str, actor: Actor, added_by: str | None = None) -> None:
    """Make someone a collaborator; `added_by` is the member who let them in (default: the actor)."""
    existing = _collaboration(folder.file_id, person)
    CollaborationRecord(
        folder.file_id,
        person,
        role=role,
        owner=folder.owner,
        added_at=clock.now(),
        added_by=added_by or actor.who,
    ).save()
    if existing is None:
        _count(person, +1)
    audit.record(folder.file_id, "collaborator_added", actor, person=person, role=role)


def folder_count(email: str) -> int:
    """How many folders someone works on by their email (a Query of their collaborations)."""
    return sum(1 for _ in CollaborationRecord.by_person.query(f"email:{email}"))


def _collaboration(folder_id: str, person: str) -> CollaborationRecord | None:
    return get_or_none(CollaborationRecord, folder_id, person)


def _count(person: str, change: int) -> None:
    """Keep the admin's Collaborators view: how many folders each external user is in."""
    kind, _, email = person.partition(":")
    username = directory.username_for(email) if kind == "email" else None
    if username is None:
        return
    record = PersonRecord(username)
    try:
        record.update(actions=[PersonRecord.folders.add(change)], condition=PersonRecord.username.exists())
    except UpdateError:
        return  # not in the list of external users (a member, or not yet seen)
    if record.folders > 0:
        record.update(actions=[PersonRecord.collaborator.set("yes")])
    else:
        record.update(actions=[PersonRecord.collaborator.remove(), PersonRecord.folders.set(0)])


def remove(folder_id: str, person: str, actor: Actor) -> None:
    collaboration = _collaboration(folder_id, person)
    if collaboration is None:
        raise NotFound("No such collaborator.", "collaborator_not_found")
    collaboration.delete()
    _count(person, -1)
    audit.record(folder_id, "collaborator_removed", actor, person=person)


def remove_from_own(owner: str, folder_id: str, person: str, actor: Actor) -> None:
    remove(_folder_of(owner, folder_id).file_id, person, actor)


def forget(person: str, actor: Actor) -> int:
    """Take someone (a deleted user, a deleted group) off every folder; returns how many."""
    found = list(CollaborationRecord.by_person.query(person))
    for collaboration in found:
        remove(collaboration.folder_id, person, actor)
    return len(found)


def of_folder(owner: str, folder_id: str) -> shapes.Collaborators:
    """A folder's collaborators and open requests to join, for its owner."""
    folder = _folder_of(owner, folder_id)
    people = CollaborationRecord.query(folder.file_id)
    asked = list(InvitationRecord.by_folder.query(folder.file_id))
    pending = [r for r in asked if r.kind == "request" and r.status == "open"]
    site = urls.current_site.get() or get_settings().public_url
    open_ones = [r for r in asked if r.kind in ("invitation", "join_link") and _still_open(r)]
    return shapes.Collaborators(
        collaborators=[shapes.of(c, shapes.Collaborator) for c in people],
        invitations=[describe_invitation(r, site) for r in open_ones],
        requests=[
            shapes.JoinRequest(request_id=r.invitation_id, email=r.email, role=r.role, asked_at=r.created_at)
            for r in pending
        ],
    )


def folders_of(person: Person) -> list[tuple[FileRecord, str]]:
    """The folders a person collaborates on (by email or group), with their role, by name."""
    keys = ([f"email:{person.email}"] if person.email else []) + [f"group:{g}" for g in sorted(person.groups)]
    found: dict[str, tuple[FileRecord, str]] = {}
    for key in keys:
        for collaboration in CollaborationRecord.by_person.query(key):
            folder = files.get_item(collaboration.folder_id)
            if folder is not None and folder.status == "ready":
                earlier = found.get(folder.file_id, (folder, "view"))[1]
                found[folder.file_id] = (folder, "upload" if "upload" in (earlier, collaboration.role) else "view")
    return sorted(found.values(), key=lambda pair: pair[0].name.lower())


def _shared_with(person: Person | None, folder_id: str) -> tuple[FileRecord, str]:
    """A folder a person collaborates on, and their role there."""
    if person is None:
        raise LoginRequired("Sign in to see this folder.")
    found = {f.file_id: (f, role) for f, role in folders_of(person)}.get(folder_id)
    if found is None:
        raise NotFound("No such folder among those shared with you.", "folder_not_found")
    return found


def role_in(person: Person | None, folder_id: str) -> str:
    return _shared_with(person, folder_id)[1]


def inbox(person: Person | None, folder_id: str) -> uploads.Inbox:
    """Where a collaborator with the upload role sends new files: the shared folder."""
    shared, role = _shared_with(person, folder_id)
    if role != "upload":
        raise Forbidden("You can view this folder, not add files to it.", "upload_not_allowed")
    return uploads.Inbox(
        file_id=shared.file_id,
        into_folder=True,
        owner=shared.owner,
        channel=f"folder:{shared.file_id}:{person.email}",
        link_id=None,
        seconds=get_settings().presign_seconds,
    )


def folder_for(person: Person | None, folder_id: str, item_id: str | None = None) -> tuple[FileRecord, FileRecord]:
    """A collaborated folder (or a folder/file inside it) a person may see: (shared folder, item)."""
    shared, _ = _shared_with(person, folder_id)
    if item_id in (None, folder_id):
        return shared, shared
    item = files.get_item(item_id)
    if item is None or item.status != "ready" or not files.is_inside(item, shared):
        raise NotFound("This is not in the shared folder.", "file_not_found")
    return shared, item


def download_url(person: Person | None, folder_id: str, file_id: str, actor: Actor) -> str:
    shared, item = folder_for(person, folder_id, file_id)
    if item.is_folder:
        raise NotFound("That is a folder.", "file_not_found")
    audit.record(shared.file_id, "collaborator_downloaded", actor, file=item.name)
    seconds = get_settings().presign_seconds
    return storage.presigned_download(item.s3_key, item.version_id, item.name, item.content_type, seconds)


def normalise_person(value: str) -> str:
    """`email:<address>` or `group:<name>` from what an admin or member typed."""
    if value.startswith("group:"):
        return value
    return f"email:{normalise_email(value.removeprefix('email:'))}"


def _still_open(invitation: InvitationRecord) -> bool:
    return invitation.status == "open" and (invitation.expires_at is None or invitation.expires_at > clock.now())


def _pending(owner: str, folder_id: str, invitation_id: str) -> InvitationRecord:
    folder = _folder_of(owner, folder_id)
    invitation = _get_invitation(invitation_id)
    if (
        invitation is None
        or invitation.folder_id != folder.file_id
        or invitation.kind not in ("invitation", "join_link")
        or not _still_open(invitation)
    ):
        raise NotFound("No such open invitation.", "invitation_not_found")
    return invitation


def resend(owner: str, folder_id: str, invitation_id: str, actor: Actor) -> InvitationRecord:
    """Mail a pending invitation to its invitee again."""
    invitation = _pending(owner, folder_id, invitation_id)
    if invitation.kind != "invitation":
        raise BadRequest("A join link has no one to mail; copy it instead.", "not_an_invitation")
    notices.invited(invitation, actor)
    audit.record(invitation.folder_id, "invitation_resent", actor, email=invitation.email or "")
    return invitation


def cancel(owner: str, folder_id: str, invitation_id: str, actor: Actor) -> None:
    """Withdraw an invitation or join link: it stops working at once."""
    invitation = _pending(owner, folder_id, invitation_id)
    invitation.delete()
    audit.record(invitation.folder_id, f"{invitation.kind}_cancelled", actor, email=invitation.email or "")


def describe_invitation(invitation: InvitationRecord, site: str) -> shapes.Invitation:
    return shapes.Invitation(
        invitation_id=invitation.invitation_id,
        url=url_of(invitation, site),
        kind=invitation.kind,
        email=invitation.email,
        role=invitation.role,
        expires_at=invitation.expires_at,
    )


def collaborators_list() -> list[shapes.ExternalCollaborator]:
    """Admins: every external user in at least one folder, with how many (a Query, sparse index)."""
    return [shapes.of(p, shapes.ExternalCollaborator) for p in PersonRecord.collaborators.query("yes")]


def folders_of_user(username: str) -> tuple[str, list[shapes.CollaboratedFolder]]:
    """Admins: the folders an external user collaborates on, by name."""
    record = get_or_none(PersonRecord, username)
    if record is None:
        raise NotFound("No such external user.", "user_not_found")
    person = f"email:{record.email}"
    folders = []
    for collaboration in CollaborationRecord.by_person.query(person):
        folder = files.get_item(collaboration.folder_id)
        name = folder.name if folder else None
        folders.append(shapes.CollaboratedFolder(folder_id=collaboration.folder_id, name=name, role=collaboration.role))
    return person, folders
