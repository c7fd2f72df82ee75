"""What the command keeps between runs, in the user's config directory: the session and unfinished uploads.

Both hold secrets (a refresh token, upload ids), so files are written owner-only (0600)
in an owner-only directory, and replaced whole so a killed run never leaves half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import click


def config_dir() -> Path:
    """`$XDG_CONFIG_HOME/handover` (usually ~/.config/handover) on Linux; the platform's own elsewhere."""
    return Path(click.get_app_dir("handover"))


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(data, file)
    os.replace(temporary, path)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _session_path() -> Path:
    return config_dir() / "session.json"


def load_session() -> dict[str, Any] | None:
    return _read(_session_path())


def save_session(session: dict[str, Any]) -> None:
    _write(_session_path(), session)


def forget_session() -> bool:
    """Remove the session; False if there was none."""
    try:
        _session_path().unlink()
        return True
    except FileNotFoundError:
        return False


def _resume_path(key: str) -> Path:
    return config_dir() / "uploads" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def load_resume(key: str) -> dict[str, Any] | None:
    found = _read(_resume_path(key))
    return found if found and found.get("key") == key else None


def save_resume(key: str, state: dict[str, Any]) -> None:
    _write(_resume_path(key), {**state, "key": key})


def forget_resume(key: str) -> None:
    _resume_path(key).unlink(missing_ok=True)
