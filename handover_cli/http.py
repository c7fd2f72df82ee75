"""HTTP with the standard library: one request at a time, answers read whole or streamed, refusals as `Refused`."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import IO, Any

USER_AGENT = "handover-cli/1"


class Refused(Exception):  # noqa: N818 - what the server (or the network) did, not a programming error
    """An expected failure: printed as `code: message`, exit status 1."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise Refused("not_handover", "The answer is not JSON: is this a Handover site?") from None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_plain = urllib.request.build_opener(_NoRedirects)


def open_url(
    method: str,
    url: str,
    *,
    body: bytes | IO[bytes] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> Any:
    """The raw answer (any status), not yet read; redirects are answers too. Network trouble is `Refused`."""
    request = urllib.request.Request(
        url, data=body, method=method, headers={"User-Agent": USER_AGENT, **(headers or {})}
    )
    try:
        return _plain.open(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        return error
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        host = urllib.parse.urlsplit(url).netloc
        raise Refused("unreachable", f"Cannot reach {host}: {reason}.") from None


def request(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> Answer:
    """One request, its answer read whole."""
    all_headers = dict(headers or {})
    body = None
    if json_body is not None:
        body = json.dumps(json_body).encode()
        all_headers["Content-Type"] = "application/json"
    elif form is not None:
        body = urllib.parse.urlencode(form).encode()
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    with open_url(method, url, body=body, headers=all_headers, timeout=timeout) as answer:
        try:
            data = answer.read()
        except OSError as error:
            raise Refused("unreachable", f"The connection dropped: {error}.") from None
        return Answer(answer.status, answer.headers, data)


def refusal(answer: Answer) -> Refused:
    """The server's `{"error": {"code", "message"}}`, or a plain account of an answer without one."""
    try:
        error = json.loads(answer.body)["error"]
        return Refused(str(error["code"]), str(error["message"]))
    except (ValueError, KeyError, TypeError):
        return Refused(f"http_{answer.status}", f"The server answered {answer.status} without an explanation.")
