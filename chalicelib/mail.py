"""Email: queued by requests, rendered from templates/email/ and sent through SES v2 by the queue's handler.

A request never sends: it puts a few facts on the SQS queue (`queue`) and goes on, even
when the queue cannot be reached. The queue's handler (app.send_mail, or the dev stack's
worker locally) composes the mail from those facts and sends it; a failure is retried by
SQS and, after its last attempt, lands in the dead-letter queue (see notices.deliver).
Headers are built by SES from structured fields, and every text that becomes a header
is stripped of line breaks first, so nobody can add a header through a name or subject.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import formataddr
from typing import Any

from chalicelib import aws, pages, urls
from chalicelib.config import MAIL_QUEUE_NAME, get_settings

# SQS redrive moves a message to the dead-letter queue after this many receives (infra/ says the same).
MAX_ATTEMPTS = 3
# SES refuses a message over 50 recipients; we send one mail per person anyway.
_LINE_BREAKS = re.compile(r"[\r\n\x00-\x1f\x7f\u2028\u2029\x85]+")


@dataclass(frozen=True)
class Letter:
    """One mail to one person, rendered and ready to send; `file_id` is where a failure is recorded."""

    to: str
    subject: str
    text: str
    html: str
    kind: str
    file_id: str | None = None
    link_id: str | None = None


def one_line(text: str, limit: int = 200) -> str:
    """Text fit for a header: no line breaks or controls (header injection), not too long."""
    return _LINE_BREAKS.sub(" ", text).strip()[:limit]


def queue(kind: str, **facts: Any) -> None:
    """Ask for a mail to be sent; never fails the request that asks (it is logged instead)."""
    settings = get_settings()
    if not settings.mail_on:
        return
    facts["site"] = facts.get("site") or urls.current_site.get() or settings.public_url
    body = json.dumps({"kind": kind, "facts": facts}, default=str)
    try:
        aws.sqs().send_message(QueueUrl=queue_url(), MessageBody=body)
    except Exception as error:  # noqa: BLE001 - a lost mail must never fail the request
        print(json.dumps({"level": "ERROR", "message": "Could not queue a mail", "kind": kind, "error": repr(error)}))


_queue_url: dict[str, str] = {}


def queue_url() -> str:
    """The mail queue's URL: configured on AWS; asked by name once per process locally."""
    settings = get_settings()
    if settings.mail_queue_url:
        return settings.mail_queue_url
    if "url" not in _queue_url:
        _queue_url["url"] = aws.sqs().get_queue_url(QueueName=MAIL_QUEUE_NAME)["QueueUrl"]
    return _queue_url["url"]


DEAD_LETTERS = "handover-mail-failed"


def render(template: str, **context: Any) -> tuple[str, str, str]:
    """(subject, text, html) from templates/email/<template>.{subject,txt,html}."""
    settings = get_settings()
    context = {"team": settings.team_name, **context}
    subject = pages.render(f"email/{template}.subject", **context)
    text = pages.render(f"email/{template}.txt", **context)
    html = pages.render(f"email/{template}.html", **context)
    return one_line(subject, 150), text, html


def valid_address(address: str) -> bool:
    """Whether `address` is one mailbox that can go into a header as it is."""
    if one_line(address, 254) != address:
        return False
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError):
        return False
    return "@" in address


def send(letter: Letter) -> str:
    """Send one letter through SES v2; answers SES's message id. Errors are the caller's to judge."""
    settings = get_settings()
    if not valid_address(letter.to):
        raise ValueError("not a single mail address")
    sender = formataddr((one_line(settings.team_name, 80), settings.sender))
    answer = aws.sesv2().send_email(
        FromEmailAddress=sender,
        Destination={"ToAddresses": [letter.to]},
        Content={
            "Simple": {
                "Subject": {"Data": one_line(letter.subject, 150), "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": letter.text, "Charset": "UTF-8"},
                    "Html": {"Data": letter.html, "Charset": "UTF-8"},
                },
            }
        },
    )
    return answer.get("MessageId", "")
