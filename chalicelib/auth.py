"""Who is calling: Cognito JWTs verified in our own code against the pool's JWKS.

API Gateway's Cognito authorizer is not enough on its own: `chalice local` and the test
client do not validate it at all, so every token is checked here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import jwt

from chalicelib.config import get_settings
from chalicelib.errors import Forbidden, Unauthorized

MEMBERS = "members"
ADMINS = "admins"


@dataclass(frozen=True)
class Identity:
    """A signed-in person: their Cognito `sub`, email (if the token says) and groups."""

    sub: str
    email: str | None
    groups: frozenset[str]

    @property
    def is_member(self) -> bool:
        return MEMBERS in self.groups


@lru_cache(maxsize=1)
def _jwks() -> jwt.PyJWKClient:
    return jwt.PyJWKClient(get_settings().cognito_jwks_url, cache_keys=True, lifespan=3600, timeout=5)


def verify(token: str) -> Identity:
    """The identity a Cognito ID or access token proves, or Unauthorized.

    Checks the RS256 signature against the pool's JWKS, `iss`, `exp`, `token_use`, and the
    app client (`aud` on ID tokens, `client_id` on access tokens).
    """
    settings = get_settings()
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
    return Identity(
        sub=claims["sub"],
        # Only a verified email names a person; anyone can sign up with any address.
        email=claims.get("email") if claims.get("email_verified") in (True, "true") else None,
        groups=frozenset(claims.get("cognito:groups", [])),
    )


def bearer_identity(authorization: str | None) -> Identity:
    if not authorization:
        raise Unauthorized("Sign in: send `Authorization: Bearer <token>`.", "missing_token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send `Authorization: Bearer <token>`.", "missing_token")
    return verify(token.strip())


def member(authorization: str | None) -> Identity:
    """The calling member; anyone else is refused (401 without a valid token, 403 if not a member)."""
    identity = bearer_identity(authorization)
    if not identity.is_member:
        raise Forbidden("Only members of the team can do this.", "not_a_member")
    return identity
