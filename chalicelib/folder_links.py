"""Folder links: what a link to a folder reaches (its subfolders and files) and downloads from it.

Apart from links.py because browsing walks the folders (files.py), while files.py itself
needs links.py to revoke and refresh links: imports go files -> links, never back.
"""

from __future__ import annotations

from itertools import takewhile

from chalicelib import files, links, storage
from chalicelib.errors import NotFound
from chalicelib.models import FileRecord, LinkRecord


def folder_view(link: LinkRecord, folder_id: str | None) -> tuple[FileRecord, list[FileRecord], list[FileRecord]]:
    """A folder link's folder (or a folder below it): the folder, the way down, and what it holds."""
    shared = _shared_folder(link)
    folder = shared if folder_id in (None, shared.file_id) else _below(shared, folder_id, "folder")
    below = (
        [] if folder is shared else [folder, *takewhile(lambda f: f.file_id != shared.file_id, files.ancestors(folder))]
    )
    return folder, [shared, *reversed(below)], files.children(folder)


def folder_file_url(link: LinkRecord, file_id: str, visitor: links.Visiting) -> str:
    """A presigned GET of a file somewhere below a folder link's folder."""
    links.check_access(link, visitor)
    item = _below(_shared_folder(link), file_id, "file")
    seconds = links.presign_seconds(link)
    storage.servable(item.version_id)  # before counting: nothing clean yet is no download
    links.record_download(link, visitor.actor, file=item.name)
    return storage.presigned_download(item.s3_key, item.version_id, item.name, item.content_type, seconds)


def _shared_folder(link: LinkRecord) -> FileRecord:
    folder = files.get_item(link.file_id)
    if link.target.kind != "folder" or folder is None:
        raise NotFound("This link does not share a folder.", "not_a_folder_link")
    return folder


def _below(shared: FileRecord, item_id: str, kind: str) -> FileRecord:
    item = files.get_item(item_id)
    if item is None or item.kind != kind or item.status != "ready" or not files.is_inside(item, shared):
        raise NotFound(f"This {kind} is not in the shared folder.", f"{kind}_not_found")
    return item
