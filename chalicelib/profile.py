"""A signed-in person's own name and phone number, kept where Cognito keeps them (`name`, `phone_number`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib import names, pages, people, shapes
from chalicelib.auth import Caller
from chalicelib.aws import cognito
from chalicelib.config import get_settings
from chalicelib.directory import Person, attributes_of
from chalicelib.errors import BadRequest, LoginRequired

NAME_LENGTH = 128
# E.164: a plus, a country code that does not start with 0, at most 15 digits in all.
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_FORMATTING = re.compile(r"[\s().\-/]")


@dataclass(frozen=True)
class Profile:
    name: str
    phone: str
    email: str


def phone_e164(typed: str | None) -> str | None:
    """A phone number as Cognito stores it (E.164), from what a person typed (spaces, dashes, 00 allowed)."""
    compact = _FORMATTING.sub("", typed or "")
    if not compact:
        return None
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not _E164.fullmatch(compact):
        raise BadRequest(
            "phone must be an international number: + and the country code, then the number, such as +44 20 7946 0958.",
            "invalid_phone",
        )
    return compact


def current(person: Person) -> Profile:
    user = cognito().admin_get_user(UserPoolId=get_settings().user_pool_id, Username=person.username)
    attributes = attributes_of(user)
    return Profile(attributes.get("name", ""), attributes.get("phone_number", ""), person.label)


def page(viewer: Caller | None, site: str) -> str:
    if viewer is None:
        raise LoginRequired("Sign in to see your profile.")
    return pages.render("profile.html", site=site, viewer=viewer, profile=current(viewer.person))


def update(viewer: Caller | None, change: shapes.ProfileChange) -> Profile:
    """Set the caller's name and phone in Cognito, and in the admin's list of external users."""
    if viewer is None:
        raise LoginRequired("Sign in to change your profile.")
    name = names.clean(change.name, "name", NAME_LENGTH)
    phone = phone_e164(change.phone)
    pool, username = get_settings().user_pool_id, viewer.person.username
    attributes = [{"Name": "name", "Value": name}]
    if phone:
        attributes.append({"Name": "phone_number", "Value": phone})
    cognito().admin_update_user_attributes(UserPoolId=pool, Username=username, UserAttributes=attributes)
    if not phone:
        cognito().admin_delete_user_attributes(UserPoolId=pool, Username=username, UserAttributeNames=["phone_number"])
    people.follow_profile(viewer.person)
    return Profile(name, phone or "", viewer.person.label)
