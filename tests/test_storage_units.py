"""What S3 is asked for, decided without S3: served types and download names (no server needed)."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from chalicelib import storage


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html",
        "TEXT/HTML; charset=utf-8",
        "image/svg+xml",
        "application/xhtml+xml",
        "application/xml",
        "text/xml",
        "application/rss+xml",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "application/wasm",
    ],
)
def test_types_a_browser_would_run_are_served_as_bytes(content_type):
    assert storage.served_type(content_type) == "application/octet-stream"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/pdf", "image/png", "application/zip", "text/csv; charset=utf-8"]
)
def test_other_types_are_served_as_stored(content_type):
    assert storage.served_type(content_type) == content_type


def test_a_download_name_keeps_its_letters_and_loses_its_path():
    disposition = storage.content_disposition('Ünïcødé "q" ../x\\y.txt')

    assert disposition.startswith('attachment; filename="')
    fallback = disposition.split('filename="')[1].split('"')[0]
    assert fallback.isascii() and "/" not in fallback and "\\" not in fallback
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == 'Ünïcødé "q" .._x_y.txt'


def test_a_file_key_is_under_the_files_prefix():
    assert storage.file_key("0" * 32) == "files/" + "0" * 32
