"""Directory groups: admins create, rename and delete them and choose who is in them.

Links and collaborations can name a group; membership is read from Cognito on every
request, so a change counts on the next one.
"""

from __future__ import annotations

from chalicelib import audit, collaborators, directory, links
from chalicelib.audit import Actor
from chalicelib.aws import cognito
from chalicelib.config import get_settings
from chalicelib.directory import TEAM_GROUPS
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.people import ADMIN_EVENTS
from chalicelib.shapes import Group


def _pool() -> str:
    return get_settings().user_pool_id


def _existing(name: str) -> str:
    if name in TEAM_GROUPS:
        raise BadRequest("members and admins are the team's own groups; manage them in Cognito.", "team_group")
    if not directory.existing_groups([name]):
        raise NotFound(f"There is no group named {name!r}.", "group_not_found")
    return name


def create(name: str, actor: Actor) -> Group:
    if name in TEAM_GROUPS:
        raise BadRequest("members and admins are the team's own groups.", "team_group")
    if directory.existing_groups([name]):
        raise Conflict(f"A group named {name!r} exists already.", "group_exists")
    cognito().create_group(UserPoolId=_pool(), GroupName=name)
    audit.record(ADMIN_EVENTS, "group_created", actor, group=name)
    return Group(name=name, people=[])


def rename(old: str, new: str, actor: Actor) -> Group:
    """Cognito cannot rename a group: make the new one, move its people and links, drop the old."""
    _existing(old)
    created = create(new, actor)
    for person in directory.people_in(old):
        cognito().admin_add_user_to_group(UserPoolId=_pool(), Username=person.username, GroupName=new)
        created.people.append(person)
    links.rename_group(old, new, actor)
    collaborators.rename_group(old, new, actor)
    cognito().delete_group(UserPoolId=_pool(), GroupName=old)
    audit.record(ADMIN_EVENTS, "group_renamed", actor, group=new, old_name=old)
    return created


def delete(name: str, actor: Actor) -> None:
    """Delete a group; links that named it lose it (one left for nobody is revoked)."""
    _existing(name)
    links.forget_group(name, actor)
    collaborators.forget(f"group:{name}", actor)
    cognito().delete_group(UserPoolId=_pool(), GroupName=name)
    audit.record(ADMIN_EVENTS, "group_deleted", actor, group=name)


def add_person(name: str, person: str, actor: Actor) -> None:
    username = _username(name, person)
    cognito().admin_add_user_to_group(UserPoolId=_pool(), Username=username, GroupName=name)
    audit.record(ADMIN_EVENTS, "group_person_added", actor, group=name, username=username)


def remove_person(name: str, person: str, actor: Actor) -> None:
    username = _username(name, person)
    cognito().admin_remove_user_from_group(UserPoolId=_pool(), Username=username, GroupName=name)
    audit.record(ADMIN_EVENTS, "group_person_removed", actor, group=name, username=username)


def _username(group: str, person: str) -> str:
    """The Cognito username of someone to put into or take out of an existing directory group."""
    _existing(group)
    username = directory.username_for(person)
    if username is None:
        raise NotFound(f"No user {person!r}.", "user_not_found")
    return username
