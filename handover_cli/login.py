"""Signing in from a terminal: the hosted login page, authorization code with PKCE, on a loopback callback.

Cognito matches callback URLs exactly, port included, so the callback is one fixed URL
registered on the app client (infra/resources.json and the local stack register it).
The site's OpenAPI document names the login page and the public client id, so a site's
URL is all a user types. The refresh token renews the ID token silently until it expires.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import json
import os
import secrets
import time
import urllib.parse
import webbrowser
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from handover_cli import http, store
from handover_cli.http import Refused

CALLBACK_PORT = 53417
CALLBACK_PATH = "/callback"
PORT_VARIABLE = "HANDOVER_LOGIN_PORT"  # for a stack that registers another port (the tests use a free one)
_WAIT_SECONDS = 300
_EARLY_SECONDS = 60  # renew a token this long before it expires


def callback_url(port: int = CALLBACK_PORT) -> str:
    return f"http://localhost:{port}{CALLBACK_PATH}"


def _port() -> int:
    value = os.environ.get(PORT_VARIABLE, "")
    return int(value) if value.isdigit() else CALLBACK_PORT


def site_url(site: str) -> str:
    site = site.strip().rstrip("/")
    if not site.startswith(("http://", "https://")):
        site = f"https://{site}"
    return site


def discover(site: str) -> dict[str, str]:
    """The site's hosted login page and app client, from its OpenAPI document."""
    answer = http.request("GET", f"{site}/api/openapi.json", timeout=30)
    document = answer.json() if answer.status == 200 else None
    schemes = (document or {}).get("components", {}).get("securitySchemes", {}) if isinstance(document, dict) else {}
    login = schemes.get("hostedLogin") if isinstance(schemes, dict) else None
    try:
        flow = login["flows"]["authorizationCode"]
        return {"authorize": flow["authorizationUrl"], "token": flow["tokenUrl"], "client_id": login["x-client-id"]}
    except (TypeError, KeyError):
        raise Refused("not_handover", f"{site} does not describe a Handover sign-in in /api/openapi.json.") from None


def _claims(token: str) -> dict[str, Any]:
    """A JWT's claims, unverified: the server verifies; here they only say when and who."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}


class _Callback(BaseHTTPRequestHandler):
    """Takes the one redirect back from the login page, then says so in the browser."""

    result: dict[str, str] = {}

    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        parsed = urllib.parse.urlsplit(self.path)
        if parsed.path != CALLBACK_PATH:
            self.send_error(404)
            return
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query).items()}
        self.server.result = query  # type: ignore[attr-defined]
        done = "code" in query
        text = "Signed in. You can close this tab and go back to the terminal." if done else "Sign-in failed."
        body = f"<!doctype html><title>Handover</title><p>{html.escape(text)}</p>".encode()
        self.send_response(200 if done else 400)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass  # the terminal is the user's


def sign_in(site: str, open_browser: bool, say: Callable[[str], None]) -> dict[str, Any]:
    """The whole flow: the login page in a browser, the code on the loopback, the tokens kept."""
    login = discover(site)
    port = _port()
    redirect_uri = callback_url(port)
    try:
        server = HTTPServer(("127.0.0.1", port), _Callback)
    except OSError:
        raise Refused(
            "port_busy", f"Port {port} on this computer is busy; the sign-in needs it for a moment."
        ) from None
    server.result = None  # type: ignore[attr-defined]
    state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": login["client_id"],
            "redirect_uri": redirect_uri,
            "scope": "openid email profile",
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    url = f"{login['authorize']}?{query}"
    if open_browser and webbrowser.open(url):
        say(f"Your browser opens the sign-in page. If it does not, open this address:\n{url}")
    else:
        say(f"Open this address in a browser on this computer to sign in:\n{url}")
    server.timeout = 1
    deadline = time.monotonic() + _WAIT_SECONDS
    try:
        while server.result is None and time.monotonic() < deadline:  # type: ignore[attr-defined]
            server.handle_request()
    finally:
        server.server_close()
    result = server.result  # type: ignore[attr-defined]
    if not result:
        raise Refused("login_timeout", f"No sign-in came back within {_WAIT_SECONDS // 60} minutes.")
    if "error" in result:
        raise Refused("login_failed", f"The login page refused: {result.get('error_description') or result['error']}.")
    if not secrets.compare_digest(result.get("state", ""), state) or not result.get("code"):
        raise Refused("login_mismatch", "The sign-in that came back is not the one started here. Try again.")
    answer = http.request(
        "POST",
        login["token"],
        form={
            "grant_type": "authorization_code",
            "client_id": login["client_id"],
            "code": result["code"],
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
    )
    tokens = answer.json() if answer.status == 200 else {}
    if not tokens.get("id_token") or not tokens.get("refresh_token"):
        raise Refused("login_failed", "The login page did not hand out tokens for this sign-in. Try again.")
    session = {"site": site, "client_id": login["client_id"], "token_url": login["token"], **_tokens(tokens)}
    session["refresh_token"] = tokens["refresh_token"]
    store.save_session(session)
    return session


def _tokens(tokens: dict[str, Any]) -> dict[str, Any]:
    claims = _claims(tokens["id_token"])
    return {
        "id_token": tokens["id_token"],
        "expires_at": int(claims.get("exp") or time.time() + int(tokens.get("expires_in", 3600))),
        "email": claims.get("email") or claims.get("cognito:username") or "",
    }


def current(site: str | None = None) -> dict[str, Any]:
    """The kept session, renewed if its token is about to expire; `site`: only a session of that site."""
    session = store.load_session()
    if session is None or (site is not None and session.get("site") != site):
        where = f" to {site}" if site else ""
        raise Refused("not_signed_in", f"You are not signed in{where}: run `handover login --site URL` first.")
    if session["expires_at"] - _EARLY_SECONDS < time.time():
        session = renew(session)
    return session


def renew(session: dict[str, Any]) -> dict[str, Any]:
    """New tokens from the refresh token; an ended session says how to sign in again."""
    answer = http.request(
        "POST",
        session["token_url"],
        form={
            "grant_type": "refresh_token",
            "client_id": session["client_id"],
            "refresh_token": session["refresh_token"],
        },
    )
    tokens = answer.json() if answer.status == 200 else {}
    if not tokens.get("id_token"):
        raise Refused(
            "session_expired", f"Your session has ended: run `handover login --site {session['site']}` again."
        )
    session = {**session, **_tokens(tokens)}
    store.save_session(session)
    return session


def sign_out() -> bool:
    """Revoke the refresh token at the login page (Cognito's `/oauth2/revoke`), then forget the session.

    Forgetting is what counts: a login page that cannot revoke (the local stand-in) or
    cannot be reached still leaves nothing here to sign in with.
    """
    session = store.load_session()
    if session is None:
        return store.forget_session()
    revoke_url = session["token_url"].rsplit("/", 1)[0] + "/revoke"
    with contextlib.suppress(Refused):
        http.request("POST", revoke_url, form={"token": session["refresh_token"], "client_id": session["client_id"]})
    return store.forget_session()
