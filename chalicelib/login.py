"""Sign-in through the hosted login page: OAuth2 authorization code with PKCE, state and nonce.

Between the redirect out and the callback, state, nonce, PKCE verifier and where to go
next travel in a short-lived signed cookie, so no server-side state is needed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from chalicelib import audit, auth, directory, keys, links, people, sessions, urls
from chalicelib.audit import Actor
from chalicelib.config import get_settings
from chalicelib.errors import BadRequest, Unauthorized

LOGIN_COOKIE = "handover_login"
NEXT_COOKIE = "handover_next"
_LOGIN_SECONDS = 600
# A path of this site: one leading slash (not "//host"), no backslashes or control characters.
_LOCAL_PATH = re.compile(r"^/(?![/\\])[^\\\x00-\x1f\x7f]*\Z")


@dataclass(frozen=True)
class Redirect:
    location: str
    cookies: list[str]


def safe_next(value: str | None, default: str = "/") -> str:
    """`next` only ever leads to a page of this site: anything else is refused."""
    if value is None or value == "":
        return default
    if not _LOCAL_PATH.match(value):
        raise BadRequest("next must be a path on this site, such as /portal.", "invalid_next")
    return value


def _is_https(site: str) -> bool:
    return site.startswith("https://")


def begin(site: str, next_path: str) -> Redirect:
    """Send the browser to the hosted login page."""
    settings = get_settings()
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": settings.user_pool_client_id,
            "redirect_uri": urls.url_for(site, "sign_in_callback"),
            "scope": "openid email profile",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    sealed = keys.seal(
        "login-v1", {"state": state, "nonce": nonce, "verifier": verifier, "next": next_path}, _LOGIN_SECONDS
    )
    cookie = sessions.set_cookie(LOGIN_COOKIE, sealed, _LOGIN_SECONDS, _is_https(site))
    return Redirect(f"{settings.login_domain}/oauth2/authorize?{query}", [cookie])


def finish(site: str, code: str | None, state: str | None, cookie_header: str | None, actor: Actor) -> Redirect:
    """Exchange the code, verify the ID token, and start a session; `actor` is where the request came from."""
    pending = keys.unseal("login-v1", sessions.cookie_value(cookie_header, LOGIN_COOKIE))
    if pending is None:
        raise BadRequest("This sign-in took too long or started elsewhere. Please sign in again.", "login_expired")
    if not code or not state or not hmac.compare_digest(state, pending["state"]):
        raise BadRequest("This sign-in does not match the one started here. Please sign in again.", "login_mismatch")
    tokens = _exchange(site, code, pending["verifier"])
    claims = auth.verify(tokens.get("id_token", ""), nonce=pending["nonce"])
    if claims.get("token_use") != "id":
        raise Unauthorized("The login page returned no ID token.", "invalid_token")
    person = directory.person(auth.username_of(claims))
    if person is None:
        raise Unauthorized("This account no longer exists or is disabled.", "invalid_token")
    people.record_sign_in(person)
    _, value = sessions.start(person.username, person.sub, person.label, audit.who(person))
    links.note_sign_in(pending["next"], person, Actor(audit.who(person), actor.ip, actor.user_agent))
    secure = _is_https(site)
    cookies = [
        sessions.set_cookie(sessions.COOKIE, value, get_settings().session_hours * 3600, secure),
        sessions.set_cookie(LOGIN_COOKIE, "", 0, secure),
    ]
    return Redirect(f"{site}{pending['next']}", cookies)


def _exchange(site: str, code: str, verifier: str) -> dict:
    settings = get_settings()
    body = urllib.parse.urlencode(
        {
            "grant_type": "authorization_code",
            "client_id": settings.user_pool_client_id,
            "code": code,
            "redirect_uri": urls.url_for(site, "sign_in_callback"),
            "code_verifier": verifier,
        }
    ).encode()
    request = urllib.request.Request(
        f"{settings.login_domain}/oauth2/token",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())
    except (urllib.error.URLError, ValueError):
        raise BadRequest("The login page did not accept this sign-in. Please sign in again.", "login_failed") from None


def logout(site: str, cookie_header: str | None, next_path: str) -> Redirect:
    """End the session here, then at the hosted login page, then go to `next`."""
    session = sessions.current(cookie_header)
    if session is not None:
        sessions.end(session)
    settings = get_settings()
    secure = _is_https(site)
    query = urllib.parse.urlencode(
        {"client_id": settings.user_pool_client_id, "logout_uri": urls.url_for(site, "signed_out")}
    )
    cookies = [
        sessions.set_cookie(sessions.COOKIE, "", 0, secure),
        sessions.set_cookie(
            NEXT_COOKIE, keys.seal("logout-v1", {"next": next_path}, _LOGIN_SECONDS), _LOGIN_SECONDS, secure
        ),
    ]
    return Redirect(f"{settings.login_domain}/logout?{query}", cookies)


def signed_out(site: str, cookie_header: str | None) -> Redirect:
    """Back from the hosted logout: go where the sign-out was asked to lead."""
    pending = keys.unseal("logout-v1", sessions.cookie_value(cookie_header, NEXT_COOKIE))
    next_path = pending["next"] if pending else "/"
    return Redirect(f"{site}{next_path}", [sessions.set_cookie(NEXT_COOKIE, "", 0, _is_https(site))])
