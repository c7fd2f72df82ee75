"""A stand-in for Lambda's Invoke API on loopback, for the app's own asynchronous functions.

`chalice local` serves only HTTP routes, and moto's Lambda needs Docker. The app invokes
its functions (the ZIP builder) with botocore's `invoke(InvocationType="Event")` as on AWS;
here that request reaches this server, which answers 202 as Lambda does and runs the same
handler function of app.py in a thread of this process, with the event Lambda would pass.
"""

from __future__ import annotations

import importlib
import json
import re
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_INVOKE = re.compile(r"^/2015-03-31/functions/([^/?]+)/invocations(\?.*)?\Z")


def _run(handler: str, event: dict[str, Any]) -> None:
    try:
        getattr(importlib.import_module("app"), handler)(event, None)
    except Exception:  # as on Lambda: logged, and the caller never hears of it
        print(json.dumps({"level": "ERROR", "function": handler, "traceback": traceback.format_exc()}), flush=True)


class LocalLambda:
    """Lambda's Invoke API for the functions named in `functions` (function name -> handler in app.py)."""

    def __init__(self, port: int, functions: dict[str, str]) -> None:
        self.functions = functions
        self.threads: list[threading.Thread] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                found = _INVOKE.match(self.path)
                payload = self.rfile.read(int(self.headers.get("content-length") or 0))
                handler = owner.functions.get(found.group(1)) if found else None
                if handler is None:
                    self._answer(404, "ResourceNotFoundException", "Function not found")
                elif self.headers.get("x-amz-invocation-type") != "Event":
                    self._answer(400, "InvalidParameterValueException", "Only asynchronous invocations here")
                else:
                    thread = threading.Thread(target=_run, args=(handler, json.loads(payload or b"{}")), daemon=True)
                    owner.threads.append(thread)
                    thread.start()
                    self.send_response(202)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def _answer(self, status: int, kind: str, message: str) -> None:
                body = json.dumps({"Type": "User", "message": message}).encode()
                self.send_response(status)
                self.send_header("x-amzn-ErrorType", kind)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                """Quiet: the stack's log holds the app's own lines."""

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
