"""A stand-in for Cognito's hosted login pages, served in the `local` stage only.

moto has no hosted UI and no `/oauth2/token`. This blueprint plays their part on a laptop
and in tests: sign-in and sign-up forms that authenticate against moto's Cognito, an
authorization code with PKCE, and moto's own RS256 tokens. Cognito puts the request's
`nonce` into the ID token; moto cannot, so the ID token is re-signed here with moto's
published test key (the one its JWKS serves), adding the nonce. `app.py` registers this
blueprint only when the stage is `local`, and every handler refuses any other stage.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import importlib.util
import json
import secrets
import time
import urllib.parse
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from botocore.exceptions import ClientError
from chalice import Blueprint, Response

from chalicelib import pages, web
from chalicelib.aws import cognito
from chalicelib.config import get_settings
from chalicelib.errors import BadRequest, NotFound

blueprint = Blueprint(__name__)
_TEMPLATES = Path(__file__).resolve().parent / "templates"  # beside the app's, whose base.html they extend
_FORM = ["application/x-www-form-urlencoded"]
_OAUTH_FIELDS = ("client_id", "redirect_uri", "state", "nonce", "code_challenge", "code_challenge_method")
_codes: dict[str, dict[str, Any]] = {}  # authorization code -> what the token endpoint hands out
_signups: dict[str, dict[str, str]] = {}  # email -> confirmation code (shown on screen) and password


def _local_only() -> None:
    if get_settings().stage != "local":
        raise NotFound("No such page.")


def _form() -> dict[str, str]:
    raw = blueprint.current_request.raw_body or b""
    return {k: v[-1] for k, v in urllib.parse.parse_qs(raw.decode(), keep_blank_values=True).items()}


def _oauth(params: dict[str, str]) -> dict[str, str]:
    """The authorize request's parameters, checked as Cognito checks them."""
    oauth = {name: params.get(name, "") for name in _OAUTH_FIELDS}
    if oauth["redirect_uri"] not in _app_client(oauth["client_id"]).get("CallbackURLs", []):
        raise BadRequest("redirect_uri is not a callback URL of this app client.", "invalid_redirect_uri")
    if oauth["code_challenge_method"] != "S256" or not oauth["code_challenge"]:
        raise BadRequest("PKCE with S256 is required.", "invalid_request")
    return oauth


def _page(template: str, status: int = 200, **context: Any) -> Response:
    site = web.site_url(blueprint.current_request)
    page = pages.render(f"local_login/{template}", also_from=(_TEMPLATES,), site=site, **context)
    return web.html_response(page, status)


def _app_client(client_id: str) -> dict[str, Any]:
    settings = get_settings()
    if client_id != settings.user_pool_client_id:
        raise BadRequest("Unknown client_id.", "invalid_client")
    return cognito().describe_user_pool_client(UserPoolId=settings.user_pool_id, ClientId=client_id)["UserPoolClient"]


@blueprint.route("/oauth2/authorize", methods=["GET"])
def authorize() -> Response:
    _local_only()
    return _page("sign_in.html", oauth=_oauth(blueprint.current_request.query_params or {}))


@blueprint.route("/login", methods=["POST"], content_types=_FORM)
def sign_in() -> Response:
    _local_only()
    form = _form()
    oauth = _oauth(form)
    try:
        tokens = cognito().initiate_auth(
            ClientId=oauth["client_id"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": form.get("email", ""), "PASSWORD": form.get("password", "")},
        )["AuthenticationResult"]
    except ClientError:
        return _page("sign_in.html", 401, oauth=oauth, email=form.get("email"), error="Incorrect email or password.")
    return _back_to_app(oauth, tokens)


@blueprint.route("/signup", methods=["POST"], content_types=_FORM)
def sign_up() -> Response:
    _local_only()
    form = _form()
    oauth = _oauth(form)
    email = form.get("email", "").strip()
    if form.get("code") is None:
        password, name = form.get("password", ""), form.get("name", "").strip()
        # The pool requires a name (infra/resources.json); moto does not enforce it, so this page does.
        if not email or not password or not name:
            error = "Enter your name, an email and a password."
            return _page("sign_up.html", 400, oauth=oauth, email=email, name=name, error=error)
        try:
            cognito().sign_up(
                ClientId=oauth["client_id"],
                Username=email,
                Password=password,
                UserAttributes=[{"Name": "email", "Value": email}, {"Name": "name", "Value": name}],
            )
        except ClientError as error:
            message = error.response["Error"]["Message"]
            return _page("sign_up.html", 400, oauth=oauth, email=email, name=name, error=message)
        _signups[email] = {"code": f"{secrets.randbelow(10**6):06d}", "password": password}
        return _page("confirm.html", oauth=oauth, email=email, code=_signups[email]["code"])
    pending = _signups.get(email)
    if pending is None:
        return _page("sign_up.html", 400, oauth=oauth, email=email, error="Sign up again: that sign-up expired.")
    if not hmac.compare_digest(form["code"].strip(), pending["code"]):
        return _page("confirm.html", 400, oauth=oauth, email=email, code=pending["code"], error="Wrong code.")
    pool = get_settings().user_pool_id
    cognito().admin_confirm_sign_up(UserPoolId=pool, Username=email)
    cognito().admin_update_user_attributes(
        UserPoolId=pool, Username=email, UserAttributes=[{"Name": "email_verified", "Value": "true"}]
    )
    del _signups[email]
    tokens = cognito().initiate_auth(
        ClientId=oauth["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": pending["password"]},
    )["AuthenticationResult"]
    return _back_to_app(oauth, tokens)


@blueprint.route("/signup", methods=["GET"])
def sign_up_form() -> Response:
    _local_only()
    return _page("sign_up.html", oauth=_oauth(blueprint.current_request.query_params or {}))


def _back_to_app(oauth: dict[str, str], tokens: dict[str, str]) -> Response:
    code = secrets.token_urlsafe(24)
    _codes[code] = {"oauth": oauth, "tokens": tokens, "expires": time.time() + 60}
    query = urllib.parse.urlencode({"code": code, "state": oauth["state"]})
    return Response(body="", status_code=302, headers={"Location": f"{oauth['redirect_uri']}?{query}"})


@blueprint.route("/oauth2/token", methods=["POST"], content_types=_FORM)
def token() -> Response:
    _local_only()
    form = _form()
    if form.get("grant_type") == "refresh_token":
        return _refreshed(form)
    pending = _codes.pop(form.get("code", ""), None)
    if pending is None or pending["expires"] < time.time():
        return _token_error("invalid_grant")
    oauth = pending["oauth"]
    verifier = form.get("code_verifier", "")
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    if (
        form.get("grant_type") != "authorization_code"
        or form.get("client_id") != oauth["client_id"]
        or form.get("redirect_uri") != oauth["redirect_uri"]
        or not hmac.compare_digest(challenge, oauth["code_challenge"])
    ):
        return _token_error("invalid_grant")
    tokens = pending["tokens"]
    body = {
        "id_token": _with_nonce(tokens["IdToken"], oauth["nonce"]),
        "access_token": tokens["AccessToken"],
        "refresh_token": tokens.get("RefreshToken", ""),
        "token_type": "Bearer",
        "expires_in": tokens.get("ExpiresIn", 3600),
    }
    return Response(body=json.dumps(body), headers={"Content-Type": "application/json"})


def _refreshed(form: dict[str, str]) -> Response:
    """New ID and access tokens for a refresh token, as Cognito's token endpoint gives them (no new refresh token)."""
    _app_client(form.get("client_id", ""))
    try:
        tokens = cognito().initiate_auth(
            ClientId=form["client_id"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": form.get("refresh_token", "")},
        )["AuthenticationResult"]
    except ClientError:
        return _token_error("invalid_grant")
    body = {
        "id_token": tokens["IdToken"],
        "access_token": tokens["AccessToken"],
        "token_type": "Bearer",
        "expires_in": tokens.get("ExpiresIn", 3600),
    }
    return Response(body=json.dumps(body), headers={"Content-Type": "application/json"})


def _token_error(code: str) -> Response:
    return Response(body=json.dumps({"error": code}), status_code=400, headers={"Content-Type": "application/json"})


@lru_cache(maxsize=1)
def _moto_key() -> tuple[Any, str]:
    """moto's published private test key: the one its JWKS endpoint serves the public half of."""
    spec = importlib.util.find_spec("moto")
    resources = Path(next(iter(spec.submodule_search_locations))) / "cognitoidp" / "resources"
    jwk = json.loads(gzip.decompress((resources / "jwks-private.json.gz").read_bytes()))
    return jwt.algorithms.RSAAlgorithm.from_jwk(jwk), jwk["kid"]


def _with_nonce(id_token: str, nonce: str) -> str:
    claims = jwt.decode(id_token, options={"verify_signature": False})
    key, kid = _moto_key()
    return jwt.encode({**claims, "nonce": nonce}, key, algorithm="RS256", headers={"kid": kid})


@blueprint.route("/logout", methods=["GET"])
def logout() -> Response:
    _local_only()
    params = blueprint.current_request.query_params or {}
    logout_uri = params.get("logout_uri", "")
    if logout_uri not in _app_client(params.get("client_id", "")).get("LogoutURLs", []):
        raise BadRequest("logout_uri is not a sign-out URL of this app client.", "invalid_logout_uri")
    return Response(body="", status_code=302, headers={"Location": logout_uri})
