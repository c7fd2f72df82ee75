"""moto's server as the local stack runs it: with DynamoDB's atomicity, one DynamoDB request at a time.

moto's server answers on threads, and its DynamoDB checks a condition and then writes without
a lock, so two conditional updates can both pass where DynamoDB lets exactly one through
(measured: 4 of 50 parallel downloads passed a download limit of 3). Serialising the DynamoDB
requests gives the stack DynamoDB's per-item atomicity; the other services stay concurrent.
Dev-only: never packaged.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

_dynamodb = threading.Lock()


def serialised(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """The WSGI app, answering DynamoDB's JSON API (`X-Amz-Target: DynamoDB_...`) one request at a time."""

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with _dynamodb:
                return list(app(environ, start_response))  # the whole answer made inside the lock
        return app(environ, start_response)

    return serve


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))  # as moto_server sets it: some answers name the server
    run_simple(host, port, serialised(DomainDispatcherApplication(create_backend_app)), threaded=True)


if __name__ == "__main__":
    main()
