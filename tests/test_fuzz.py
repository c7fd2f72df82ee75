"""No request answers 5xx: generated bodies, queries, paths and headers for every route, from anyone.

Every operation of the OpenAPI document and every page is called with values Hypothesis
generates (valid-looking ones from the document's schemas, and anything else), as
anonymous, a member, an admin, an external user (by token or browser session, with or
without the CSRF token), and with forged credentials and hostile headers. JSON routes
must answer 2xx/3xx, or 4xx with the error envelope; pages 2xx/3xx, or 4xx as a page.
The run is derandomized, so CI sees the same cases every time. Hand-written hostile
inputs (bottomless JSON, out-of-range offsets, odd digits, names that lie) follow.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlparse

import pytest
from conftest import shared_file, signed_in, upload
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from chalicelib import openapi

# Misses on /s/... are throttled per source: a source of its own keeps other tests' counts clean.
FUZZ_SOURCE = "198.51.100.23"
# Cases per route: about a minute for the module on two shared cores; raise it for a deeper run.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))

# No shrinking: a failure reports the case as generated, and the tier's time stays bounded.
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)

# Query parameters the pages read (app.py), beside any the document declares.
PAGE_QUERIES = ("folder", "cursor", "tab", "next", "code", "state")


@dataclass
class Tally:
    """What the tier did: requests by status class, and every 5xx with its exception."""

    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


TALLY = Tally()


class _Exceptions(logging.Handler):
    """Chalice logs a view's unexpected exception before answering 500: keep the last one."""

    def __init__(self) -> None:
        super().__init__()
        self.last: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.last = f"{type(record.exc_info[1]).__name__}: {str(record.exc_info[1])[:200]}"


@dataclass
class World:
    """Real credentials and real ids, so generated requests also get past the first checks."""

    client: Any = field(repr=False)
    identities: dict[str, dict[str, str]] = field(repr=False)
    values: dict[str, list[str]] = field(repr=False)
    exceptions: _Exceptions = field(repr=False)
    cookie: str  # the session cookie's name
    document: dict[str, Any] = field(repr=False)  # the OpenAPI document

    def send(self, method: str, path: str, headers: dict[str, str], body: bytes | None):
        self.exceptions.last = None
        try:
            answer = getattr(self.client.http, method)(path, headers=headers, body=body)
        except Exception as error:  # noqa: BLE001 - an exception escaping the app is a 5xx too
            TALLY.statuses["5xx"] += 1
            TALLY.failures.append(f"{method.upper()} {path[:120]}: escaped {type(error).__name__}: {error}")
            raise
        TALLY.statuses[f"{answer.status_code // 100}xx"] += 1
        if answer.status_code >= 500:
            TALLY.failures.append(f"{method.upper()} {path[:120]} body={(body or b'')[:120]!r}: {self.exceptions.last}")
        return answer


@pytest.fixture(scope="module")
def world(app, stack) -> World:
    from chalice.test import Client

    exceptions = _Exceptions()
    app.log.addHandler(exceptions)
    with Client(app) as client:
        client.http._local_gateway.event_converter.LOCAL_SOURCE_IP = FUZZ_SOURCE
        yield _build_world(client, stack, exceptions)
    app.log.removeHandler(exceptions)


def _build_world(client, stack, exceptions: _Exceptions) -> World:
    from conftest import Api

    member = Api(client, signed_in(stack, "fuzz-member@example.com"))
    admin = Api(client, signed_in(stack, "fuzz-admin@example.com", groups=("members", "admins")))
    guest = Api(client, signed_in(stack, "fuzz-guest@example.com", groups=()))
    file, link = shared_file(member, allow_upload=True)
    _, closed = shared_file(admin, require_login=True)
    folder = member.call("POST", "/api/folders", {"name": "Shared"}).data["file"]
    folder_link = member.call("POST", f"/api/files/{folder['file_id']}/links", {"allow_upload": True}).data["link"]
    invited = member.call(
        "POST", f"/api/files/{folder['file_id']}/collaborators", {"email": "fuzz-guest@example.com", "role": "upload"}
    )
    joined = guest.call("GET", urlparse(invited.data["invitation"]["url"]).path)
    assert joined.status_code == 302, joined.body
    plan = member.call("POST", f"/s/{link['token']}/uploads", {"name": "next.txt", "size": 3}).data["upload"]
    done = member.call("POST", f"/s/{link['token']}/uploads", {"name": "done.txt", "size": 2}).data["upload"]
    upload(done, b"ok")
    assert member.call("POST", f"/s/{link['token']}/uploads/{done['upload_id']}/complete").status_code == 200
    version = member.call("GET", f"/api/files/{file['file_id']}/versions").data["versions"][0]
    admin.call("POST", "/api/admin/groups", {"name": "fuzz-partners"})
    join_link = member.call("POST", f"/api/files/{folder['file_id']}/join-link", {"role": "view"}).data["join_link"]
    from chalicelib import sessions

    bearer = {"Content-Type": "application/json"}
    identities = {
        "anonymous": bearer,
        "member": {**bearer, "Authorization": f"Bearer {member.token}"},
        "admin": {**bearer, "Authorization": f"Bearer {admin.token}"},
        "guest": {**bearer, "Authorization": f"Bearer {guest.token}"},
        "forged": {**bearer, "Authorization": "Bearer " + ".".join([_b64({"alg": "none"}), _b64({"sub": "x"}), ""])},
        "basic": {**bearer, "Authorization": "Basic YWxpY2U6c2VjcmV0"},
        "forged session": {**bearer, "Cookie": f"{sessions.COOKIE}=forged.value; other=1"},
    }
    # Real browser sessions, with the page's CSRF token and without it.
    for name, api in (("member", member), ("guest", guest)):
        claims = json.loads(base64.urlsafe_b64decode(api.token.split(".")[1] + "=="))
        record, value = sessions.start(claims["cognito:username"], claims["sub"])
        cookie = {**bearer, "Cookie": f"{sessions.COOKIE}={value}"}
        identities[f"{name} session"] = {**cookie, "X-CSRF-Token": sessions.csrf_token(record)}
        identities[f"{name} session without csrf"] = cookie
    values = {
        "token": [link["token"], folder_link["token"], closed["token"]],
        "file_id": [file["file_id"], folder["file_id"]],
        "folder_id": [folder["file_id"], "root"],
        "upload_id": [plan["upload_id"], done["upload_id"]],
        "version_id": [version["version_id"]],
        "username": ["fuzz-guest@example.com", "fuzz-member@example.com"],
        "name": ["fuzz-partners", "members", "admins", "app.js"],
        "person": ["fuzz-guest@example.com", "group:fuzz-partners"],
        "request_id": ["fuzz-guest@example.com"],
    }
    values["token"].append(urlparse(join_link["url"]).path.rsplit("/", 1)[1])
    return World(client, identities, values, exceptions, sessions.COOKIE, openapi.document())


def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# --- what is generated ------------------------------------------------------------------


@pytest.fixture(scope="module")
def document(app) -> dict[str, Any]:
    return openapi.document()


def _operations() -> list[tuple[str, str]]:
    """Every documented operation, those that destroy the fixtures' world last.

    Read at collection, before the stack exists: the paths need no settings and no tables.
    """
    found = [(path, method) for path, item in openapi._paths().items() for method in item]

    def order(key: tuple[str, str]) -> int:
        path, method = key
        if method == "delete" or path.endswith("/delete"):
            return 3
        return 0 if not path.startswith("/api/") else 1 if method == "get" else 2

    return sorted(found, key=order)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
hostile_text = st.sampled_from(
    [
        "",
        " ",
        "..",
        "\u202egpj.exe",
        "a\u0085b",
        "\ud800",
        "\x00",
        "%00",
        "../../etc/passwd",
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+23:59",
        "\u0661\u0662",
        "\u00b2",
        "-1",
        "1e309",
        "x" * 3000,
        "[" * 2000,
        "<script>alert(1)</script>",
        "' OR 1=1 --",
    ]
)
texts = st.text() | hostile_text


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values that fit the document's (simple) schemas: the shapes a careful client would send."""
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kinds = schema.get("type", "string")
    if isinstance(kinds, list):
        return st.one_of(*(from_schema({**schema, "type": kind}) for kind in kinds))
    if kinds == "null":
        return st.none()
    if kinds == "boolean":
        return st.booleans()
    if kinds == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kinds == "array":
        items = from_schema(schema.get("items", {}))
        return st.lists(items, min_size=schema.get("minItems", 0), max_size=min(schema.get("maxItems", 5), 5))
    if kinds == "object":
        properties = {name: from_schema(sub) for name, sub in schema.get("properties", {}).items()}
        needed = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {name: value for name, value in properties.items() if name in needed},
            optional={name: value for name, value in properties.items() if name not in needed},
        )
    if schema.get("format") == "email":
        return st.emails()
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True)
    return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 40), 300))


def _as_query_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@st.composite
def _body(draw, operation: dict[str, Any], components: dict[str, Any]) -> bytes | None:
    shapes = [st.none().map(lambda _: None), json_values.map(json.dumps), texts]
    if "requestBody" in operation:
        name = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        valid = from_schema(components["schemas"][name]).map(json.dumps)
        # Each declared field holding anything at all.
        fields = list(components["schemas"][name]["properties"])
        loose = st.dictionaries(st.sampled_from(fields), json_values | hostile_text, max_size=len(fields))
        shapes = [valid, loose.map(json.dumps), *shapes]
    text = draw(st.one_of(*shapes))
    if text is None:
        return None
    return text.encode("utf-8", "surrogatepass")


@st.composite
def _query(draw, parameters: list[dict[str, Any]], names: tuple[str, ...] = ()) -> str:
    pairs = []
    declared = [(p["name"], p["schema"]) for p in parameters if p["in"] == "query"]
    declared += [(name, {"type": "string"}) for name in names]
    for name, schema in declared:
        if draw(st.booleans()):
            pairs.append((name, draw(from_schema(schema).map(_as_query_value) | texts)))
    if draw(st.booleans()):
        pairs.append((draw(st.text(min_size=1, max_size=8)), draw(texts)))
    query = urlencode(
        [(k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass")) for k, v in pairs], quote_via=quote
    )
    return f"?{query}" if query else ""


@st.composite
def _path(draw, template: str, values: dict[str, list[str]]) -> str:
    def fill(name: str) -> str:
        real = values.get(name, [])
        value = draw(st.sampled_from(real) | texts if real else texts) or "x"
        # What API Gateway hands the app is a path segment: percent-encoded, or raw but without `/?#%`.
        # (An empty segment is another path, which no route serves: API Gateway answers that itself.)
        if draw(st.booleans()):
            return quote(value.encode("utf-8", "surrogatepass"), safe="")
        # `;` too: chalice's local gateway (not API Gateway) cuts a path at it.
        return "".join(c for c in value if c not in "/?#%;") or "x"

    path = template
    for name in re.findall(r"{(\w+)}", template):
        path = path.replace("{" + name + "}", fill(name), 1)
    return path


@st.composite
def _headers(draw, world: World) -> dict[str, str]:
    headers = dict(world.identities[draw(st.sampled_from(sorted(world.identities)))])
    cookie = world.cookie
    hostile = {
        "Content-Type": ["application/json; charset=utf-8", "text/plain", "multipart/form-data", "", "ü/ü"],
        "Accept": ["*/*", "text/html", "application/json", "image/png", "", "\u00e9"],
        "Cookie": [f"{cookie}=", f"{cookie}=a.b.c", f"{cookie}=%ff%fe; {cookie}=x", "=;;=", "\u00e9=\u00e9"],
        "Authorization": ["Bearer", "Bearer ", "Bearer a.b.c", "bearer \u00e9", "Negotiate x" * 100],
        "X-CSRF-Token": ["", "x" * 500],
        "Host": ["", "evil.example", "[::1]:80", "\u00e9.example"],
        "X-Forwarded-Proto": ["javascript", ""],
    }
    for name in draw(st.lists(st.sampled_from(sorted(hostile)), max_size=3, unique=True)):
        headers[name] = draw(st.sampled_from(hostile[name]))
    return headers


# --- the properties ---------------------------------------------------------------------


def _check(world: World, method: str, template: str, answer, speaks_json: bool) -> None:
    context = f"{method.upper()} {template}"
    assert answer.status_code < 500, f"{context} answered {answer.status_code}: {world.exceptions.last}"
    if not 400 <= answer.status_code < 500:
        return
    if speaks_json:
        error = json.loads(answer.body)["error"]
        assert isinstance(error["code"], str) and error["code"], context
        assert isinstance(error["message"], str) and error["message"], context
    else:
        assert answer.headers["Content-Type"].startswith("text/html"), f"{context}: {answer.body[:200]!r}"


OPERATIONS = _operations()


@pytest.mark.parametrize(("template", "method"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS])
@FUZZ
@given(data=st.data())
def test_no_operation_answers_5xx(world, template, method, data):
    operation = world.document["paths"][template][method]
    path = data.draw(_path(template, world.values), label="path")
    query = data.draw(_query(operation.get("parameters", [])), label="query")
    headers = data.draw(_headers(world), label="headers")
    body = data.draw(_body(operation, world.document["components"]), label="body")
    answer = world.send(method, path + query, headers, body)
    page = any("text/html" in r.get("content", {}) for r in operation["responses"].values())
    _check(world, method, template, answer, speaks_json=not page)


@pytest.fixture(scope="module")
def page_routes(app, document) -> list[str]:
    """Every GET route the document leaves out: the pages."""
    return sorted(path for path, methods in app.routes.items() if "GET" in methods and path not in document["paths"])


def test_the_pages_are_every_get_route_the_document_leaves_out(page_routes):
    assert {"/", "/s/{token}", "/console", "/portal", "/admin"} <= set(page_routes)
    assert not any(path.startswith("/api/") for path in page_routes)


def test_no_page_answers_5xx(world, page_routes):
    for template in page_routes:
        _fuzz_page(world, template)


def _fuzz_page(world: World, template: str) -> None:
    @FUZZ
    @given(data=st.data())
    def check(data):
        path = data.draw(_path(template, world.values), label="path")
        query = data.draw(_query([], PAGE_QUERIES), label="query")
        headers = data.draw(_headers(world), label="headers")
        answer = world.send("get", path + query, headers, None)
        _check(world, "get", template, answer, speaks_json=False)

    check()


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    """How many cases ran and how they answered, on the terminal after the module."""
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    total = sum(TALLY.statuses.values())
    with capture.global_and_fixture_disabled():
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(TALLY.statuses.items()))
        reporter.write_line(f"\nfuzz: {total} requests; {counts}")
        for failure in TALLY.failures:
            reporter.write_line(f"fuzz 5xx: {failure}")


# --- hand-written hostile inputs ------------------------------------------------------------

DEEP = "[" * 100_000
OUT_OF_RANGE = ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59")
ODD_DIGITS = ("\u0661\u0662", "\u00b2", "\u0663", "\uff11")
# An unpaired surrogate, a right-to-left override, an isolate, a C1 control: names that lie or break.
LYING_NAMES = ("a\ud800b", "invoice\u202egpj.exe", "\u2066x\u2069", "a\u0085b", "a\u009bb")


def _admin_call(world: World, method: str, path: str, raw: str | None = None, who: str = "admin"):
    body = raw.encode("utf-8", "surrogatepass") if raw is not None else None
    return world.send(method, path, world.identities[who], body)


def _real(world: World, template: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: quote(world.values[m.group(1)][0], safe=""), template)


def _assert_refused(world: World, answer, context: str) -> None:
    assert answer.status_code < 500, f"{context} answered {answer.status_code}: {world.exceptions.last}"
    assert 400 <= answer.status_code < 500, context
    error = json.loads(answer.body)["error"]
    assert error["code"] and error["message"], context


def test_deeply_nested_json_bodies_are_refused(world, document):
    for template, item in document["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                answer = _admin_call(world, method, _real(world, template), DEEP)
                _assert_refused(world, answer, f"{method} {template}")
    # An anonymous recipient reaches the body through a link that allows uploads.
    path = f"/s/{quote(world.values['token'][0])}/uploads"
    _assert_refused(world, _admin_call(world, "post", path, DEEP, who="anonymous"), path)


def test_deeply_nested_cursors_are_refused(world, document):
    cursor = base64.urlsafe_b64encode(DEEP.encode()).decode()
    for template, item in document["paths"].items():
        for method, operation in item.items():
            if any(p["name"] == "cursor" for p in operation.get("parameters", [])):
                answer = _admin_call(world, method, f"{_real(world, template)}?cursor={cursor}")
                _assert_refused(world, answer, f"{method} {template}")


@pytest.mark.parametrize("moment", OUT_OF_RANGE)
def test_moments_outside_the_representable_range_are_refused(world, moment):
    file_id = quote(world.values["file_id"][0])
    token = quote(world.values["token"][0])
    body = json.dumps({"valid_until": moment})
    _assert_refused(world, _admin_call(world, "post", f"/api/files/{file_id}/links", body), "create_link")
    _assert_refused(world, _admin_call(world, "patch", f"/api/links/{token}", body), "change_link")
    for name in ("signed_up_from", "signed_up_to", "last_login_from", "last_login_to"):
        path = f"/api/admin/external-users?{urlencode({name: moment})}"
        _assert_refused(world, _admin_call(world, "get", path), name)


@pytest.mark.parametrize("limit", ODD_DIGITS)
def test_limits_in_digits_that_are_not_ascii_are_refused(world, document, limit):
    for template, item in document["paths"].items():
        for method, operation in item.items():
            if any(p["name"] == "limit" for p in operation.get("parameters", [])):
                answer = _admin_call(world, method, f"{_real(world, template)}?{urlencode({'limit': limit})}")
                _assert_refused(world, answer, f"{method} {template}")


@pytest.mark.parametrize("name", LYING_NAMES)
def test_names_with_surrogates_or_bidi_or_c1_controls_are_refused(world, name):
    file_id, token = quote(world.values["file_id"][0]), quote(world.values["token"][0])
    folder_id = quote(world.values["folder_id"][0])
    named = json.dumps({"name": name, "size": 3})
    calls = [
        ("post", "/api/files", named, "member"),
        ("post", "/api/folders", json.dumps({"name": name}), "member"),
        ("patch", f"/api/files/{file_id}", json.dumps({"name": name}), "member"),
        ("post", f"/s/{token}/uploads", named, "anonymous"),
        ("post", f"/portal/folders/{folder_id}/uploads", named, "guest"),
        ("post", "/api/admin/groups", json.dumps({"name": name}), "admin"),
        ("patch", "/api/admin/groups/fuzz-partners", json.dumps({"name": name}), "admin"),
    ]
    for method, path, body, who in calls:
        _assert_refused(world, _admin_call(world, method, path, body, who=who), f"{method} {path}")


def test_a_lone_surrogate_in_the_path_of_a_page_that_needs_sign_in_still_sends_to_sign_in(world):
    # Found by this tier: the sign-in redirect's `next` could not be percent-encoded (UnicodeEncodeError).
    folder_id = world.values["folder_id"][0]
    for path in ("/portal/folders/\ud800/files/x/download", f"/portal/folders/{folder_id}/files/\udfff/download"):
        answer = world.send("get", path, world.identities["anonymous"], None)

        assert answer.status_code == 302, world.exceptions.last
        assert "/auth/login?next=" in answer.headers["Location"]
