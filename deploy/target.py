"""Where a deployment goes: from the environment, else a small file asked for on first use."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

STAGES = ("dev", "prod")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The same rules as the template's LoginDomainPrefix, plus Cognito's reserved words.
_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_STACK = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


class TargetError(Exception):
    """A setting is missing or wrong; the message says which and how to set it."""


@dataclass(frozen=True)
class Target:
    """One stack in one account and region, and the people it needs."""

    stage: str
    region: str
    stack_name: str
    login_prefix: str
    alarm_email: str
    admin_email: str
    # Email (README, Email): never asked; from the environment or the saved file; empty keeps the stack's.
    mail_identity: str = ""
    mail_from: str = ""
    team_name: str = ""


# field -> (environment variable, question, check that returns an error or None)
_ASK: dict[str, tuple[str, str, Callable[[str], str | None]]] = {
    "region": ("REGION", "AWS region", lambda v: None if _REGION.match(v) else "a region such as eu-west-1"),
    "stack_name": (
        "STACK_NAME",
        "CloudFormation stack name",
        lambda v: None if _STACK.match(v) else "letters, digits and hyphens, starting with a letter",
    ),
    "login_prefix": (
        "LOGIN_PREFIX",
        "Hosted login prefix, unique in the region (https://<prefix>.auth.<region>.amazoncognito.com)",
        lambda v: None
        if _PREFIX.match(v) and not any(word in v for word in ("aws", "amazon", "cognito"))
        else "lowercase letters, digits and inner hyphens, without aws, amazon or cognito",
    ),
    "alarm_email": (
        "ALARM_EMAIL",
        "Email that receives the alarms",
        lambda v: None if _EMAIL.match(v) else "an email address",
    ),
    "admin_email": (
        "ADMIN_EMAIL",
        "Email of the first member and admin (Cognito mails them a temporary password)",
        lambda v: None if _EMAIL.match(v) else "an email address",
    ),
}


# field -> environment variable, for settings that are optional and never asked
_OPTIONAL = {"mail_identity": "MAIL_IDENTITY", "mail_from": "MAIL_FROM", "team_name": "TEAM_NAME"}


def config_path(root: Path, stage: str) -> Path:
    return root / ".deploy" / f"{stage}.json"


def load_target(
    root: Path,
    env: Mapping[str, str],
    ask: Callable[[str], str] | None,
    say: Callable[[str], None] = print,
    needed: tuple[str, ...] = tuple(_ASK),
) -> Target:
    """The target of STAGE (default prod): environment first, then .deploy/<stage>.json, then questions.

    Answers are saved to the file, so the next run asks nothing. Without a way to ask
    (no terminal), a missing setting is an error naming its environment variable. Only
    the `needed` settings are asked for (removing a stack needs no email).
    """
    stage = env.get("STAGE") or "prod"
    if stage not in STAGES:
        raise TargetError(f"STAGE must be one of {', '.join(STAGES)}, not {stage!r}.")
    path = config_path(root, stage)
    saved: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    values: dict[str, str] = {"stage": stage}
    defaults = {
        "region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "",
        "stack_name": f"handover-{stage}",
    }
    asked = False
    for name, (variable, question, check) in _ASK.items():
        value = (env.get(variable) or saved.get(name) or "").strip()
        if not value and ask is None:
            value = defaults.get(name, "")  # nobody to ask: the stack name and region have defaults
        while name in needed and (not value or check(value)):
            if value:
                say(f"{variable}={value!r} is not valid: {check(value)}.")
            if ask is None:
                raise TargetError(f"Set {variable} ({question.lower()}), or run `make deploy` in a terminal.")
            default = defaults.get(name, "")
            answer = ask(f"{question}{f' [{default}]' if default else ''}: ").strip()
            value, asked = answer or default, True
        values[name] = value
    for name, variable in _OPTIONAL.items():
        values[name] = (env.get(variable) or saved.get(name) or "").strip()
    target = Target(**values)
    if asked:
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps({k: v for k, v in asdict(target).items() if k != "stage"}, indent=2) + "\n")
        say(f"Saved to {path.relative_to(root)}; edit it or set the environment variables to change them.")
    return target
