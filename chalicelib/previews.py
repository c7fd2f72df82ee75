"""Previews on a file link's page: images (not SVG), PDFs and plain text under a size cap.

Shown from a presigned S3 URL with `inline` disposition and a type that cannot run (SVG,
HTML and other active types never qualify; text is served as text/plain). A preview is not
the counted download: the page's GET shows it, so a link preview bot that opens the page
fetches nothing, and the Download button stays the one action that counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib import links, storage
from chalicelib.config import MiB
from chalicelib.models import LinkRecord

# Formats every current browser draws in an <img>; SVG is a document that can run script.
_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp"})
_TEXTS = frozenset({"text/plain", "text/csv", "text/markdown", "text/tab-separated-values", "application/json"})
# Larger files are slow to show and better downloaded.
MAX_BYTES = {"image": 20 * MiB, "pdf": 50 * MiB, "text": 1 * MiB}


@dataclass(frozen=True)
class Preview:
    kind: str  # "image", "pdf" or "text"
    url: str


def kind_of(content_type: str, size: int) -> str | None:
    """What a file is previewed as, or None when it only downloads."""
    media = content_type.split(";", 1)[0].strip().lower()
    kind = "image" if media in _IMAGES else "pdf" if media == "application/pdf" else "text" if media in _TEXTS else None
    if kind is None or size > MAX_BYTES[kind] or size == 0:
        return None
    return kind


def preview_of(link: LinkRecord) -> Preview | None:
    """A file link's preview, presigned for no longer than a download, or None."""
    target = link.target
    kind = kind_of(target.content_type, int(target.size)) if target.kind == "file" else None
    if kind is None or not target.version_id:  # nothing clean to show yet (scans.py)
        return None
    media = target.content_type.split(";", 1)[0].strip().lower()
    shown_as = {"image": media, "pdf": "application/pdf", "text": "text/plain; charset=utf-8"}[kind]
    seconds = links.presign_seconds(link)
    url = storage.presigned_download(target.s3_key, target.version_id, target.name, shown_as, seconds, inline=True)
    return Preview(kind, url)
