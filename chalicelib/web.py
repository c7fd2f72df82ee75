"""HTTP plumbing: responses, security headers, the error mapping and the request log line."""

from __future__ import annotations

import json
import logging
import time
import traceback
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from functools import cached_property, lru_cache
from typing import Any
from urllib.parse import urlencode

import msgspec
from chalice.app import CaseInsensitiveMapping, Chalice, Request, Response

from chalicelib import audit, auth, pages, sessions, shapes, storage, urls
from chalicelib.audit import Actor
from chalicelib.auth import Caller
from chalicelib.config import get_settings
from chalicelib.directory import Person
from chalicelib.errors import HandoverError, LoginRequired, NotAllowed, NotFound
from chalicelib.models import SessionRecord

# Tokens live in URLs: no referrer leaves a page, nothing is cached or indexed.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data: {s3}; script-src 'self'; "
        "connect-src 'self' {s3}; frame-src {s3}; form-action 'self' {s3}; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
}


@lru_cache(maxsize=1)
def _security_headers() -> dict[str, str]:
    # Uploads go from the page straight to S3, so its scripts may connect to the bucket; previews
    # (images, and PDFs and text in a frame) come from it too; the Download button's POST is
    # redirected to the bucket, which form-action governs too.
    csp = _SECURITY_HEADERS["Content-Security-Policy"].replace("{s3}", " ".join(storage.browser_origins()))
    return {**_SECURITY_HEADERS, "Content-Security-Policy": csp}


FORM = "application/x-www-form-urlencoded"  # what an HTML form POSTs

_PAGE_TITLES = {
    400: "This request could not be handled",
    401: "Please sign in",
    403: "You do not have access",
    404: "This link does not work",
    410: "This link is no longer available",
    429: "Please wait a moment",
}
_PAGE_HINTS = {
    404: "Ask the person who sent it to you for a new link.",
    410: "Ask the person who shared it with you for a new link.",
}


def json_response(body: Any, status: int = 200) -> Response:
    """JSON of plain values and of shapes (msgspec Structs), which encode as they are declared."""
    try:
        text = msgspec.json.encode(body).decode()
    except UnicodeEncodeError:  # a lone surrogate someone sent, quoted back in a message: escape it
        text = json.dumps(msgspec.to_builtins(body))
    return Response(body=text, status_code=status, headers={"Content-Type": "application/json"})


def html_response(html: str, status: int = 200) -> Response:
    return Response(body=html, status_code=status, headers={"Content-Type": "text/html; charset=utf-8"})


def csv_response(text: str, filename: str, next_part: str | None = None) -> Response:
    """A CSV download; `next_part` is the URL of what did not fit, for a `Link: rel="next"` header."""
    headers = {"Content-Type": "text/csv; charset=utf-8", "Content-Disposition": storage.content_disposition(filename)}
    if next_part:
        headers["Link"] = f'<{next_part}>; rel="next"'
    return Response(body=text, headers=headers)


def redirect(location: str, cookies: list[str] | None = None, status: int = 302) -> Response:
    """A redirect; 303 after a form's POST, so the browser follows with a GET."""
    headers: dict[str, Any] = {"Location": location}
    if cookies:
        headers["Set-Cookie"] = cookies
    return Response(body="", status_code=status, headers=headers)


def static_response(name: str) -> Response:
    found = pages.static_file(name)
    if found is None:
        raise NotFound("No such file.")
    body, content_type = found
    headers = {"Content-Type": content_type, "Cache-Control": "public, max-age=3600"}
    return Response(body=body, headers=headers)


def site_url(request: Request) -> str:
    """The site's absolute URL, for links handed to people outside.

    PUBLIC_URL wins; behind API Gateway's own domain the stage is part of the path.
    """
    configured = get_settings().public_url
    if configured:
        return configured
    host = request.headers.get("host", "127.0.0.1")
    if ".execute-api." in host:
        return f"https://{host}/{request.context.get('stage', '')}".rstrip("/")
    scheme = request.headers.get("x-forwarded-proto", "http")
    return f"{scheme}://{host}"


class Call:
    """One request as a route uses it: who is calling (if anyone), how the audit names them, the site.

    Cognito is asked who the caller is (`viewer`, `person`) only when something needs it,
    such as a gate or a link that requires sign-in: a public link's page and download name
    a signed-in visitor from their session, as they were when they signed in.
    """

    def __init__(self, request: Request) -> None:
        self.request = request

    @cached_property
    def session(self) -> SessionRecord | None:
        if self.request.headers.get("authorization"):
            return None
        found = sessions.current(self.request.headers.get("cookie"))
        if found is not None and found.who:
            # The request log's kind of caller until Cognito is asked, if ever: as at sign-in
            # (an admin shows as a member until then).
            auth.caller_kind.set("member" if found.who.startswith("member:") else "external")
        return found

    @cached_property
    def viewer(self) -> Caller | None:
        """Who is calling as Cognito knows them now, read on first use: routes that never ask pay nothing for it."""
        if self.request.headers.get("authorization"):
            return auth.caller(self.request)
        return auth.session_caller(self.session)

    @property
    def person(self) -> Person | None:
        return self.viewer.person if self.viewer else None

    @property
    def member(self) -> Person:
        """The calling member, on routes whose gate let only members in."""
        assert self.viewer is not None, "a route without a member gate asked for its member"
        return self.viewer.person

    @property
    def signed_in(self) -> bool:
        if "viewer" in self.__dict__:  # Cognito was asked: a deleted account's session has ended
            return self.viewer is not None
        return self.session is not None or bool(self.request.headers.get("authorization"))

    @property
    def label(self) -> str | None:
        """What "Signed in as" shows."""
        if self.session is not None and self.session.label and "viewer" not in self.__dict__:
            return self.session.label
        return self.viewer.label if self.viewer else None

    @property
    def csrf_token(self) -> str | None:
        return sessions.csrf_token(self.session) if self.session else None

    @property
    def actor(self) -> Actor:
        """From Cognito once it was asked; before that from the session, without asking."""
        if self.session is not None and self.session.who and "viewer" not in self.__dict__:
            return _actor(self.request, self.session.who)
        return actor(self.request, self.person)

    def shown(self) -> Call | None:
        """What a recipient's page shows as signed in: this caller, or None for an anonymous one."""
        return self if self.signed_in else None

    @cached_property
    def site(self) -> str:
        return site_url(self.request)

    @property
    def body(self) -> bytes | None:
        return self.request.raw_body

    @property
    def cookies(self) -> str | None:
        return self.request.headers.get("cookie")

    def form(self, name: str) -> str | None:
        """A field of an HTML form's POST (application/x-www-form-urlencoded)."""
        return auth.form_field(self.request, name)

    def query(self, name: str) -> str | None:
        return query(self.request, name)


def call(request: Request, role: str | None = None) -> Call:
    """The one way into a route: the role's gate, and CSRF for requests that change something.

    `role` None lets anyone in (recipients' pages); auth.MEMBER and auth.ADMIN are gates.
    A state-changing request made with a session cookie must carry the session's CSRF token.
    """
    current = Call(request)
    if role is not None:
        auth.require(current.viewer, role, page=not _wants_json(request))
    if request.method not in auth.SAFE_METHODS:
        auth.check_csrf(request, current.viewer)
    return current


def actor(request: Request, person: Person | None = None) -> Actor:
    return _actor(request, audit.who(person))


def _actor(request: Request, who: str) -> Actor:
    return Actor(
        who=who,
        ip=request.context.get("identity", {}).get("sourceIp"),
        user_agent=request.headers.get("user-agent"),
    )


def query(request: Request, name: str) -> str | None:
    return (request.query_params or {}).get(name)


def _wants_json(request: Request) -> bool:
    """The member API, the upload APIs (scripts, the pages' uploader) and the profile form's script speak JSON."""
    path = request.path  # the route pattern, e.g. /s/{token}/uploads
    if path == "/profile" and request.method == "POST":  # the profile page's script
        return True
    return path == "/api" or path.startswith(
        ("/api/", "/s/{token}/uploads", "/s/{token}/zip", "/portal/folders/{folder_id}/uploads")
    )


def error_response(error: HandoverError, request: Request) -> Response:
    """JSON for the APIs, a readable page for people following a link."""
    if _wants_json(request):
        return json_response(shapes.Error(shapes.ErrorDetail(error.code, error.message)), error.status)
    site = site_url(request)
    here = _path_with_query(request)
    if isinstance(error, LoginRequired):
        return redirect(urls.url_for(site, "sign_in", next=here))
    switch_account = request_access = viewer = None
    if isinstance(error, NotAllowed):
        switch_account = urls.url_for(site, "sign_out", next=urls.path_for("sign_in", next=here))
        if request.path == "/s/{token}" and request.method == "GET" and get_settings().mail_on:
            # Someone a link is not for may ask its owner for it (with the session's CSRF token).
            request_access = urls.url_for(site, "request_access", token=(request.uri_params or {}).get("token", ""))
            viewer = Call(request)

    way_out = (error.way_out[0], urls.url_for(site, error.way_out[1])) if error.way_out else None
    html = pages.render(
        "error.html",
        site=site,
        way_out=way_out,
        title=_PAGE_TITLES.get(error.status, "Something went wrong"),
        message=error.message,
        code=error.code,  # for scripts (the `handover` command): the same code the API's JSON gives
        hint=_PAGE_HINTS.get(error.status),
        signed_in_as=getattr(error, "signed_in_as", None),
        switch_account=switch_account,
        request_access=request_access,
        viewer=viewer,
    )
    return html_response(html, error.status)


def _path_with_query(request: Request) -> str:
    """The path asked for (without API Gateway's stage), as a `next` to come back to after signing in."""
    # Chalice's request.path is the route pattern; the event holds the real path.
    path = request.to_original_event().get("path") or request.context.get("path") or "/"
    # A lone surrogate (an event's JSON can hold one) has no UTF-8 form: it cannot go into a URL.
    path = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in path)
    query = urlencode(request.query_params or {}, errors="replace")
    return f"{path}?{query}" if query else path


def _internal_error_message(request_id: str) -> str:
    """What an unexpected failure tells the person: try again, and the id that finds its log line."""
    return f"Something went wrong on our side. Please try again; if it persists, quote {request_id}."


def _own_error_shape(response: Response, request: Request, request_id: str) -> Response:
    """Chalice answers some errors itself (405, 415, 500) as {"Code", "Message"}: reshape them.

    A 500 is an exception nothing expected: its answer carries the request id, which the
    log line with its traceback carries too, so a person's report leads to the cause.
    """
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict) or "Code" not in body:
        return response
    status = response.status_code
    code = {405: "method_not_allowed", 415: "unsupported_media_type"}.get(status, "bad_request")
    if status >= 500:
        code = "internal_error"
        message = _internal_error_message(request_id)
    else:
        message = str(body.get("Message", ""))
    error = HandoverError(message, code)
    error.status = status
    reshaped = error_response(error, request)
    reshaped.headers.update({k: v for k, v in response.headers.items() if k.lower() == "allow"})
    return reshaped


_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def _log(line: dict[str, Any]) -> None:
    """One JSON line on stdout (CloudWatch on Lambda)."""
    print(json.dumps({"request_id": _request_id.get(), **line}, default=str), flush=True)


class _JsonLines(logging.Handler):
    """Log records (Chalice's "Caught exception" with its traceback among them) as JSON lines."""

    def emit(self, record: logging.LogRecord) -> None:
        line: dict[str, Any] = {"level": record.levelname, "message": record.getMessage()}
        if record.exc_info:
            line["traceback"] = "".join(traceback.format_exception(*record.exc_info))
        _log(line)


def install(app: Chalice) -> None:
    """The app's one way in and out: this middleware, and its log as JSON lines."""
    app.log.handlers[:] = [_JsonLines()]
    app.log.setLevel(logging.INFO)
    app.log.propagate = False
    app.register_middleware(middleware, "http")
    urls.learn(app.routes)


def middleware(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """Map domain errors to responses, add security headers, and log one line per request."""
    started = time.perf_counter()
    context = request.context or {}
    lambda_context = getattr(request, "lambda_context", None)
    request_id = context.get("requestId") or getattr(lambda_context, "aws_request_id", None) or uuid.uuid4().hex
    reset = _request_id.set(request_id)
    reset_kind = auth.caller_kind.set("anonymous")
    reset_site = urls.current_site.set(site_url(request))
    try:
        if "accept" not in request.headers:
            # No Accept means anything goes (RFC 9110), but Chalice then refuses binary answers:
            # browsers send none for <a download>, as for a QR code's PNG.
            request.headers = CaseInsensitiveMapping({**request.headers, "accept": "*/*"})
        try:
            try:
                response = get_response(request)
            except HandoverError as error:
                response = error_response(error, request)
            response = _own_error_shape(response, request, request_id)
        except Exception:  # failed while answering (an error page that cannot render): still ours, with the id
            _log({"level": "ERROR", "message": "Failed while answering", "traceback": traceback.format_exc()})
            message = _internal_error_message(request_id)
            response = json_response(shapes.Error(shapes.ErrorDetail("internal_error", message)), 500)
        for name, value in _security_headers().items():
            response.headers.setdefault(name, value)
        # The route pattern, never the path: paths carry link tokens.
        _log(
            {
                "method": request.method,
                "route": context.get("resourcePath"),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "caller": auth.caller_kind.get(),  # anonymous, external, member or admin
            }
        )
        return response
    finally:
        auth.caller_kind.reset(reset_kind)
        urls.current_site.reset(reset_site)
        _request_id.reset(reset)
