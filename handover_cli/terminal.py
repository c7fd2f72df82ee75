"""What the command draws: the progress bar and the QR code, on whatever terminal (or pipe) it writes to."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TextIO

import click
import qrcode

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def size(count: float) -> str:
    """Bytes as people read them: 512 B, 1.5 MiB."""
    for unit in _UNITS:
        if count < 1024 or unit == _UNITS[-1]:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """Bytes sent (or received) of a total, with speed and time left; safe to update from several threads.

    On a terminal it redraws one line; into a pipe or a file it writes nothing until `done`,
    which writes one summary line. `quiet` writes nothing at all.
    """

    def __init__(self, label: str, total: int, done: int = 0, quiet: bool = False, out: TextIO | None = None) -> None:
        self.label, self.total, self.done = label, total, done
        self._start_done, self._started = done, time.monotonic()
        self._out = out or sys.stderr
        self._quiet = quiet
        self._live = not quiet and self._out.isatty()
        self._lock = threading.Lock()
        self._drawn = 0.0

    def add(self, count: int) -> None:
        with self._lock:
            self.done += count
            now = time.monotonic()
            if self._live and now - self._drawn >= 0.2:
                self._drawn = now
                self._out.write("\r" + self.line(now) + "\x1b[K")
                self._out.flush()

    def line(self, now: float | None = None) -> str:
        elapsed = max((now or time.monotonic()) - self._started, 1e-6)
        speed = (self.done - self._start_done) / elapsed
        share = self.done / self.total if self.total else 1.0
        bar = "█" * int(share * 24) + "░" * (24 - int(share * 24))
        left = f"{duration((self.total - self.done) / speed)} left" if speed > 0 and self.done < self.total else ""
        return (
            f"{self.label} {bar} {share:4.0%} {size(self.done)} / {size(self.total)}  {size(speed)}/s  {left}".rstrip()
        )

    def finish(self) -> None:
        if self._quiet:
            return
        elapsed = time.monotonic() - self._started
        speed = (self.done - self._start_done) / max(elapsed, 1e-6)
        prefix = "\r" if self._live else ""
        text = f"{self.label}: {size(self.done)} in {duration(elapsed)} ({size(speed)}/s)"
        self._out.write(f"{prefix}{text}\x1b[K\n" if self._live else f"{text}\n")
        self._out.flush()


# Two rows of modules per line of text: the upper one is the glyph's top half, the lower its bottom.
HALF_BLOCKS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}
_BLACK_ON_WHITE, _RESET = "\x1b[30;47m", "\x1b[0m"


def qr_lines(text: str, colour: bool) -> list[str]:
    """A QR code of `text` in half-block characters, dark modules drawn; a quiet zone of 2 modules.

    `colour` paints it black on white, so it scans on dark and light terminals alike; without
    colour (a pipe), the glyphs are the dark modules on the page's own background.
    """
    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    if len(matrix) % 2:
        matrix.append([False] * len(matrix[0]))
    lines = []
    for top, bottom in zip(matrix[0::2], matrix[1::2], strict=True):
        row = "".join(HALF_BLOCKS[(a, b)] for a, b in zip(top, bottom, strict=True))
        lines.append(f"{_BLACK_ON_WHITE}{row}{_RESET}" if colour else row)
    return lines


PASSWORD_VARIABLE = "HANDOVER_LINK_PASSWORD"


def link_password(prompt: str, confirm: bool) -> str:
    """A link's password for scripts and people alike: $HANDOVER_LINK_PASSWORD, else typed on a
    terminal (hidden), else the first line of standard input (`printf %s "$PW" | handover …`)."""
    if os.environ.get(PASSWORD_VARIABLE):
        return os.environ[PASSWORD_VARIABLE]
    if sys.stdin.isatty():
        return click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True)
    return sys.stdin.readline().rstrip("\r\n")
