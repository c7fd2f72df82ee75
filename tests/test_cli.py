"""The `handover` command, run as a subprocess against the served local stack, as a member runs it."""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import scanned

from handover_cli.terminal import HALF_BLOCKS

HANDOVER = str(Path(sys.executable).parent / "handover")
MiB = 1024 * 1024
MEMBER, PASSWORD = "cli-member@example.com", "Secret-pass-1"

pytestmark = pytest.mark.integration  # runs the command as a subprocess


def _environment(stack, config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HANDOVER_"))}
    env.update(XDG_CONFIG_HOME=str(config), HANDOVER_LOGIN_PORT=str(stack.cli_login_port), COLUMNS="200")
    return env


class Cli:
    """The command with its own config directory (so its own session)."""

    def __init__(self, stack, config: Path) -> None:
        self.config = config
        self.env = _environment(stack, config)

    def __call__(
        self, *args: str, input: str | None = None, cwd: Path | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [HANDOVER, *args], env=self.env, input=input, cwd=cwd, capture_output=True, text=True, timeout=timeout
        )

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [HANDOVER, *args], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    @property
    def session_file(self) -> Path:
        return self.config / "handover" / "session.json"

    def session(self) -> dict[str, Any]:
        return json.loads(self.session_file.read_text())


def sign_in_through_the_stand_in(process: subprocess.Popen, email: str, password: str) -> str:
    """What a person does with the printed address: open it, sign in; the browser lands on the loopback."""
    for line in process.stderr:
        if "/oauth2/authorize?" in line:
            url = line.strip()
            break
    else:
        raise AssertionError("the command printed no sign-in address")
    browser = requests.Session()
    form_page = browser.get(url, timeout=30)
    assert form_page.status_code == 200, form_page.text
    fields = {
        html.unescape(n): html.unescape(v) for n, v in re.findall(r'name="([^"]+)" value="([^"]*)"', form_page.text)
    }
    action = html.unescape(re.search(r'<form[^>]*action="([^"]+)"', form_page.text).group(1))
    answer = browser.post(action, data={**fields, "email": email, "password": password}, allow_redirects=False)
    assert answer.status_code == 302, answer.text
    callback = answer.headers["Location"]
    landed = browser.get(callback, timeout=30)
    assert landed.status_code == 200
    return callback


@pytest.fixture(scope="module")
def cli_member(stack) -> str:
    stack.create_user(MEMBER, PASSWORD, groups=("members",))
    return MEMBER


def _signed_in_cli(stack, served: str, config: Path) -> Cli:
    cli = Cli(stack, config)
    process = cli.start("login", "--site", served, "--no-browser")
    sign_in_through_the_stand_in(process, MEMBER, PASSWORD)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert f"Signed in to {served} as {MEMBER}." in out
    return cli


@pytest.fixture(scope="module")
def cli(stack, served, cli_member, tmp_path_factory) -> Cli:
    """The command signed in as a member once for the module."""
    return _signed_in_cli(stack, served, tmp_path_factory.mktemp("config"))


def _file(path: Path, size: int) -> Path:
    path.write_bytes(os.urandom(size))
    return path


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _download(url: str) -> requests.Response:
    scanned()  # a new file is served once its malware scan says clean
    answer = requests.get(f"{url}/download", timeout=60)
    assert answer.status_code == 200
    return answer


# --- signing in ---------------------------------------------------------------------------


def test_login_keeps_the_session_owner_only_and_logout_forgets_it(stack, served, cli_member, tmp_path):
    cli = _signed_in_cli(stack, served, tmp_path)

    assert stat.S_IMODE(cli.session_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(cli.session_file.parent.stat().st_mode) == 0o700
    assert cli.session()["refresh_token"]
    out = cli("logout")
    assert out.returncode == 0
    assert not cli.session_file.exists()
    again = cli("links")
    assert again.returncode == 1
    assert again.stderr.startswith("handover: not_signed_in:")


def test_an_expired_token_is_renewed_silently(stack, served, cli_member, tmp_path):
    cli = _signed_in_cli(stack, served, tmp_path)
    session = cli.session()
    cli.session_file.write_text(json.dumps({**session, "id_token": "expired.x.y", "expires_at": 0}))

    out = cli("links")

    assert out.returncode == 0, out.stderr
    renewed = cli.session()
    assert renewed["expires_at"] > time.time() and renewed["id_token"] != "expired.x.y"
    assert renewed["refresh_token"] == session["refresh_token"]
    assert stat.S_IMODE(cli.session_file.stat().st_mode) == 0o600


def test_a_session_that_cannot_be_renewed_asks_to_sign_in_again(stack, served, cli_member, tmp_path):
    cli = _signed_in_cli(stack, served, tmp_path)
    cli.session_file.write_text(json.dumps({**cli.session(), "refresh_token": "revoked", "expires_at": 0}))

    out = cli("links")

    assert out.returncode == 1
    assert (
        out.stderr
        == f"handover: session_expired: Your session has ended: run `handover login --site {served}` again.\n"
    )


def test_login_to_a_site_that_is_not_handover_or_not_there_fails_in_one_line(stack, tmp_path):
    cli = Cli(stack, tmp_path)

    not_handover = cli("login", "--site", stack.moto_endpoint, "--no-browser")
    from devstack.localstack import free_port

    nobody = cli("login", "--site", f"http://127.0.0.1:{free_port()}", "--no-browser")

    assert not_handover.returncode == 1 and nobody.returncode == 1
    assert not_handover.stderr.startswith("handover: not_handover:")
    assert nobody.stderr.startswith("handover: unreachable:")
    assert "Traceback" not in not_handover.stderr + nobody.stderr
    assert len((not_handover.stderr + nobody.stderr).splitlines()) == 2


# --- sharing ------------------------------------------------------------------------------


def qr_text(stdout: str) -> str:
    """The QR code the command printed, rendered to an image as a terminal draws it, decoded."""
    import zxingcpp

    glyphs = set(HALF_BLOCKS.values())
    rows = [line[2:] for line in stdout.splitlines() if line.startswith("  ") and set(line[2:]) <= glyphs]
    assert rows, stdout
    halves = {glyph: (top, bottom) for (top, bottom), glyph in HALF_BLOCKS.items()}
    scale, margin = 4, 16
    width = len(rows[0]) * scale + 2 * margin
    pixels = bytearray([255]) * (width * margin)
    for row in rows:
        for half in (0, 1):
            line = bytearray([255]) * margin
            for glyph in row:
                line += bytearray([0 if halves[glyph][half] else 255]) * scale
            line += bytearray([255]) * margin
            pixels += line * scale
    pixels += bytearray([255]) * (width * margin)
    height = len(pixels) // width
    found = zxingcpp.read_barcodes(memoryview(bytes(pixels)).cast("B", (height, width)))
    assert len(found) == 1, "no QR code found"
    return found[0].text


def test_share_prints_the_link_and_a_qr_code_that_scans_back_to_it(cli, tmp_path):
    path = _file(tmp_path / "report.txt", 1000)

    out = cli("share", str(path), "--days", "3")

    assert out.returncode == 0, out.stderr
    url = out.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]+", url)
    assert qr_text(out.stdout) == url
    download = _download(url)
    assert download.content == path.read_bytes()
    assert 'filename="report.txt"' in download.headers["Content-Disposition"]


def test_share_json_gives_the_file_and_the_link_with_the_options_asked_for(cli, tmp_path):
    path = _file(tmp_path / "notes.txt", 500)

    out = cli("share", str(path), "--json", "--login", "--to", "Partner@Example.com", "--upload", "--never")

    assert out.returncode == 0, out.stderr
    shared = json.loads(out.stdout)
    assert shared["file"]["name"] == "notes.txt" and shared["file"]["status"] == "ready"
    link = shared["link"]
    assert link["require_login"] and link["allow_upload"] and link["valid_until"] is None
    assert link["recipients"] == ["partner@example.com"]
    assert out.stderr == ""


def test_share_until_a_day_ends_that_day_in_this_computers_time_zone(cli, tmp_path):
    from datetime import datetime, timedelta

    day = (datetime.now().astimezone() + timedelta(days=10)).date()
    out = cli("share", str(_file(tmp_path / "a.txt", 10)), "--until", day.isoformat(), "--json")

    assert out.returncode == 0, out.stderr
    until = datetime.fromisoformat(json.loads(out.stdout)["link"]["valid_until"].replace("Z", "+00:00"))
    expected = datetime(day.year, day.month, day.day, 23, 59, 59).astimezone()
    assert until == expected


def test_a_multipart_file_is_sent_in_parts_and_arrives_whole(cli, tmp_path):
    path = _file(tmp_path / "build.bin", 16 * MiB + 123)  # the tests' threshold is 6 MiB, parts 5 MiB

    out = cli("share", str(path), "--quiet")

    assert out.returncode == 0, out.stderr
    url = out.stdout.strip()
    assert _sha(_download(url).content) == _sha(path.read_bytes())
    assert out.stderr == ""


def test_a_directory_is_shared_as_a_folder(cli, tmp_path, served):
    root = tmp_path / "release"
    (root / "docs").mkdir(parents=True)
    _file(root / "app.bin", 2000)
    _file(root / "docs" / "readme.txt", 300)

    out = cli("share", str(root), "--json")

    assert out.returncode == 0, out.stderr
    shared = json.loads(out.stdout)
    assert shared["file"]["kind"] == "folder" and shared["file"]["name"] == "release"
    page = requests.get(shared["link"]["url"], timeout=30).text
    assert "app.bin" in page and "docs" in page
    listed = cli("links", "release")
    assert shared["link"]["url"] in listed.stdout
    into = tmp_path / "received"
    scanned()
    into.mkdir()
    got = cli("get", shared["link"]["url"], "-o", str(into), "--quiet")
    assert got.returncode == 0, got.stderr
    assert (into / "release" / "app.bin").read_bytes() == (root / "app.bin").read_bytes()
    assert (into / "release" / "docs" / "readme.txt").read_bytes() == (root / "docs" / "readme.txt").read_bytes()


def test_the_current_directory_shares_under_its_own_name(cli, tmp_path):
    root = tmp_path / "Exports"
    root.mkdir()
    _file(root / "data.csv", 50)

    out = cli("share", ".", "--json", cwd=root)

    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["file"]["name"] == "Exports"


def test_share_into_a_folder_of_yours(cli, tmp_path):
    root = tmp_path / "Reports"
    root.mkdir()
    _file(root / "first.txt", 10)
    folder = json.loads(cli("share", str(root), "--json").stdout)["file"]

    out = cli("share", str(_file(tmp_path / "second.txt", 20)), "--folder", "Reports", "--json")
    missing = cli("share", str(tmp_path / "second.txt"), "--folder", "Nowhere/Else")

    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["file"]["folder_id"] == folder["file_id"]
    assert cli("versions", "Reports/second.txt").returncode == 0
    assert missing.returncode == 1 and missing.stderr.startswith("handover: file_not_found:")


def test_a_killed_upload_resumes_where_it_stopped(cli, tmp_path, served):
    path = _file(tmp_path / "large.bin", 48 * MiB)  # ten parts
    process = cli.start("share", str(path), "--json")
    uploads = cli.config / "handover" / "uploads"
    state = _wait_for(lambda: next((json.loads(p.read_text()) for p in uploads.glob("*.json")), None), process)
    headers = {"Authorization": f"Bearer {cli.session()['id_token']}"}

    def parts_sent() -> int | None:
        """Freeze the command, look how far it got; kill it once a part is in S3."""
        process.send_signal(signal.SIGSTOP)
        plan = requests.post(f"{served}/api/files/{state['file_id']}/upload", headers=headers, timeout=30).json()
        if plan["upload"]["parts_done"]:
            process.kill()
            return len(plan["upload"]["parts_done"])
        process.send_signal(signal.SIGCONT)
        return None

    sent = _wait_for(parts_sent, process)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    again = cli("share", str(path), "--json")

    assert again.returncode == 0, again.stderr
    # Parts already on their way when the command froze may land after the look: at least as many.
    resumed = re.search(r"Resuming large\.bin: (\d+) of 10 parts already sent\.", again.stderr)
    assert resumed and sent <= int(resumed.group(1)) < 10, again.stderr
    shared = json.loads(again.stdout)
    assert shared["file"]["file_id"] == state["file_id"]
    assert _sha(_download(shared["link"]["url"]).content) == _sha(path.read_bytes())
    assert not list(uploads.glob("*.json"))


def _wait_for(check: Callable[[], Any], process: subprocess.Popen) -> Any:
    while (found := check()) is None:
        assert process.poll() is None, f"the command ended first: {process.communicate()}"
        time.sleep(0.05)
    return found


# --- links, versions, history ---------------------------------------------------------------


def test_links_revoke_and_edit_manage_a_files_links(cli, tmp_path):
    path = _file(tmp_path / "contract.pdf", 4000)
    link = json.loads(cli("share", str(path), "--json").stdout)["link"]

    listed = cli("links", "contract.pdf")
    edited = cli("edit", link["url"], "--never", "--upload")
    revoked = cli("revoke", link["token"])
    after = cli("links", "contract.pdf", "--json")

    assert listed.returncode == 0 and link["url"] in listed.stdout
    assert edited.returncode == 0 and "never expires" in edited.stdout and "upload allowed" in edited.stdout
    assert revoked.returncode == 0
    assert [json.loads(line)["status"] for line in after.stdout.splitlines()] == ["revoked"]
    assert requests.get(link["url"], timeout=30).status_code == 410


def test_versions_and_history_of_a_shared_file(cli, tmp_path):
    path = _file(tmp_path / "plan.txt", 100)
    link = json.loads(cli("share", str(path), "--json").stdout)["link"]
    _download(link["url"])

    versions = cli("versions", link["file_id"], "--json")
    history = cli("history", "plan.txt")
    exported = cli("history", "plan.txt", "--csv")

    assert versions.returncode == 0
    (version,) = [json.loads(line) for line in versions.stdout.splitlines()]
    assert version["current"] and version["size"] == 100
    assert history.returncode == 0
    kinds = [line.split()[1] for line in history.stdout.splitlines()]
    assert "link_created" in kinds and "link_downloaded" in kinds
    rows = exported.stdout.splitlines()
    assert rows[0].startswith("at,") and len(rows) == len(kinds) + 1


def test_a_name_shared_twice_must_be_named_by_id(cli, tmp_path):
    for _ in range(2):
        assert cli("share", str(_file(tmp_path / "twice.txt", 10)), "--quiet").returncode == 0

    out = cli("versions", "twice.txt")

    assert out.returncode == 1
    assert out.stderr.startswith("handover: ambiguous: Several of yours are called 'twice.txt'")


# --- recipients ---------------------------------------------------------------------------


def test_get_downloads_through_a_link_under_the_files_name(cli, stack, tmp_path):
    path = _file(tmp_path / "photo 1.jpg", 3 * MiB)
    url = cli("share", str(path), "--quiet").stdout.strip()
    scanned()
    recipient = Cli(stack, tmp_path / "nobody")
    into = tmp_path / "downloads"
    into.mkdir()

    out = recipient("get", url, "-o", str(into))

    assert out.returncode == 0, out.stderr
    assert (into / "photo 1.jpg").read_bytes() == path.read_bytes()
    again = recipient("get", url, "-o", str(into))
    assert again.returncode == 1 and again.stderr.startswith("handover: file_exists:")
    nowhere = recipient("get", url, "-o", str(tmp_path / "no" / "such.jpg"))
    assert nowhere.returncode == 1 and nowhere.stderr.startswith("handover: local_error: No such file or directory")
    assert "Traceback" not in nowhere.stderr


def test_get_explains_links_that_do_not_work(cli, stack, tmp_path):
    path = _file(tmp_path / "secret.txt", 10)
    restricted = json.loads(cli("share", str(path), "--json", "--login").stdout)["link"]
    revoked = json.loads(cli("share", str(path), "--json").stdout)["link"]
    cli("revoke", revoked["token"])
    recipient = Cli(stack, tmp_path / "nobody")
    scanned()

    login = recipient("get", restricted["url"], "-o", str(tmp_path))
    gone = recipient("get", revoked["url"], "-o", str(tmp_path))
    member = cli("get", restricted["url"], "-o", str(tmp_path / "mine.txt"))

    assert login.returncode == 1 and login.stderr.startswith("handover: login_required:")
    assert gone.returncode == 1 and gone.stderr.startswith("handover: link_revoked:")
    assert member.returncode == 0 and (tmp_path / "mine.txt").read_bytes() == path.read_bytes()


def test_share_with_a_label_a_password_and_a_limit(cli, stack, tmp_path):
    path = _file(tmp_path / "offer.pdf", 5000)

    shared = cli(
        "share",
        str(path),
        "--json",
        "--label",
        "For Acme",
        "--password-prompt",
        "--limit",
        "2",
        input="correct horse\n",
    )

    assert shared.returncode == 0, shared.stderr
    link = json.loads(shared.stdout)["link"]
    assert link["label"] == "For Acme" and link["has_password"] and link["download_limit"] == 2
    assert "password" not in link
    page = requests.get(link["url"], timeout=30)
    assert "This link needs a password" in page.text and "offer.pdf" not in page.text
    listed = cli("links", "offer.pdf")
    assert "label 'For Acme'" in listed.stdout and "password" in listed.stdout and "0 downloads of 2" in listed.stdout
    short = cli("share", str(path), "--password-prompt", input="short\n")
    assert short.returncode == 2 and "8 to 128 characters" in short.stderr


def test_get_with_the_password_from_standard_input_or_the_environment(cli, stack, tmp_path):
    path = _file(tmp_path / "payroll.csv", 7000)
    url = cli("share", str(path), "--quiet", "--password-prompt", input="open sesame 1\n").stdout.strip()
    scanned()  # as the malware scan would a moment later
    recipient = Cli(stack, tmp_path / "nobody")

    wrong = recipient("get", url, "-o", str(tmp_path / "wrong.csv"), input="not it at all\n")
    none = recipient("get", url, "-o", str(tmp_path / "none.csv"), input="")
    piped = recipient("get", url, "-o", str(tmp_path / "piped.csv"), input="open sesame 1\n")
    recipient.env["HANDOVER_LINK_PASSWORD"] = "open sesame 1"
    from_env = recipient("get", url, "-o", str(tmp_path / "env.csv"))

    assert wrong.returncode == 1 and wrong.stderr.startswith("handover: wrong_password:")
    assert none.returncode == 1 and none.stderr.startswith("handover: password_required:")
    assert not (tmp_path / "wrong.csv").exists() and not (tmp_path / "none.csv").exists()
    assert piped.returncode == 0, piped.stderr
    assert (tmp_path / "piped.csv").read_bytes() == path.read_bytes()
    assert from_env.returncode == 0, from_env.stderr
    assert (tmp_path / "env.csv").read_bytes() == path.read_bytes()


def test_get_a_folder_link_with_a_password(cli, stack, tmp_path):
    root = tmp_path / "album"
    root.mkdir()
    _file(root / "one.jpg", 900)
    url = cli("share", str(root), "--quiet", "--password-prompt", input="album pass 2\n").stdout.strip()
    scanned()
    recipient = Cli(stack, tmp_path / "nobody")
    recipient.env["HANDOVER_LINK_PASSWORD"] = "album pass 2"
    into = tmp_path / "received"
    into.mkdir()

    got = recipient("get", url, "-o", str(into), "--quiet")

    assert got.returncode == 0, got.stderr
    assert (into / "album" / "one.jpg").read_bytes() == (root / "one.jpg").read_bytes()


def test_get_beyond_the_download_limit_exits_1_with_the_servers_code(cli, stack, tmp_path):
    path = _file(tmp_path / "ticket.pdf", 3000)
    link = json.loads(cli("share", str(path), "--json", "--limit", "1").stdout)["link"]
    scanned()  # as the malware scan would a moment later
    recipient = Cli(stack, tmp_path / "nobody")

    first = recipient("get", link["url"], "-o", str(tmp_path / "first.pdf"))
    second = recipient("get", link["url"], "-o", str(tmp_path / "second.pdf"))

    assert first.returncode == 0, first.stderr
    assert (tmp_path / "first.pdf").read_bytes() == path.read_bytes()
    assert second.returncode == 1
    assert second.stderr.startswith("handover: download_limit_reached: This link has been downloaded")
    assert not (tmp_path / "second.pdf").exists()
    listed = [json.loads(line) for line in cli("links", link["file_id"], "--json").stdout.splitlines()]
    assert [(found["downloads"], found["status"]) for found in listed] == [(1, "used_up")]


def test_edit_sets_and_removes_a_label_a_password_and_a_limit(cli, stack, tmp_path):
    path = _file(tmp_path / "draft.txt", 200)
    link = json.loads(cli("share", str(path), "--json").stdout)["link"]
    scanned()
    recipient = Cli(stack, tmp_path / "nobody")

    locked = cli("edit", link["token"], "--label", "Draft", "--password-prompt", "--limit", "5", input="draft pass 9\n")
    refused = recipient("get", link["url"], "-o", str(tmp_path / "refused.txt"), input="")
    opened = cli("edit", link["url"], "--no-password", "--no-limit", "--label", "")
    got = recipient("get", link["url"], "-o", str(tmp_path / "got.txt"))
    after = json.loads(cli("links", link["file_id"], "--json").stdout.splitlines()[0])

    assert locked.returncode == 0, locked.stderr
    assert "label 'Draft'" in locked.stdout and "password" in locked.stdout and "0 downloads of 5" in locked.stdout
    assert refused.returncode == 1 and refused.stderr.startswith("handover: password_required:")
    assert opened.returncode == 0, opened.stderr
    assert got.returncode == 0 and (tmp_path / "got.txt").read_bytes() == path.read_bytes()
    assert not after["has_password"] and after["download_limit"] is None and not after.get("label")


# --- exit codes ---------------------------------------------------------------------------


def test_bad_usage_exits_2(cli, tmp_path):
    path = _file(tmp_path / "x.txt", 10)

    for args in (
        ["share"],
        ["share", str(tmp_path / "missing.txt")],
        ["share", str(path), "--days", "3", "--never"],
        ["share", str(path), "--until", "someday"],
        ["edit", "sometoken"],
        ["frobnicate"],
    ):
        out = cli(*args)
        assert out.returncode == 2, (args, out.stderr)
        assert "Traceback" not in out.stderr


def test_a_refusal_by_the_server_exits_1_with_its_code_and_message(cli, tmp_path):
    from datetime import date, timedelta

    yesterday = (date.today() - timedelta(days=2)).isoformat()

    path = _file(tmp_path / "refused-date.txt", 10)

    out = cli("share", str(path), "--until", yesterday)
    unknown = cli("revoke", "not-a-real-token")
    dashed = [cli("revoke", "-Fz0_not-real"), cli("edit", "-Fz0_not-real", "--never")]  # tokens may start with "-"

    assert out.returncode == 1
    assert out.stderr.splitlines()[-1] == "handover: valid_until_in_past: valid_until must be in the future."
    assert unknown.returncode == 1 and unknown.stderr.startswith("handover: link_not_found:")
    assert [(d.returncode, d.stderr.split(":")[1].strip()) for d in dashed] == [(1, "link_not_found")] * 2
    # The file went up before the link was refused: the next run shares it instead of sending it again.
    again = cli("share", str(path), "--days", "1", "--json")
    assert again.returncode == 0, again.stderr
    assert cli("versions", "refused-date.txt").returncode == 0  # one file of that name, not two
    assert not list((cli.config / "handover" / "uploads").glob("*.json"))


def test_an_unreadable_or_empty_file_is_refused_before_anything_is_made(cli, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    before = cli("links", "--json").stdout

    out = cli("share", str(empty))

    assert out.returncode == 1 and out.stderr.startswith("handover: empty_file:")
    assert cli("links", "--json").stdout == before


def test_on_a_terminal_the_upload_shows_bytes_speed_and_time_left(cli, tmp_path):
    import pty
    import threading

    path = _file(tmp_path / "bar.bin", 12 * MiB)
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [HANDOVER, "share", str(path)], env=cli.env, stdout=subprocess.PIPE, stderr=terminal, text=True
    )
    os.close(terminal)
    drawn = bytearray()

    def read() -> None:
        while True:
            try:
                block = os.read(controller, 4096)
            except OSError:  # the command ended and closed its side
                return
            if not block:
                return
            drawn.extend(block)

    reader = threading.Thread(target=read)
    reader.start()
    out, _ = process.communicate(timeout=120)
    reader.join(timeout=30)
    os.close(controller)

    assert process.returncode == 0
    screen = drawn.decode()
    assert re.search(
        r"bar\.bin [█░]{24} +\d+% [\d.]+ (B|KiB|MiB) / 12\.0 MiB  [\d.]+ (B|KiB|MiB)/s  \d+:\d\d left", screen
    )
    assert re.search(r"bar\.bin: 12\.0 MiB in \d+:\d\d \([\d.]+ (B|KiB|MiB)/s\)", screen)


def test_the_command_imports_nothing_of_the_app():
    import ast

    package = Path(__file__).resolve().parent.parent / "handover_cli"
    imported = set()
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])

    assert imported & {"app", "chalicelib", "devstack", "chalice", "boto3", "botocore"} == set()
    assert "handover_cli" in imported and "click" in imported


def test_on_a_terminal_the_qr_code_is_painted_black_on_white():
    from handover_cli.terminal import qr_lines

    plain, painted = qr_lines("https://example.com/s/abc", False), qr_lines("https://example.com/s/abc", True)

    # Dark modules drawn in black on a white ground whatever the terminal's own colours are.
    assert painted == [f"\x1b[30;47m{line}\x1b[0m" for line in plain]
    assert len({len(line) for line in plain}) == 1 and set(plain[0]) == {" "}  # the quiet zone
