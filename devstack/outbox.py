"""The local outbox: every mail moto's SES recorded, with its links clickable; `local` stage only.

moto keeps what `sesv2.send_email` was given and lists it under `ses.Message` in
`/moto-api/data.json` (the HTML part when a mail has one). `app.py` registers this blueprint
only when the stage is `local`, and its handler refuses any other stage too.
"""

from __future__ import annotations

import html
import json
import re
import urllib.request
from pathlib import Path
from typing import Any

from chalice import Blueprint, Response

from chalicelib import pages, web
from chalicelib.config import get_settings
from chalicelib.errors import NotFound

blueprint = Blueprint(__name__)
_TEMPLATES = Path(__file__).resolve().parent / "templates"
_HREF = re.compile(r"""href="([^"]+)\"""")
_TAG = re.compile(r"<[^>]+>")
_BLANK = re.compile(r"\n\s*\n+")


def recorded(endpoint: str) -> list[dict[str, Any]]:
    """The messages moto's SES recorded, oldest first."""
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=10) as answer:
        data = json.load(answer)
    return list(data.get("ses", {}).get("Message", []))


def as_read(message: dict[str, Any]) -> dict[str, Any]:
    """A recorded message as the outbox shows it: addressees, subject, its text, and its links."""
    body = message.get("body") or ""
    destinations = message.get("destinations") or {}
    text = _BLANK.sub("\n\n", html.unescape(_TAG.sub("", body))).strip() if "<" in body else body
    links = list(dict.fromkeys(html.unescape(href) for href in _HREF.findall(body)))
    if not links:
        links = list(dict.fromkeys(re.findall(r"https?://\S+", body)))
    return {
        "id": message.get("id"),
        "source": message.get("source"),
        "to": [a for addresses in destinations.values() for a in addresses],
        "subject": message.get("subject"),
        "text": text,
        "links": links,
    }


@blueprint.route("/", methods=["GET"])
def outbox() -> Response:
    if get_settings().stage != "local":
        raise NotFound("No such page.")
    call = web.call(blueprint.current_request)
    messages = [as_read(m) for m in reversed(recorded(get_settings().ses_endpoint))]
    page = pages.render("outbox/outbox.html", also_from=(_TEMPLATES,), site=call.site, viewer=None, messages=messages)
    return web.html_response(page)
