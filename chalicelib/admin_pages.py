"""The admin's pages: external users, collaborators and groups, read through the admin API's modules."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from chalicelib import collaborators, directory, link_policy, pages, people, shapes
from chalicelib.auth import Caller
from chalicelib.config import get_settings

TABS = ("people", "collaborators", "groups", "links")
_SORTABLE = ("signed_up_at", "last_login_at")


def _sort_link(kept: dict[str, str], query: shapes.PeopleQuery, column: str) -> tuple[str, str | None]:
    """A column header's link (newest first, or flipped when already sorted by it) and its aria-sort."""
    current = query.sort == column
    order = "asc" if current and query.descending else "desc"
    shown = ("descending" if query.descending else "ascending") if current else None
    return f"?{urlencode({**kept, 'tab': 'people', 'sort': column, 'order': order})}", shown


def render(viewer: Caller, params: dict[str, str], site: str) -> str:
    tab = params.get("tab", "people")
    if tab not in TABS:
        tab = "people"
    context: dict[str, Any] = {"site": site, "viewer": viewer, "tab": tab, "params": params}
    if tab == "people":
        query = shapes.people_query(params)
        found, cursor = people.list_external(query)
        kept = {k: v for k, v in params.items() if k not in ("cursor", "tab") and v}
        context.update(
            query=query,
            users=[people.describe(p) for p in found],
            next_page=f"?{urlencode({**kept, 'tab': 'people', 'cursor': cursor})}" if cursor else None,
            sort_by={column: _sort_link(kept, query, column) for column in _SORTABLE},
        )
    elif tab == "collaborators":
        context["collaborators"] = collaborators.collaborators_list()
        username = params.get("user")
        if username:
            _, folders = collaborators.folders_of_user(username)
            # The person by name or email, never by their Cognito id.
            shown = next((p for p in context["collaborators"] if p.username == username), None)
            label = (shown.name or shown.email) if shown else None
            context.update(selected=username, selected_label=label or "this person", folders=folders)
    elif tab == "links":
        context.update(policy=link_policy.current(), ceiling=get_settings().max_link_days)
    else:
        context["groups"] = directory.directory_groups()
    return pages.render("admin.html", **context)
