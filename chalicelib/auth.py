"""Who is calling: a Cognito token verified in our own code, or a browser session.

API Gateway's Cognito authorizer is not enough on its own: `chalice local` and the test
client do not validate it at all, so every token is checked here. The person behind a
token or session is then read fresh from Cognito (directory.py).
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import lru_cache
from types import ModuleType
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import msgspec
from chalice.app import Request

from chalicelib import directory, sessions
from chalicelib.config import get_settings
from chalicelib.directory import ADMINS, Person
from chalicelib.errors import Forbidden, LoginRequired, Unauthorized
from chalicelib.models import SessionRecord

if TYPE_CHECKING:
    import jwt

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class Caller(msgspec.Struct, frozen=True):
    person: Person
    session: SessionRecord | None  # None when the caller sent a bearer token

    @property
    def label(self) -> str:
        return self.person.label

    @property
    def csrf_token(self) -> str | None:
        """What pages embed so scripts can make state-changing requests with the cookie."""
        return sessions.csrf_token(self.session) if self.session else None


def _jwt() -> ModuleType:
    """PyJWT, and cryptography with it: imported with the first token verified, not at cold start."""
    import jwt

    return jwt


@lru_cache(maxsize=1)
def _jwks() -> jwt.PyJWKClient:
    return _jwt().PyJWKClient(get_settings().cognito_jwks_url, cache_keys=True, lifespan=3600, timeout=5)


def verify(token: str, nonce: str | None = None) -> dict:
    """The claims of a Cognito ID or access token, or Unauthorized.

    Checks the RS256 signature against the pool's JWKS, `iss`, `exp`, `token_use`, the app
    client (`aud` on ID tokens, `client_id` on access tokens) and, when given, the `nonce`.
    """
    settings = get_settings()
    jwt = _jwt()
    try:
        if jwt.get_unverified_header(token).get("alg") != "RS256":
            raise jwt.InvalidTokenError("unexpected algorithm")
        key = _jwks().get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            issuer=settings.cognito_issuer,
            options={"require": ["exp", "iss", "sub", "token_use"], "verify_aud": False},
        )
    except (jwt.PyJWTError, ValueError) as error:
        raise Unauthorized(f"The token is not valid: {error}.", "invalid_token") from None
    use = claims.get("token_use")
    client = claims.get("aud") if use == "id" else claims.get("client_id") if use == "access" else None
    if client != settings.user_pool_client_id:
        raise Unauthorized("The token was issued for another application.", "invalid_token")
    if nonce is not None and claims.get("nonce") != nonce:
        raise Unauthorized("The token was issued for another sign-in.", "invalid_token")
    return claims


def username_of(claims: dict) -> str:
    return claims.get("cognito:username") or claims.get("username") or claims["sub"]


def _bearer_person(authorization: str) -> Person:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send `Authorization: Bearer <token>`.", "missing_token")
    person = directory.person(username_of(verify(token.strip())))
    if person is None:
        raise Unauthorized("This account no longer exists or is disabled.", "invalid_token")
    return person


# The kind of the request's caller, for the request log line (web.middleware resets it).
caller_kind: ContextVar[str] = ContextVar("caller_kind", default="anonymous")


def _kind(person: Person) -> str:
    return "admin" if ADMINS in person.groups else "member" if person.is_member else "external"


def caller(request: Request) -> Caller | None:
    """The signed-in caller, from a bearer token or a session cookie; None for anonymous."""
    authorization = request.headers.get("authorization")
    if authorization:
        found = Caller(_bearer_person(authorization), None)
        caller_kind.set(_kind(found.person))
        return found
    return session_caller(sessions.current(request.headers.get("cookie")))


def session_caller(session: SessionRecord | None) -> Caller | None:
    """The person behind a session as Cognito knows them now."""
    if session is None:
        return None
    person = directory.person(session.username)
    if person is None:  # deleted or disabled since signing in: the session ends here
        sessions.end(session)
        return None
    caller_kind.set(_kind(person))
    return Caller(person, session)


MEMBER = "member"
ADMIN = "admin"


def require(found: Caller | None, role: str, *, page: bool) -> Caller:
    """The caller, if they hold `role` (MEMBER or ADMIN): the one gate of API routes and pages alike.

    Anonymous callers are sent to sign in (pages) or answered 401 (API); others are refused
    with 403. Admins are members who also manage people: `admins` alone is not enough.
    """
    if found is None:
        if page:
            raise LoginRequired("Sign in to continue.")
        raise Unauthorized("Sign in: send `Authorization: Bearer <token>`.", "missing_token")
    if not found.person.is_member:
        raise Forbidden(
            f"This is for members of the team, and {found.person.label} is not one. "
            "What was shared with you is in your list of shared files.",
            "not_a_member",
            way_out=("Open what was shared with you", "portal"),
        )
    if role == ADMIN and ADMINS not in found.person.groups:
        raise Forbidden("Only admins of the team can do this.", "not_an_admin")
    return found


def check_csrf(request: Request, found: Caller | None) -> None:
    """State-changing requests made with a session cookie must carry the session's CSRF token."""
    if found is None or found.session is None or request.method in SAFE_METHODS:
        return
    sent = request.headers.get("x-csrf-token") or form_field(request, "csrf_token")
    if not sessions.csrf_ok(found.session, sent):
        raise Forbidden("The request lacks this session's CSRF token; reload the page.", "csrf_failed")


def form_field(request: Request, name: str) -> str | None:
    """A field of an HTML form's POST body (application/x-www-form-urlencoded), or None."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded" or not request.raw_body:
        return None
    try:
        fields = parse_qs(request.raw_body.decode(), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return None
    values = fields.get(name)
    return values[0] if values else None
