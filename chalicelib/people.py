"""External users for admins: a DynamoDB projection of Cognito to list, and deletion.

Cognito stays the source of truth; the projection exists so one page of the admin's list
is a Query on a sorted index, never a read of every user.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.expressions.condition import Condition

from chalicelib import audit, clock, collaborators, links, paging, search, shapes
from chalicelib.audit import Actor
from chalicelib.aws import cognito
from chalicelib.config import get_settings
from chalicelib.directory import ADMINS, MEMBERS, Person, attributes_of, normalise_email
from chalicelib.errors import BadRequest, NotFound
from chalicelib.models import get_or_none
from chalicelib.more_models import PersonRecord
from chalicelib.shapes import PeopleQuery

EXTERNAL = "external"
NEVER = "0"  # last_login_key of someone who never signed in: sorts before any ISO time
_MAX_EVALUATED = 1000  # items one request may read to fill a page when filters are selective
_FILTERED_PAGE = 250
ADMIN_EVENTS = "people"  # the audit partition for changes to people


def record_sign_in(person: Person) -> None:
    """Our sign-in flow records each external user's last login in the projection."""
    if person.is_member or ADMINS in person.groups:
        _forget(person.username)
        return
    user = cognito().admin_get_user(UserPoolId=get_settings().user_pool_id, Username=person.username)
    _project(user, last_login=clock.now())


def follow_profile(person: Person) -> None:
    """A person changed their name or phone: the admin's list (and its search) shows it at once."""
    if person.is_member or ADMINS in person.groups:
        return
    _project(cognito().admin_get_user(UserPoolId=get_settings().user_pool_id, Username=person.username))


def _forget(username: str) -> None:
    previous = get_or_none(PersonRecord, username)
    PersonRecord(username).delete()  # deleting an absent item changes nothing
    search.follow(previous, None)


def _project(user: dict[str, Any], last_login: datetime | None = None) -> PersonRecord:
    """Write one Cognito user (AdminGetUser or ListUsers shape) into the projection."""
    attributes = attributes_of(user)
    username = user["Username"]
    previous = get_or_none(PersonRecord, username)
    login = last_login or (previous.last_login_at if previous else None)
    email = normalise_email(attributes["email"]) if attributes.get("email") else None
    # Counted from the collaborations themselves, so a sign-in or a sync never loses them.
    folders = collaborators.folder_count(email) if email else 0
    record = PersonRecord(
        username,
        sub=attributes.get("sub", username),
        email=email,
        name=attributes.get("name"),
        phone=attributes.get("phone_number"),
        status=user.get("UserStatus", "UNKNOWN") if user.get("Enabled", True) else "DISABLED",
        signed_up_at=user["UserCreateDate"],
        last_login_at=login,
        last_login_key=clock.iso(login) or NEVER,
        search=" ".join(v for v in (attributes.get("name"), email, attributes.get("phone_number")) if v).lower(),
        folders=folders,
        collaborator="yes" if folders else None,
    )
    record.save()
    search.follow(previous, record)
    return record


def sync() -> shapes.Synced:
    """Bring the projection in line with Cognito (an admin's maintenance action, not a page read)."""
    pool = get_settings().user_pool_id
    team = {u for group in (MEMBERS, ADMINS) for u in _usernames_in(group)}
    seen = set()
    synced = []
    for page in cognito().get_paginator("list_users").paginate(UserPoolId=pool):
        for user in page["Users"]:
            if user["Username"] in team:
                continue
            seen.add(user["Username"])
            synced.append(_project(user))
    stale = [r.username for r in PersonRecord.by_sign_up.query(EXTERNAL) if r.username not in seen]
    for username in stale:
        _forget(username)
    search.write(synced)  # writes everyone's entries again: builds the index of a stack that had none
    return shapes.Synced(external_users=len(seen), removed=len(stale))


def _usernames_in(group: str) -> set[str]:
    pages = cognito().get_paginator("list_users_in_group")
    pool = get_settings().user_pool_id
    return {u["Username"] for page in pages.paginate(UserPoolId=pool, GroupName=group) for u in page["Users"]}


def list_external(query: PeopleQuery) -> tuple[list[PersonRecord], str | None]:
    """One page of external users, filtered, searched and sorted on an index.

    A request reads at most about _MAX_EVALUATED users: with selective filters a page may
    come back short, with a cursor to read on from.
    """
    by_login = query.sort == "last_login_at"
    index = PersonRecord.by_last_login if by_login else PersonRecord.by_sign_up
    signed_up = _between(PersonRecord.signed_up_at, query.signed_up_from, query.signed_up_to)
    logged_in = _between(PersonRecord.last_login_key, clock.iso(query.last_login_from), clock.iso(query.last_login_to))
    if query.last_login_from is None and query.last_login_to is not None:
        logged_in = logged_in & (PersonRecord.last_login_key > NEVER)  # "to" alone: never-signed-in do not match
    range_condition, filters = (logged_in, [signed_up]) if by_login else (signed_up, [logged_in])
    if query.search:
        looked_up = search.term(query.search)
        hits = search.hits(looked_up) if looked_up else None
        if looked_up and hits is not None:
            return _found(hits, looked_up, query)
        # Under three characters, or in very many entries: filter the sorted index instead.
        filters.append(PersonRecord.search.contains(query.search))
    filter_condition = None
    for condition in filters:
        if condition is not None:
            filter_condition = condition if filter_condition is None else filter_condition & condition
    pages = index.query(
        EXTERNAL,
        range_key_condition=range_condition,
        filter_condition=filter_condition,
        scan_index_forward=not query.descending,
        # With a filter most items read are dropped: read big pages, not one round trip per 50.
        page_size=query.limit if filter_condition is None else _FILTERED_PAGE,
        last_evaluated_key=paging.decode(query.cursor, {"directory": EXTERNAL}),
    ).page_iter
    found: list[PersonRecord] = []
    evaluated = 0
    for page in pages:
        for raw in page["Items"]:
            found.append(PersonRecord.from_raw_data(raw))
            if len(found) == query.limit:
                return found, paging.encode({key: raw[key] for key in pages.key_names})
        evaluated += page["ScannedCount"]
        if evaluated >= _MAX_EVALUATED:
            break
    return found, paging.encode(pages.last_evaluated_key)


def _found(hits: list[search.Hit], looked_up: str, query: PeopleQuery) -> tuple[list[PersonRecord], str | None]:
    """One page of the people a search found, in the list's order.

    Sorted by sign-up, the index alone orders and pages the hits, and only the page's people
    are read. Last sign-ins are not in the index: sorted or filtered by them, everyone found
    (at most search.MAX_HITS) is read.
    """
    by_login = query.sort == "last_login_at" or query.last_login_from is not None or query.last_login_to is not None
    if by_login:
        found = [r for r in _people([hit.username for hit in hits]) if _logged_in_between(r, query)]
        records = {r.username: r for r in found}
        keyed = [(_sort_key(r, query), r.username) for r in found if _signed_up_between(r.signed_up_at, query)]
    else:
        keyed = [(h.signed_up_at.isoformat(), h.username) for h in hits if _signed_up_between(h.signed_up_at, query)]
    keyed.sort(reverse=query.descending)
    after = _after(query.cursor, looked_up)
    if after is not None:
        keyed = [key for key in keyed if (key < after if query.descending else key > after)]
    shown = keyed[: query.limit]
    if not by_login:
        records = {r.username: r for r in _people([username for _, username in shown])}
    page = [records[u] for _, u in shown if u in records and search.contains(records[u], looked_up)]
    if len(keyed) <= query.limit:
        return page, None
    last_key, last_username = shown[-1]
    return page, paging.encode({"search": {"S": looked_up}, "key": {"S": last_key}, "username": {"S": last_username}})


def _people(usernames: list[str]) -> list[PersonRecord]:
    return list(PersonRecord.batch_get(usernames)) if usernames else []


def _sort_key(record: PersonRecord, query: PeopleQuery) -> str:
    # Sign-up times to the microsecond, as the PeopleBySignUp index orders them.
    return record.last_login_key if query.sort == "last_login_at" else record.signed_up_at.isoformat()


def _signed_up_between(moment: datetime, query: PeopleQuery) -> bool:
    low, high = query.signed_up_from, query.signed_up_to
    return (low is None or moment >= low) and (high is None or moment <= high)


def _logged_in_between(record: PersonRecord, query: PeopleQuery) -> bool:
    low, high = query.last_login_from, query.last_login_to
    if low is None and high is None:
        return True
    moment = record.last_login_at
    return moment is not None and (low is None or moment >= low) and (high is None or moment <= high)


def _after(cursor: str | None, looked_up: str) -> tuple[str, str] | None:
    """Where the previous page of this search ended."""
    key = paging.decode(cursor, {"search": looked_up})
    if key is None:
        return None
    try:
        return key["key"]["S"], key["username"]["S"]
    except (KeyError, TypeError):
        raise BadRequest("cursor is not one this listing handed out.", "invalid_cursor") from None


def _between(attribute: Any, low: Any, high: Any) -> Condition | None:
    if low is not None and high is not None:
        return attribute.between(low, high)
    if low is not None:
        return attribute >= low
    if high is not None:
        return attribute <= high
    return None


def describe(record: PersonRecord) -> shapes.ExternalUser:
    return shapes.of(record, shapes.ExternalUser)


def delete_external(username: str, actor: Actor) -> None:
    """Delete an external user everywhere: Cognito, named access on links, the projection.

    Checked first, so a refusal changes nothing. Their sessions end at their next request
    that reads the person from Cognito (anything but a public link).
    """
    pool = get_settings().user_pool_id
    try:
        user = cognito().admin_get_user(UserPoolId=pool, Username=username)
    except cognito().exceptions.UserNotFoundException:
        raise NotFound("No such user.", "user_not_found") from None
    groups = {
        g["GroupName"] for g in cognito().admin_list_groups_for_user(UserPoolId=pool, Username=username)["Groups"]
    }
    if groups & {MEMBERS, ADMINS}:
        raise BadRequest("Members of the team are not external users.", "not_external")
    attributes = attributes_of(user)
    email = normalise_email(attributes["email"]) if attributes.get("email") else None
    removed = links.forget_recipient(email, actor) if email else 0
    if email:
        collaborators.forget(f"email:{email}", actor)
    # Signing out only revokes refresh tokens; the deletion below is what counts.
    with contextlib.suppress(ClientError):
        cognito().admin_user_global_sign_out(UserPoolId=pool, Username=username)
    cognito().admin_delete_user(UserPoolId=pool, Username=username)
    _forget(username)
    audit.record(ADMIN_EVENTS, "user_deleted", actor, username=username, email=email or "", links=removed)


def delete_many(usernames: list[str], actor: Actor) -> shapes.Deletions:
    """Delete each user on its own: one failure is reported and does not stop the others."""
    deleted: list[str] = []
    failed: list[shapes.Failure] = []
    for username in usernames:
        try:
            delete_external(username, actor)
            deleted.append(username)
        except (BadRequest, NotFound) as error:
            failed.append(shapes.Failure(username, error.code, error.message))
        except ClientError as error:
            failed.append(shapes.Failure(username, "cognito_error", error.response["Error"]["Message"]))
    return shapes.Deletions(deleted=deleted, failed=failed)
