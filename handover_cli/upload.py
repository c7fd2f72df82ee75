"""Sending a file or a directory: the API's upload plan, the bytes straight to S3, complete; resumable.

An unfinished upload is remembered in the config directory by site, path, size and
modification time, so running the same command again asks the API for a fresh plan,
which lists only the parts S3 does not hold yet, and sends just those.
"""

from __future__ import annotations

import mimetypes
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import IO, Any

from handover_cli import http, store
from handover_cli.api import Api
from handover_cli.http import Refused
from handover_cli.terminal import Progress

PARALLEL_PARTS = 4
TRIES = 5
RENEWALS = 3  # fresh plans asked for in a row when S3 refuses URLs


class _Reader:
    """A window of a file (and text around it) read in blocks, each block counted as sent."""

    def __init__(
        self, path: Path, start: int, length: int, count: Callable[[int], None], head: bytes = b"", tail: bytes = b""
    ):
        self._file: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by close(), as urllib reads it
        self._file.seek(start)
        self._left = length
        self._head, self._tail = head, tail
        self._count = count
        self.length = len(head) + length + len(tail)

    def read(self, size: int = -1) -> bytes:
        size = 65536 if size is None or size < 0 else size
        if self._head:
            chunk, self._head = self._head[:size], self._head[size:]
            return chunk
        if self._left:
            chunk = self._file.read(min(size, self._left))
            if not chunk:
                raise Refused("file_changed", "The file got shorter while it was being sent.")
            self._left -= len(chunk)
            self._count(len(chunk))
            return chunk
        chunk, self._tail = self._tail[:size], self._tail[size:]
        return chunk

    def close(self) -> None:
        self._file.close()


def _send(method: str, url: str, reader: _Reader, headers: dict[str, str]) -> http.Answer:
    try:
        with http.open_url(
            method, url, body=reader, headers={**headers, "Content-Length": str(reader.length)}
        ) as answer:
            return http.Answer(answer.status, answer.headers, answer.read())
    except OSError as error:  # the connection dropped while sending
        raise Refused("unreachable", f"The connection dropped: {error}.") from None
    finally:
        reader.close()


class _Expired(Exception):
    """S3 refused a URL (it expired): ask the API for a fresh plan."""


def _post(plan: dict[str, Any], path: Path, size: int, progress: Progress) -> None:
    boundary = secrets.token_hex(16)
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in plan["fields"].items()
    )
    head += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="file"\r\n\r\n'.encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    _send_retrying("POST", plan["url"], headers, lambda count: _Reader(path, 0, size, count, head, tail), progress)


def _put_part(
    url: str, path: Path, number: int, part_size: int, size: int, progress: Progress, stop: threading.Event
) -> None:
    start = (number - 1) * part_size
    length = min(part_size, size - start)
    _send_retrying("PUT", url, {}, lambda count: _Reader(path, start, length, count), progress, stop)


def _send_retrying(
    method: str,
    url: str,
    headers: dict[str, str],
    reader: Callable[[Callable[[int], None]], _Reader],
    progress: Progress,
    stop: threading.Event | None = None,
) -> None:
    """Send a body to S3, again (after a pause) when the connection drops; a try's bytes leave the bar
    when it fails. S3 refusing the URL (403: it expired) raises _Expired; anything else is told at once."""
    for attempt in range(TRIES):
        if stop is not None and stop.is_set():
            return
        sent = 0

        def count(n: int) -> None:
            nonlocal sent
            sent += n
            progress.add(n)

        try:
            answer = _send(method, url, reader(count), headers)
        except Refused as refused:
            if refused.code != "unreachable":
                raise
            answer = None
        if answer is not None and answer.status < 300:
            return
        progress.add(-sent)
        if answer is not None and answer.status == 403:
            raise _Expired
        if attempt == TRIES - 1:
            raise _interrupted()
        time.sleep(2**attempt)


def _interrupted() -> Refused:
    return Refused("upload_interrupted", "The upload was interrupted. Run the same command again to resume it.")


def _send_plan(api: Api, file_id: str, plan: dict[str, Any], path: Path, size: int, label: str, quiet: bool) -> None:
    """Send what the plan asks for; when S3 refuses its URLs as expired, a fresh plan goes on from there.

    S3 also answers 403 to bytes its URL does not allow (a file that changed size meanwhile),
    which fresh URLs do not cure: a few renewals, then the refusal is told.
    """
    for _ in range(RENEWALS + 1):
        if plan["method"] == "POST":
            progress = Progress(label, size, quiet=quiet)
            try:
                _post(plan, path, size, progress)
            except _Expired:
                plan = api.call("POST", f"/api/files/{file_id}/upload")["upload"]
                continue
            progress.finish()
            return
        part_size = plan["part_size"]
        done = sum(min(part_size, size - (n - 1) * part_size) for n in plan["parts_done"])
        progress = Progress(label, size, done=done, quiet=quiet)
        stop = threading.Event()
        with ThreadPoolExecutor(PARALLEL_PARTS) as pool:
            futures = [
                pool.submit(_put_part, part["url"], path, part["part_number"], part_size, size, progress, stop)
                for part in plan["parts"]
            ]
            try:
                finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
            except KeyboardInterrupt:  # parts on their way finish (S3 keeps them for the resume); no new ones start
                stop.set()
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            failed = [f.exception() for f in finished if f.exception() is not None]
            if failed:
                stop.set()
                wait(futures)
        if not failed:
            progress.finish()
            return
        if not all(isinstance(error, _Expired) for error in failed):
            raise next(error for error in failed if not isinstance(error, _Expired))
        plan = api.call("POST", f"/api/files/{file_id}/upload")["upload"]
    raise Refused("upload_refused", f"The storage keeps refusing {label}: did it change while it was being sent?")


def resume_key(site: str, path: Path, folder_id: str | None) -> str:
    """What names an upload to resume: the site, the path, and for a file its size and modification time.

    The state stays until the caller forgets it, after the link is made: a link refused
    (a date in the past) leaves the uploaded file to be shared by the next run, not uploaded twice.
    """
    if path.is_dir():
        return f"{site}|dir|{path.resolve()}|{folder_id or ''}"
    stat = path.stat()
    return f"{site}|file|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{folder_id or ''}"


def upload_file(api: Api, path: Path, folder_id: str | None, quiet: bool, say: Callable[[str], None]) -> dict[str, Any]:
    """A local file as a ready file of the member's, resuming an unfinished upload of the same file."""
    size = path.stat().st_size
    key = resume_key(api.site, path, folder_id)
    state = store.load_resume(key)
    plan = None
    if state is not None:
        answer = api.raw("POST", f"/api/files/{state['file_id']}/upload")
        if answer.status == 200:
            plan = answer.json()["upload"]
            if plan["method"] == "MULTIPART":
                done, total = len(plan["parts_done"]), len(plan["parts_done"]) + len(plan["parts"])
                say(f"Resuming {path.name}: {done} of {total} parts already sent.")
            else:
                say(f"Resuming {path.name}.")
        elif http.refusal(answer).code == "file_already_complete":
            return _completed(api, state["file_id"])
        else:
            state = None  # deleted, or gone with its upload: start again
    if state is None:
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        created = api.call(
            "POST",
            "/api/files",
            {"name": path.name, "size": size, "content_type": content_type, "folder_id": folder_id},
        )
        state = {"file_id": created["file"]["file_id"]}
        store.save_resume(key, state)
        plan = created["upload"]
    assert plan is not None
    _send_plan(api, state["file_id"], plan, path, size, path.name, quiet)
    return _completed(api, state["file_id"])


def _completed(api: Api, file_id: str) -> dict[str, Any]:
    answer = api.raw("POST", f"/api/files/{file_id}/complete")
    if answer.status == 200:
        return answer.json()["file"]
    refusal = http.refusal(answer)
    if refusal.code != "file_already_complete":
        raise refusal
    return api.call("GET", f"/api/files/{file_id}")["file"]


def upload_directory(
    api: Api, root: Path, folder_id: str | None, quiet: bool, say: Callable[[str], None]
) -> dict[str, Any]:
    """A local directory as a folder of the member's, with its files and subfolders; resumable file by file."""
    key = resume_key(api.site, root, folder_id)
    state = store.load_resume(key) or {"folders": {}, "files": {}}
    if state["folders"].get(".") and api.raw("GET", f"/api/files/{state['folders']['.']}").status != 200:
        state = {"folders": {}, "files": {}}  # the folder was deleted since: start again
    for directory, subdirectories, filenames in os.walk(root):
        here = Path(directory)
        relative = here.relative_to(root).as_posix()
        if relative not in state["folders"]:
            parent = folder_id if relative == "." else state["folders"][here.parent.relative_to(root).as_posix()]
            created = api.call("POST", "/api/folders", {"name": here.resolve().name, "folder_id": parent})
            state["folders"][relative] = created["file"]["file_id"]
            store.save_resume(key, state)
        subdirectories.sort()
        for name in sorted(filenames):
            file_path = here / name
            relative_file = file_path.relative_to(root).as_posix()
            if relative_file in state["files"] or not file_path.is_file():
                continue
            if file_path.stat().st_size == 0:
                say(f"Skipped {relative_file}: empty files cannot be shared.")
                continue
            upload_file(api, file_path, state["folders"][relative], quiet, say)
            state["files"][relative_file] = True
            store.save_resume(key, state)
            store.forget_resume(resume_key(api.site, file_path, state["folders"][relative]))
    return api.call("GET", f"/api/files/{state['folders']['.']}")["file"]
