"""People as Cognito knows them right now: verified email and groups, read fresh per request.

Tokens and sessions outlive changes in Cognito (a sign-out, a removal from a group, a
deleted account), so access decisions never rest on what a token said at sign-in.
"""

from __future__ import annotations

import msgspec

from chalicelib.aws import cognito
from chalicelib.config import get_settings
from chalicelib.names import normalise_email
from chalicelib.shapes import Group, GroupPerson

MEMBERS = "members"
ADMINS = "admins"


class Person(msgspec.Struct, frozen=True):
    username: str
    sub: str
    email: str | None  # only when verified, normalised
    groups: frozenset[str]
    name: str | None = None  # what they call themselves (Cognito's `name`), if they said

    @property
    def is_member(self) -> bool:
        return MEMBERS in self.groups

    @property
    def label(self) -> str:
        return self.email or self.username

    @property
    def display_name(self) -> str:
        """How pages greet them: their name, else their address."""
        return self.name or self.label


def attributes_of(user: dict) -> dict[str, str]:
    """A Cognito user's attributes by name, from AdminGetUser ("UserAttributes") or ListUsers ("Attributes")."""
    return {a["Name"]: a["Value"] for a in user.get("UserAttributes") or user.get("Attributes") or []}


def person(username: str) -> Person | None:
    """The enabled user `username`, or None when deleted or disabled."""
    pool = get_settings().user_pool_id
    client = cognito()
    try:
        user = client.admin_get_user(UserPoolId=pool, Username=username)
    except client.exceptions.UserNotFoundException:
        return None
    if not user.get("Enabled", True):
        return None
    attributes = attributes_of(user)
    verified = attributes.get("email_verified") == "true" and attributes.get("email")
    return Person(
        username=user["Username"],
        sub=attributes.get("sub", user["Username"]),
        email=normalise_email(attributes["email"]) if verified else None,
        groups=frozenset(_groups(username)),
        name=attributes.get("name") or None,
    )


def _groups(username: str) -> list[str]:
    pages = cognito().get_paginator("admin_list_groups_for_user")
    pool = get_settings().user_pool_id
    return [g["GroupName"] for page in pages.paginate(UserPoolId=pool, Username=username) for g in page["Groups"]]


def existing_groups(names: list[str]) -> set[str]:
    """Which of these group names exist in the user pool."""
    pool = get_settings().user_pool_id
    pages = cognito().get_paginator("list_groups")
    known = {g["GroupName"] for page in pages.paginate(UserPoolId=pool) for g in page["Groups"]}
    return set(names) & known


TEAM_GROUPS = frozenset({MEMBERS, ADMINS})


def username_for(person: str) -> str | None:
    """The Cognito username of someone named by username or by email address."""
    pool = get_settings().user_pool_id
    client = cognito()
    if '"' in person or "\\" in person:
        return None  # never inside a Cognito filter expression
    if "@" in person:
        found = client.list_users(UserPoolId=pool, Filter=f'email = "{normalise_email(person)}"', Limit=2)["Users"]
        return found[0]["Username"] if len(found) == 1 else None
    try:
        return client.admin_get_user(UserPoolId=pool, Username=person)["Username"]
    except client.exceptions.UserNotFoundException:
        return None


def group_names() -> list[str]:
    """Every group a link can name (the team's `members` among them), for the link dialog's suggestions."""
    pool = get_settings().user_pool_id
    pages = cognito().get_paginator("list_groups")
    return sorted(
        g["GroupName"] for page in pages.paginate(UserPoolId=pool) for g in page["Groups"] if g["GroupName"] != ADMINS
    )


def directory_groups() -> list[Group]:
    """The directory's groups (every group but the team's own), each with its people."""
    pool = get_settings().user_pool_id
    pages = cognito().get_paginator("list_groups")
    names = sorted(g["GroupName"] for page in pages.paginate(UserPoolId=pool) for g in page["Groups"])
    return [Group(name=name, people=people_in(name)) for name in names if name not in TEAM_GROUPS]


def people_in(group: str) -> list[GroupPerson]:
    pages = cognito().get_paginator("list_users_in_group")
    pool = get_settings().user_pool_id
    found = []
    for page in pages.paginate(UserPoolId=pool, GroupName=group):
        for user in page["Users"]:
            attributes = attributes_of(user)
            found.append(GroupPerson(username=user["Username"], email=attributes.get("email")))
    return found
