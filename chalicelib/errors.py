"""Domain errors: each has a stable `code` and an HTTP status; `web` turns them into responses."""

from __future__ import annotations

from chalice import ChaliceUnhandledError


# Subclassing ChaliceUnhandledError lets the error pass Chalice's own handler and reach
# our middleware, the one place that maps errors to JSON or to a page.
class HandoverError(ChaliceUnhandledError):
    status = 400
    code = "bad_request"
    # Where a person reading the error page can go next: (the words of the link, the route's view).
    way_out: tuple[str, str] | None = None

    def __init__(self, message: str, code: str | None = None, way_out: tuple[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if way_out:
            self.way_out = way_out


class BadRequest(HandoverError):
    status = 400
    code = "bad_request"


class Unauthorized(HandoverError):
    status = 401
    code = "unauthorized"


class LoginRequired(Unauthorized):
    """A page that needs a signed-in visitor: people are sent to sign in, scripts get 401."""

    code = "login_required"


class Forbidden(HandoverError):
    status = 403
    code = "forbidden"


class NotAllowed(Forbidden):
    """A signed-in visitor a link is not for; the page says who they are signed in as."""

    code = "not_allowed"

    def __init__(self, message: str, signed_in_as: str) -> None:
        super().__init__(message)
        self.signed_in_as = signed_in_as


class NotFound(HandoverError):
    status = 404
    code = "not_found"


class Conflict(HandoverError):
    status = 409
    code = "conflict"


class Gone(HandoverError):
    """A link that existed but no longer works: expired or revoked."""

    status = 410
    code = "link_gone"


class TooManyRequests(HandoverError):
    status = 429
    code = "too_many_requests"


class PasswordRequired(Forbidden):
    """A password link opened without its cookie: its page asks for the password, downloads refuse."""

    code = "password_required"
