"""The admins' expiry policy for links: a default validity for new links, a maximum, and a stricter
maximum for links that work without signing in; kept in one small DynamoDB item."""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib import clock, shapes
from chalicelib.audit import Actor
from chalicelib.config import get_settings
from chalicelib.errors import BadRequest
from chalicelib.models import get_or_none
from chalicelib.more_models import POLICY_KEY, LinkPolicyRecord

# Until an admin sets a policy: the dialog starts a week ahead, and links may have no end date.
DEFAULT_DAYS = 7


def current() -> shapes.LinkPolicy:
    """The policy in force: one strongly consistent GetItem."""
    record = get_or_none(LinkPolicyRecord, POLICY_KEY)
    if record is None:
        return shapes.LinkPolicy(DEFAULT_DAYS, None, None, None, None)
    return shapes.LinkPolicy(
        default_days=_days(record.default_days),
        max_days=_days(record.max_days),
        max_days_without_login=_days(record.max_days_without_login),
        updated_at=record.updated_at,
        updated_by=record.updated_by,
    )


def _days(value: object) -> int | None:
    return int(value) if value is not None else None


def save(change: shapes.LinkPolicyChange, actor: Actor) -> shapes.LinkPolicy:
    """Set the policy as a whole; links already made keep their end dates until someone changes them."""
    LinkPolicyRecord(
        POLICY_KEY,
        default_days=change.default_days,
        max_days=change.max_days,
        max_days_without_login=change.max_days_without_login,
        updated_at=clock.now(),
        updated_by=actor.who,
    ).save()
    return current()


def longest(policy: shapes.LinkPolicy, require_login: bool) -> int | None:
    """The most days a link may work under the policy; None: no limit beyond MAX_LINK_DAYS."""
    if not require_login and policy.max_days_without_login is not None:
        return policy.max_days_without_login
    return policy.max_days


def check(valid_until: datetime | None, require_login: bool, policy: shapes.LinkPolicy | None = None) -> None:
    """Refuse an end date (or none) past what the policy allows for a link that does or does not need sign-in."""
    days = longest(policy or current(), require_login)
    if days is None:
        return
    kind = "a link" if require_login else "a link that works without signing in"
    if valid_until is None:
        raise BadRequest(
            f"The team's policy needs an end date on {kind}: valid_until at most {days} days from now.",
            "valid_until_past_policy",
        )
    if valid_until > clock.now() + timedelta(days=days):
        raise BadRequest(
            f"The team's policy allows {kind} at most {days} days: choose an earlier valid_until.",
            "valid_until_past_policy",
        )


def dialog_days(policy: shapes.LinkPolicy) -> dict[str, int | None]:
    """What the console's link dialog needs: where it starts and how far it may go, with and without login."""
    ceiling = get_settings().max_link_days
    return {
        "default": policy.default_days,
        "max": policy.max_days or ceiling,
        "max_open": longest(policy, False) or ceiling,
        "end_required": policy.max_days is not None,
        "end_required_open": longest(policy, False) is not None,
    }
