"""How pages name things people read: who did something, roles, account states, in words."""

from __future__ import annotations

_ROLES = {"view": "Can view", "upload": "Can view and upload"}
_STATUSES = {
    "CONFIRMED": "Active",
    "UNCONFIRMED": "Email not confirmed",
    "FORCE_CHANGE_PASSWORD": "Must set a password",
    "RESET_REQUIRED": "Must reset the password",
    "EXTERNAL_PROVIDER": "Signs in elsewhere",
    "DISABLED": "Disabled",
    "ARCHIVED": "Archived",
    "COMPROMISED": "Blocked (password leaked)",
}


def who(actor: str | None) -> str:
    """An audit actor (`member:<email>`, `email:<address>`, `anonymous`) as a person reads it."""
    if not actor or actor == "anonymous":
        return "Anyone (not signed in)"
    if actor == "scanner:malware":
        return "Malware scan"
    kind, _, name = actor.partition(":")
    return f"{name} (member)" if kind == "member" else name or actor


def role(name: str | None) -> str:
    """A collaborator's role ("view", "upload") in words."""
    return _ROLES.get(name or "", (name or "").capitalize())


def status(name: str | None) -> str:
    """Cognito's user status in words."""
    return _STATUSES.get(name or "", (name or "Unknown").replace("_", " ").capitalize())
