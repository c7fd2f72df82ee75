"""`make dev`: the embedded local AWS starts, serves, and stops cleanly however it is told to."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

from devstack.localstack import free_port

pytestmark = pytest.mark.integration  # starts `make dev`'s stack in a subprocess


def _answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_make_dev_stops_everything_on_sigterm_and_leaves_nothing_behind(tmp_path: Path):
    ports = {"PORT": free_port(), "S3_PORT": free_port(), "MOTO_PORT": free_port(), "MAIL_PORT": free_port()}
    env = {**os.environ, **{name: str(port) for name, port in ports.items()}, "TMPDIR": str(tmp_path)}
    env = {k: v for k, v in env.items() if not k.startswith(("AWS_", "USER_POOL", "COGNITO_", "LOGIN_DOMAIN"))}
    log = tmp_path / "dev.out"
    with open(log, "wb") as out:
        dev = subprocess.Popen(
            [sys.executable, "-m", "devstack.localstack"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 120
            while not _answers(ports["PORT"]):
                assert dev.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)

            dev.send_signal(signal.SIGTERM)
            dev.wait(timeout=30)
        finally:
            if dev.poll() is None:
                dev.kill()

    printed = log.read_text()
    data_dir = Path(re.search(r"logs in (\S+)/stack\.log", printed).group(1))
    assert not data_dir.exists()
    assert [name for name, port in ports.items() if _answers(port)] == []
    assert "Override settings" not in printed
    assert "Traceback" not in printed
