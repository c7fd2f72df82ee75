"""The member API as the signed-in member: bearer token, one silent renewal on 401, refusals as `Refused`."""

from __future__ import annotations

import urllib.parse
from typing import Any

from handover_cli import http, login
from handover_cli.http import Answer


class Api:
    def __init__(self, session: dict[str, Any]) -> None:
        self.session = session
        self.site: str = session["site"]

    @classmethod
    def signed_in(cls) -> Api:
        return cls(login.current())

    def raw(self, method: str, path: str, body: Any = None) -> Answer:
        """The answer whatever its status; a token refused as expired is renewed once."""
        url = path if path.startswith("http") else f"{self.site}{path}"
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self.session['id_token']}", "Accept": "application/json"}
            answer = http.request(method, url, json_body=body, headers=headers)
            if answer.status != 401 or attempt == 2:
                return answer
            self.session = login.renew(self.session)
        raise AssertionError("unreachable")

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """The JSON answer of a successful request; anything else is the server's refusal."""
        answer = self.raw(method, path, body)
        if answer.status >= 400 or answer.status < 200:
            raise http.refusal(answer)
        return answer.json() if answer.body else None

    def each_file(self, folder_id: str | None = None) -> Any:
        """Every file and folder (in `folder_id`: only what it holds), newest first, across pages."""
        cursor = None
        while True:
            query = {k: v for k, v in {"folder_id": folder_id, "cursor": cursor, "limit": "100"}.items() if v}
            page = self.call("GET", f"/api/files?{urllib.parse.urlencode(query)}")
            yield from page["files"]
            cursor = page.get("next_cursor")
            if not cursor:
                return
