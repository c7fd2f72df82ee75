"""What the app asks of AWS while a block runs, seen at botocore's one door (every client, pynamodb's too).

Shared by the tests (through conftest's fixtures) and `make bench`.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any


@contextlib.contextmanager
def _watching(each: Callable[[Any, Any], None], this_thread: bool) -> Iterator[None]:
    """`this_thread`: only calls made by the thread that watches, not by the local stack's
    workers (the stand-in scanner polls S3 meanwhile); the app must then run in that thread."""
    import botocore.endpoint

    send = botocore.endpoint.Endpoint._send
    watcher = threading.get_ident()

    def spy(endpoint: Any, request: Any) -> Any:
        response = send(endpoint, request)
        if not this_thread or threading.get_ident() == watcher:
            each(request, response)
        return response

    botocore.endpoint.Endpoint._send = spy
    try:
        yield
    finally:
        botocore.endpoint.Endpoint._send = send


def _target(request: Any) -> str:
    return request.headers.get("X-Amz-Target", b"").decode()


@contextlib.contextmanager
def aws_operations(service: str = "", this_thread: bool = False) -> Iterator[list[str]]:
    """The operations sent meanwhile, in order; only one service's, given its X-Amz-Target prefix
    (such as "AWSCognitoIdentityProviderService.")."""
    seen: list[str] = []

    def each(request: Any, response: Any) -> None:
        target = _target(request)
        if target.startswith(service):
            seen.append(target.rpartition(".")[2] or f"{request.method} {request.url.split('?')[0]}")

    with _watching(each, this_thread):
        yield seen


@contextlib.contextmanager
def aws_requests(this_thread: bool = False) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """The JSON-protocol calls sent meanwhile (DynamoDB, Cognito), as (X-Amz-Target, body): what
    a plain client needs to make the same calls again."""
    seen: list[tuple[str, dict[str, Any]]] = []

    def each(request: Any, response: Any) -> None:
        if target := _target(request):
            seen.append((target, json.loads(request.body or b"{}")))

    with _watching(each, this_thread):
        yield seen


@contextlib.contextmanager
def items_read(this_thread: bool = False) -> Iterator[list[int]]:
    """The items DynamoDB reads meanwhile, summed in `[0]`: Query's ScannedCount, BatchGetItem's and GetItem's items."""
    read = [0]

    def each(request: Any, response: Any) -> None:
        operation = _target(request).rpartition(".")[2]
        if operation in ("Query", "BatchGetItem", "GetItem") and response.status_code == 200:
            body = json.loads(response.content)
            read[0] += body.get("ScannedCount", 0) + sum(len(items) for items in body.get("Responses", {}).values())
            read[0] += 1 if "Item" in body else 0

    with _watching(each, this_thread):
        yield read
