"""Benchmarks: the packaged app's cold start and first requests, the download redirect (also with
100,000 links in the table), the External links tab, and the admin's list and search of users.

Absolute times say more about the machine than about the app, so every figure is printed
next to a floor measured in the same run, on the same machine, the same way, and as the
ratio app/floor. The floor is what any Lambda on this stack pays anyway:

- cold start: a fresh interpreter importing the unzipped `chalice package` output exactly
  as Lambda does (the function zip and its layer, with the bytecode `make package` adds,
  read-only, only the package on the path), `import app` against `import chalice, boto3`
  from the same folders, in wall time and (with valgrind installed) in instructions executed;
- first request: the same fresh interpreter imports the app and serves one request
  (download redirect, landing page, an API call with a token) against the local stack, over
  the same import floor: what a cold Lambda pays before its first answer;
- download redirect: `GET /s/{token}/download` through Chalice's test client against the
  local stack, against the same AWS calls made directly with boto3 (a consistent GetItem
  of the link, a conditional UpdateItem counting the download, a PutItem of its audit event,
  and a presigned GET, which is computed locally); then again with 1,000 and with 100,000
  other links in the table;
- External links tab: the console page with 20 links over the same page with one (the page
  draws QR codes itself, so its server time should not grow with them);
- admin list: `GET /api/admin/external-users` as an admin through the test client, at 100
  and then at 10,000 external users in the projection. Its point is that a page costs the
  same however many users there are, so the app at 10,000 is divided by the app at 100;
  at 10,000 a page is also divided by a plain boto3 Query of one page (50 items) on the
  same index, and a search by its own AWS calls made again by plain boto3 clients. moto's
  Query reads the whole table on every call, so the same growth of those floors shows what
  is moto's; the items read per request (Query's ScannedCount plus the items of GetItem and
  BatchGetItem) are the app's own figure.

Nothing here asserts a time; `make bench` prints the table and exits 0.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from spies import aws_operations, aws_requests, items_read

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COLD_RUNS = 31  # wall times here move by a fifth between runs: many samples steady the median
FIRST_REQUEST_RUNS = 7
REDIRECT_WARMUP = 30
REDIRECT_RUNS = 300
# Other links in the table while a download is timed.
LINKS_IN_TABLE = (1_000, 100_000)
SCALED_RUNS = (100, 100)  # timed downloads at each size
TAB_LINKS = (1, 20)  # links on the External links tab, for its server time
TAB_RUNS = 30
FILE_NAME = "report.txt"
FILE_BYTES = b"hello, world\n"
PEOPLE = (100, 10_000)  # sizes of the admin's list, seeded one after the other
LIST_WARMUP = (10, 0)  # untimed requests at each size (the first request at each size is untimed too)


@dataclass(frozen=True)
class Figure:
    name: str
    app: float  # seconds, or instructions
    floor: float
    unit: str = "s"  # or "instructions"

    def shown(self, value: float) -> str:
        return milliseconds(value) if self.unit == "s" else f"{value / 1e6:.0f} M ins"


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def p99(samples: list[float]) -> float:
    """The nearest-rank 99th percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


# --- (a) cold start of the deployment package ---------------------------------------------


@dataclass(frozen=True)
class Unpacked:
    task: Path  # the function zip, as /var/task
    path: list[Path]  # what Lambda puts on sys.path: /var/task and the layer's python dirs
    note: str


def package(out: Path) -> list[Path]:
    """`chalice package --stage prod`: the zips it wrote (the function, and a layer if any)."""
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    chalice = Path(sys.executable).parent / "chalice"
    subprocess.run(
        [str(chalice), "package", "--stage", "prod", str(out)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    zips = sorted(out.glob("*.zip"))
    # As `make package` ships it: with bytecode (infra/precompile.py).
    subprocess.run([sys.executable, str(ROOT / "infra" / "precompile.py"), *map(str, zips)], check=True)
    return zips


def unpack(zips: list[Path], root: Path) -> Unpacked:
    """Unzip the function to task/ and any layer to opt/, then make it all read-only."""
    task, opt = root / "task", root / "opt"
    sizes = []
    for archive in zips:
        with zipfile.ZipFile(archive) as unzipped:
            unzipped.extractall(task if archive.name == "deployment.zip" else opt)
        sizes.append(f"{archive.name} {archive.stat().st_size / 1e6:.1f} MB")
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    layer_dirs = [opt / "python", opt / "python" / "lib" / version / "site-packages"]
    path = [task] + [folder for folder in layer_dirs if folder.is_dir()]
    if len(zips) == 1:
        sizes.append("no layer")
    for folder, _dirs, files in os.walk(root):
        for name in files:
            os.chmod(Path(folder) / name, 0o444)
        os.chmod(folder, 0o555)
    return Unpacked(task=task, path=path, note=", ".join(sizes))


def make_writable(root: Path) -> None:
    for folder, _dirs, _files in os.walk(root):
        os.chmod(folder, 0o755)


def lambda_env(unpacked: Unpacked) -> dict[str, str]:
    """Only what Lambda's environment holds, plus the app's stage: nothing from this shell."""
    return {
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",  # the zip holds no bytecode and /var/task is read-only
        "PYTHONPATH": os.pathsep.join(str(folder) for folder in unpacked.path),
        "LAMBDA_TASK_ROOT": str(unpacked.task),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "HANDOVER_STAGE": "prod",
    }


def python(unpacked: Unpacked, code: str, *options: str) -> subprocess.CompletedProcess:
    """A fresh interpreter without site-packages (-S -s): only the stdlib and the package."""
    return subprocess.run(
        [sys.executable, "-S", "-s", *options, "-c", code],
        cwd=unpacked.task,
        env=lambda_env(unpacked),
        check=True,
        capture_output=True,
        text=True,
    )


def wall_time(unpacked: Unpacked, code: str) -> float:
    started = time.perf_counter()
    python(unpacked, code)
    return time.perf_counter() - started


_ISOLATION_CHECK = """
import sys, app
print(app.__file__)
print("\\n".join(sorted({str(getattr(m, "__file__", None)) for m in list(sys.modules.values())})))
"""


def check_isolation(unpacked: Unpacked) -> str:
    """Prove `import app` reads only the unzipped package: nothing from the repo or the venv."""
    shipped = set(unpacked.task.rglob("*.pyc"))
    printed = python(unpacked, _ISOLATION_CHECK).stdout.splitlines()
    app_file, module_files = printed[0], printed[1:]
    if not Path(app_file).is_relative_to(unpacked.task):
        raise SystemExit(f"cold start: app imported from {app_file}, not from the package")
    leaks = [name for name in module_files if name.startswith((str(ROOT), sys.prefix + os.sep))]
    if leaks:
        raise SystemExit(f"cold start: modules read from the repo or the venv: {leaks[:5]}")
    # Mode bits do not stop root; PYTHONDONTWRITEBYTECODE must, and this shows it did:
    # the only bytecode is what the package shipped.
    if set(unpacked.task.rglob("*.pyc")) != shipped:
        raise SystemExit("cold start: bytecode was written into the package")
    return app_file


def instructions(unpacked: Unpacked, code: str) -> int:
    """Instructions a fresh interpreter executes running `code`, counted by valgrind's callgrind.

    Unlike a time, the count is the same on every run however busy the machine: on 2 shared
    cores the median of 15 cold starts moved from 1.03× to 1.22× between two runs of one commit.
    """
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-S", "-s", "-c", code],
        cwd=unpacked.task,
        env={**lambda_env(unpacked), "PYTHONHASHSEED": "0"},
        check=True,
        capture_output=True,
        text=True,
    )
    found = re.search(r"Collected : (\d+)", result.stderr)
    if found is None:
        raise SystemExit(f"cold start: no instruction count in callgrind's output: {result.stderr[-300:]}")
    return int(found.group(1))


def heaviest_imports(unpacked: Unpacked, count: int = 5) -> list[tuple[str, float]]:
    """`-X importtime` of `import app`, self time summed per top-level package, in seconds."""
    report = python(unpacked, "import app", "-X", "importtime").stderr
    per_package: Counter[str] = Counter()
    for line in report.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if len(fields) == 3 and fields[0].strip().isdigit():
            per_package[fields[2].strip().split(".")[0]] += int(fields[0]) / 1e6
    return per_package.most_common(count)


@dataclass(frozen=True)
class FirstRequest:
    """One request to the freshly imported package, as API Gateway sends it to Lambda."""

    name: str
    route: str  # the route pattern
    path: str
    headers: dict[str, str]
    status: int


_FIRST_REQUEST = """
import json, sys
import app
request = json.loads(sys.argv[1])
event = {
    "resource": request["route"], "path": request["path"], "httpMethod": "GET",
    "headers": request["headers"], "multiValueHeaders": {k: [v] for k, v in request["headers"].items()},
    "queryStringParameters": None, "multiValueQueryStringParameters": None,
    "pathParameters": request["parameters"], "stageVariables": None, "body": None, "isBase64Encoded": False,
    "requestContext": {"resourcePath": request["route"], "httpMethod": "GET", "path": request["path"],
                       "requestId": "bench", "stage": "prod", "identity": {"sourceIp": "127.0.0.1"}},
}
class Context:
    aws_request_id = "bench"
    function_name = "handover"
    memory_limit_in_mb = 1024
    def get_remaining_time_in_millis(self):
        return 30000
response = app.app(event, Context())
if response["statusCode"] != request["status"]:
    raise SystemExit(f"{request['path']}: {response['statusCode']} {str(response.get('body'))[:300]}")
"""


def _parameters(route: str, path: str) -> dict[str, str]:
    names = [part[1:-1] for part in route.split("/") if part.startswith("{")]
    values = [value for part, value in zip(route.split("/"), path.split("/"), strict=True) if part.startswith("{")]
    return dict(zip(names, values, strict=True))


def first_request_time(unpacked: Unpacked, stack_env: dict[str, str], request: FirstRequest) -> float:
    """A fresh interpreter imports the package and serves one request: its whole time."""
    payload = json.dumps(
        {**request.__dict__, "parameters": _parameters(request.route, request.path)}, separators=(",", ":")
    )
    env = {**lambda_env(unpacked), **stack_env, "HANDOVER_STAGE": "prod"}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-S", "-s", "-c", _FIRST_REQUEST, payload],
        cwd=unpacked.task,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started


@contextlib.contextmanager
def unpacked_package() -> Any:
    root = Path(tempfile.mkdtemp(prefix="handover-bench-"))
    try:
        unpacked = unpack(package(root / "package"), root / "unzipped")
        yield root, unpacked
    finally:
        make_writable(root)
        shutil.rmtree(root)


def cold_start(root: Path, unpacked: Unpacked) -> tuple[list[Figure], list[str], float]:
    """Import times, and the floor (seconds) the first requests are compared with."""
    app_file = check_isolation(unpacked)
    app, floor = [], []
    wall_time(unpacked, "import app")  # fill the page cache; not counted
    for _ in range(COLD_RUNS):
        app.append(wall_time(unpacked, "import app"))
        floor.append(wall_time(unpacked, "import chalice, boto3"))
    heaviest = ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in heaviest_imports(unpacked))
    notes = [
        f"package: {unpacked.note}; app imported from {app_file.removeprefix(str(root))}",
        f"heaviest imports of the app (self time per package, one run): {heaviest}",
    ]
    figures = [Figure(f"cold start (median of {COLD_RUNS})", median(app), median(floor))]
    if shutil.which("valgrind"):
        app_count, floor_count = instructions(unpacked, "import app"), instructions(unpacked, "import chalice, boto3")
        figures.append(Figure("cold start, instructions executed", app_count, floor_count, unit="instructions"))
    else:
        notes.append("valgrind is not installed (apt-get install valgrind): no instruction counts")
    return figures, notes, median(floor)


def first_requests(unpacked: Unpacked, stack: Any, client: Any, floor: float) -> tuple[list[Figure], list[str]]:
    """Import plus the first request, for a download, a landing page and an API call."""
    stack.create_user("first@example.com", "Secret-pass-1", groups=("members",))
    id_token = stack.sign_in("first@example.com", "Secret-pass-1")["IdToken"]
    file_id, token = shared_link(client, id_token)
    tidy = tidy_events(stack, file_id)
    requests_made = [
        FirstRequest("download redirect", "/s/{token}/download", f"/s/{token}/download", {"user-agent": "bench"}, 302),
        FirstRequest("landing page", "/s/{token}", f"/s/{token}", {"user-agent": "bench"}, 200),
        FirstRequest(
            "API: a file's links",
            "/api/files/{file_id}/links",
            f"/api/files/{file_id}/links",
            {"authorization": f"Bearer {id_token}"},
            200,
        ),
    ]
    stack_env = stack.environment()
    figures = []
    for request in requests_made:
        first_request_time(unpacked, stack_env, request)  # not counted
        times = []
        for _ in range(FIRST_REQUEST_RUNS):
            times.append(first_request_time(unpacked, stack_env, request))
            tidy()
        figures.append(Figure(f"import + first {request.name} ({FIRST_REQUEST_RUNS})", median(times), floor))
    note = (
        "first request: a fresh process imports the package and serves one request against the local "
        "stack (making its clients, reading the server key, verifying the token); floor: the cold start floor"
    )
    return figures, [note]


# --- (b) the download redirect in process ------------------------------------------------


def shared_link(client: Any, token: str) -> tuple[str, str]:
    """A member uploads a small file and makes a public link: the file's id and the link's token."""

    def call(method: str, path: str, body: Any = None) -> Any:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        response = getattr(client.http, method)(
            path, headers=headers, body=json.dumps(body) if body is not None else None
        )
        if response.status_code >= 300:
            raise SystemExit(f"{method.upper()} {path}: {response.status_code} {response.body[:300]!r}")
        return json.loads(response.body)

    created = call("post", "/api/files", {"name": FILE_NAME, "size": len(FILE_BYTES), "content_type": "text/plain"})
    plan = created["upload"]
    uploaded = requests.post(plan["url"], data=plan["fields"], files={"file": ("blob", FILE_BYTES)}, timeout=30)
    uploaded.raise_for_status()
    file_id = created["file"]["file_id"]
    call("post", f"/api/files/{file_id}/complete")
    # Served once scanned: the dev stack's stand-in scanner (started by the app here) scans it now.
    from devstack import scanner

    if scanner.running is not None:
        scanner.running.scan_now()
    return file_id, call("post", f"/api/files/{file_id}/links", {})["link"]["token"]


def app_download(client: Any, token: str) -> Callable[[], str]:
    path = f"/s/{token}/download"
    headers = {"User-Agent": "handover-bench"}

    def download() -> str:
        response = client.http.get(path, headers=headers)
        if response.status_code != 302:
            raise SystemExit(f"GET {path}: {response.status_code} {response.body[:300]!r}")
        return response.headers["Location"]

    return download


def floor_download(stack: Any, link_id: str) -> Callable[[], str]:
    """The calls `open_link` and `download_url` make, with plain boto3 clients made once."""
    from chalicelib.config import get_settings

    settings = get_settings()
    dynamodb = stack.client("dynamodb")
    s3 = stack.client("s3")  # SigV4 and path-style, as the app's client against the local stack
    disposition = f"attachment; filename=\"{FILE_NAME}\"; filename*=UTF-8''{FILE_NAME}"

    def download() -> str:
        link = dynamodb.get_item(TableName=settings.links_table, Key={"link_id": {"S": link_id}}, ConsistentRead=True)
        item = link["Item"]
        target = item["target"]["M"]
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
        dynamodb.update_item(
            TableName=settings.links_table,
            Key={"link_id": {"S": link_id}},
            UpdateExpression="ADD #downloads :one",
            ConditionExpression="attribute_exists(#link_id) AND attribute_not_exists(#revoked_at)",
            ExpressionAttributeNames={"#downloads": "downloads", "#revoked_at": "revoked_at", "#link_id": "link_id"},
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
        dynamodb.put_item(
            TableName=settings.events_table,
            Item={
                "file_id": {"S": item["file_id"]["S"]},
                "event_key": {"S": f"{now}Z#{secrets.token_hex(4)}"},
                "at": {"S": f"{now}+0000"},
                "kind": {"S": "link_downloaded"},
                "actor": {"S": "anonymous"},
                "link_id": {"S": link_id},
                "ip": {"S": "127.0.0.1"},
                "user_agent": {"S": "handover-bench"},
            },
        )
        params = {
            "Bucket": settings.files_bucket,
            "Key": target["s3_key"]["S"],
            "VersionId": target["version_id"]["S"],
            "ResponseContentDisposition": disposition,
            "ResponseContentType": target["content_type"]["S"],
        }
        return s3.generate_presigned_url("get_object", Params=params, ExpiresIn=settings.presign_seconds)

    return download


def tidy_events(stack: Any, file_id: str) -> Callable[[], None]:
    """Delete the download events again, untimed: every timed call then meets the same tables
    (some of moto's work grows with a table; DynamoDB's does not)."""
    from chalicelib.config import get_settings

    table = get_settings().events_table
    dynamodb = stack.client("dynamodb")

    def tidy() -> None:
        found = dynamodb.query(
            TableName=table,
            KeyConditionExpression="file_id = :file_id",
            FilterExpression="kind = :kind",
            ExpressionAttributeValues={":file_id": {"S": file_id}, ":kind": {"S": "link_downloaded"}},
            ProjectionExpression="file_id, event_key",
        )
        for item in found["Items"]:
            dynamodb.delete_item(TableName=table, Key=item)

    return tidy


def interleaved(
    first: Callable[[], Any],
    second: Callable[[], Any],
    runs: int,
    between: Callable[[], None],
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[list[float], list[float]]:
    """Time two calls turn about, so drift on the machine touches both alike."""
    first_times, second_times = [], []
    for _ in range(runs):
        started = clock()
        first()
        middle = clock()
        second()
        second_times.append(clock() - middle)
        first_times.append(middle - started)
        between()
    return first_times, second_times


@contextlib.contextmanager
def local_app() -> Any:
    """The local stack, provisioned, and Chalice's test client on the app wired to it."""
    from devstack.localstack import LocalStack, free_port

    data_dir = Path(tempfile.mkdtemp(prefix="handover-bench-stack-"))
    stack = LocalStack(data_dir=data_dir, app_url=f"http://127.0.0.1:{free_port()}")
    try:
        stack.start()
        # As tests/conftest.py: settings are read once, so the environment comes first.
        os.environ.update(stack.environment())
        stack.provision()
        os.environ.update(stack.environment())
        from chalice.test import Client

        from chalicelib.config import get_settings

        get_settings.cache_clear()
        from app import app

        # The app logs one JSON line per request on stdout: keep its cost, not its lines.
        with Client(app) as client, open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
            yield stack, client
    finally:
        stack.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def redirect_latency(stack: Any, client: Any) -> tuple[list[Figure], list[str]]:
    stack.create_user("bench@example.com", "Secret-pass-1", groups=("members",))
    id_token = stack.sign_in("bench@example.com", "Secret-pass-1")["IdToken"]
    file_id, token = shared_link(client, id_token)
    app_call, floor_call = app_download(client, token), floor_download(stack, token[:22])
    tidy = tidy_events(stack, file_id)
    served = requests.get(app_call(), timeout=30).content
    if served != FILE_BYTES:
        raise SystemExit(f"the redirect served {served[:100]!r}, not the uploaded bytes")
    interleaved(app_call, floor_call, REDIRECT_WARMUP, tidy)
    with aws_operations(this_thread=True) as app_operations:
        app_call()
    with aws_operations(this_thread=True) as floor_operations:
        floor_call()
    app_times, floor_times = interleaved(app_call, floor_call, REDIRECT_RUNS, tidy)
    figures = [
        Figure(f"download redirect median ({REDIRECT_RUNS})", median(app_times), median(floor_times)),
        Figure(f"download redirect p99 ({REDIRECT_RUNS})", p99(app_times), p99(floor_times)),
    ]
    same = "the same" if app_operations == floor_operations else f"NOT the same: {', '.join(floor_operations)}"
    notes = [
        f"redirect: AWS calls per download: {', '.join(app_operations)} (floor: {same}); "
        "followed once, S3 served the uploaded bytes"
    ]
    return figures, notes


def seed_links(file_id: str, first: int, last: int) -> float:
    """Links first..last-1 to one file, straight into the table with BatchWriteItem: the seconds it took."""
    from chalicelib.models import LinkRecord, LinkTarget

    now = datetime.now(UTC)
    target = LinkTarget(
        kind="file", name=FILE_NAME, size=len(FILE_BYTES), content_type="text/plain", updated_at=now, s3_key="x"
    )
    started = time.perf_counter()
    with LinkRecord.batch_write() as batch:
        for n in range(first, last):
            batch.save(
                LinkRecord(
                    f"seed-link-{n:06d}", file_id=file_id, owner="seed", created_at=now, updated_at=now, target=target
                )
            )
    return time.perf_counter() - started


def redirect_at_scale(stack: Any, client: Any) -> tuple[list[Figure], list[str]]:
    """The download redirect with 1,000 and then 100,000 other links in the table."""
    stack.create_user("scale@example.com", "Secret-pass-1", groups=("members",))
    id_token = stack.sign_in("scale@example.com", "Secret-pass-1")["IdToken"]
    file_id, token = shared_link(client, id_token)
    app_call, floor_call = app_download(client, token), floor_download(stack, token[:22])
    tidy = tidy_events(stack, file_id)
    timed, seeded, seeding = {}, 0, []
    for size, runs in zip(LINKS_IN_TABLE, SCALED_RUNS, strict=True):
        seeding.append(f"{size - seeded:,} in {seed_links('elsewhere', seeded, size):.0f} s")
        seeded = size
        interleaved(app_call, floor_call, 5, tidy)
        timed[size] = interleaved(app_call, floor_call, runs, tidy)
    small, large = LINKS_IN_TABLE
    at = {size: f"@{size // 1000}k" for size in LINKS_IN_TABLE}
    figures = [
        Figure(f"download redirect median {at[size]} links", median(timed[size][0]), median(timed[size][1]))
        for size in LINKS_IN_TABLE
    ]
    figures += [
        Figure(
            f"download redirect median {at[large]}/{at[small]} links", median(timed[large][0]), median(timed[small][0])
        ),
        Figure(
            f"boto3 same calls median {at[large]}/{at[small]} links", median(timed[large][1]), median(timed[small][1])
        ),
    ]
    notes = [
        f"redirect at scale ({', '.join(str(r) for r in SCALED_RUNS)} runs): links seeded with BatchWriteItem: "
        f"{', then '.join(seeding)}; a growth the boto3 row shows too is moto's"
    ]
    return figures, notes


# --- (b2) the External links tab -------------------------------------------------------------


def links_tab(stack: Any, client: Any) -> tuple[list[Figure], list[str]]:
    """The server time of the External links tab with 20 links, against the same tab with one."""
    stack.create_user("tab@example.com", "Secret-pass-1", groups=("members",))
    id_token = stack.sign_in("tab@example.com", "Secret-pass-1")["IdToken"]
    headers = {"Authorization": f"Bearer {id_token}", "Content-Type": "application/json"}
    pages = {}
    for count in TAB_LINKS:
        file_id, _ = shared_link(client, id_token)
        for _ in range(count - 1):
            client.http.post(f"/api/files/{file_id}/links", headers=headers, body="{}")
        pages[count] = f"/console/items/{file_id}?tab=links"

    def tab(path: str) -> Callable[[], None]:
        def get() -> None:
            response = client.http.get(path, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"GET {path}: {response.status_code}")

        return get

    few, many = TAB_LINKS
    interleaved(tab(pages[many]), tab(pages[few]), 5, lambda: None)
    many_times, few_times = interleaved(tab(pages[many]), tab(pages[few]), TAB_RUNS, lambda: None)
    # The app's own work: CPU time of this process, which moto and SeaweedFS are not part of.
    many_cpu, few_cpu = interleaved(tab(pages[many]), tab(pages[few]), TAB_RUNS, lambda: None, time.process_time)
    with aws_operations(this_thread=True) as many_calls:
        tab(pages[many])()
    with aws_operations(this_thread=True) as few_calls:
        tab(pages[few])()
    body = client.http.get(pages[many], headers=headers).body.decode()
    drawn, fetched = body.count("data-qr-draw="), len(re.findall(r"<img[^>]+/qr\.svg", body))
    notes = [
        f"links tab: {drawn} QR codes drawn by the page, {fetched} fetched as images; AWS calls with "
        f"{many} links: {calls(many_calls)}; with {few}: {calls(few_calls)}. The wall time includes moto's "
        "server, whose Query reads its whole table and serialises each item; the CPU row is the app's own"
    ]
    return [
        Figure(f"links tab median {many} links/{few} link", median(many_times), median(few_times)),
        Figure(f"links tab app CPU median {many} links/{few} link", median(many_cpu), median(few_cpu)),
    ], notes


# --- (c) the admin's list of external users -----------------------------------------------

SEED_DAY = datetime(2020, 1, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class ListRequest:
    """One typical request of the admin's list, and the index it reads."""

    name: str
    params: dict[str, str]
    index: str
    ascending: bool
    runs: tuple[int, int]  # timed requests at each size of PEOPLE: moto's Query slows as the table grows


LIST_REQUESTS = (
    ListRequest("first page", {"limit": "50"}, "PeopleBySignUp", False, (100, 30)),
    ListRequest(
        "by last login asc",
        {"limit": "50", "sort": "last_login_at", "order": "asc"},
        "PeopleByLastLogin",
        True,
        (100, 30),
    ),
    # The same people match at both sizes: what a search reads should not grow with the list.
    # moto's Query reads its whole table, and the search index holds ~47 entries a person:
    # a search at 10,000 takes seconds in moto, so few runs there.
    ListRequest("search email part", {"limit": "50", "q": "p00042@"}, "PeopleBySignUp", False, (30, 3)),
    ListRequest("search name part", {"limit": "50", "q": "Seedling 0004"}, "PeopleBySignUp", False, (30, 3)),
    ListRequest("search phone digits", {"limit": "50", "q": "+49 30 555 0004"}, "PeopleBySignUp", False, (30, 3)),
    # One person in 100 matches: 1 at 100, a full page of 50 (of 100) at 10,000.
    ListRequest("search 1 in 100", {"limit": "50", "q": "77@"}, "PeopleBySignUp", False, (30, 3)),
)


def external_user(n: int) -> Any:
    """The n-th external user: one signs up an hour after the other; two in three signed in since."""
    from chalicelib.more_models import PersonRecord

    signed_up = SEED_DAY + timedelta(hours=n)
    login = signed_up + timedelta(days=n % 97, minutes=n % 60) if n % 3 else None
    email, name, phone = f"p{n:05d}@seedling.example", f"Ada Seedling {n:05d}", f"+4930555{n:05d}"
    return PersonRecord(
        f"seed-{n:05d}",
        sub=f"seed-{n:05d}",
        email=email,
        name=name,
        phone=phone,
        status="CONFIRMED",
        signed_up_at=signed_up,
        last_login_at=login,
        last_login_key=login.isoformat().replace("+00:00", "Z") if login else "0",
        search=f"{name} {email} {phone}".lower(),
    )


def seed_people(first: int, last: int) -> float:
    """Users first..last-1 straight into the projection and its search index with BatchWriteItem:
    the seconds it took."""
    from chalicelib import search
    from chalicelib.more_models import PersonRecord

    started = time.perf_counter()
    people = [external_user(n) for n in range(first, last)]
    with PersonRecord.batch_write() as batch:
        for person in people:
            batch.save(person)
    search.write(people)
    return time.perf_counter() - started


def app_list(client: Any, token: str, request: ListRequest) -> Callable[[], list[dict[str, Any]]]:
    path = f"/api/admin/external-users?{urlencode(request.params)}"
    headers = {"Authorization": f"Bearer {token}"}

    def listing() -> list[dict[str, Any]]:
        response = client.http.get(path, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: {response.status_code} {response.body[:300]!r}")
        return json.loads(response.body)["users"]

    return listing


def floor_list(stack: Any, request: ListRequest) -> Callable[[], list[str]]:
    """A plain Query of one page on the request's index, unfiltered, with a boto3 client made once."""
    from chalicelib.config import get_settings

    dynamodb = stack.client("dynamodb")
    query = {
        "TableName": get_settings().people_table,
        "IndexName": request.index,
        "KeyConditionExpression": "#directory = :directory",
        "ExpressionAttributeNames": {"#directory": "directory"},
        "ExpressionAttributeValues": {":directory": {"S": "external"}},
        "ScanIndexForward": request.ascending,
        "Limit": int(request.params["limit"]),
    }

    def listing() -> list[str]:
        return [item["username"]["S"] for item in dynamodb.query(**query)["Items"]]

    return listing


# The X-Amz-Target prefixes of the JSON-protocol services the app calls, and their clients' names.
_SERVICES = {"DynamoDB_20120810": "dynamodb", "AWSCognitoIdentityProviderService": "cognito-idp"}


def replayed(stack: Any, app_call: Callable[[], Any]) -> Callable[[], None]:
    """The AWS calls one request of the app makes, recorded once, then made again by plain boto3
    clients made once: a floor that does exactly the app's AWS work, and nothing else."""
    from botocore import xform_name

    with aws_requests(this_thread=True) as sent:
        app_call()
    clients = {prefix: stack.client(name) for prefix, name in _SERVICES.items()}
    calls = []
    for target, body in sent:
        prefix, _, operation = target.partition(".")
        if prefix not in clients:
            raise SystemExit(f"replay: no client for {target}")
        calls.append((getattr(clients[prefix], xform_name(operation)), body))

    def replay() -> None:
        for call, body in calls:
            call(**body)

    return replay


@dataclass(frozen=True)
class Timed:
    app: list[float]
    floor: list[float]
    operations: list[str]  # the AWS operations of one app request
    read: int  # the items its Queries read
    found: int  # users on its page


def time_list(client: Any, stack: Any, token: str, request: ListRequest, warmup: int, runs: int) -> Timed:
    app_call, floor_call = app_list(client, token, request), floor_list(stack, request)
    users, page = app_call(), floor_call()
    if "q" in request.params:
        if not users:
            raise SystemExit(f"admin list, {request.name}: found nobody")
        # A search reads the search index, not a page of the list: its floor is its own calls.
        floor_call = replayed(stack, app_call)
    elif [user["username"] for user in users] != page:
        raise SystemExit(f"admin list, {request.name}: the app and a plain Query list different users")
    interleaved(app_call, floor_call, warmup, lambda: None)
    with aws_operations(this_thread=True) as operations, items_read(this_thread=True) as read:
        app_call()
    app_times, floor_times = interleaved(app_call, floor_call, runs, lambda: None)
    return Timed(app_times, floor_times, operations, read[0], len(users))


def calls(operations: list[str]) -> str:
    return ", ".join(f"{name} x{count}" if count > 1 else name for name, count in Counter(operations).items())


def admin_list_latency(stack: Any, client: Any) -> tuple[list[Figure], list[str]]:
    stack.create_user("bench-admin@example.com", "Secret-pass-1", groups=("members", "admins"))
    token = stack.sign_in("bench-admin@example.com", "Secret-pass-1")["IdToken"]
    small, large = PEOPLE
    timed: dict[int, dict[str, Timed]] = {}
    seeding, seeded = [], 0
    for step, size in enumerate(PEOPLE):
        seeding.append(f"{size - seeded:,} in {seed_people(seeded, size):.1f} s")
        seeded = size
        timed[size] = {
            request.name: time_list(client, stack, token, request, LIST_WARMUP[step], request.runs[step])
            for request in LIST_REQUESTS
        }
    per, at = f"@{large // 1000}k/@{small}", f"@{large // 1000}k"
    figures, floors, notes = [], {}, []
    for request in LIST_REQUESTS:
        before, after = timed[small][request.name], timed[large][request.name]
        figures += [
            Figure(f"admin {request.name} median {per}", median(after.app), median(before.app)),
            Figure(f"admin {request.name} p99 {per}", p99(after.app), p99(before.app)),
        ]
        if "q" in request.params:  # against its own AWS calls made by boto3 (see time_list)
            figures += [
                Figure(f"admin {request.name} median {at}/same calls", median(after.app), median(after.floor)),
                Figure(f"boto3 same calls {request.name} median {per}", median(after.floor), median(before.floor)),
            ]
        else:  # against a plain Query of one page
            figures.append(Figure(f"admin {request.name} median {at}", median(after.app), median(after.floor)))
            floors.setdefault(request.index, (before.floor, after.floor))
        growth = f"{after.read / before.read:.2f}x" if before.read else "n/a"
        notes.append(
            f"admin {request.name} ({request.runs[0]} runs @{small:,}, {request.runs[1]} @{large:,}): "
            f"{calls(after.operations)}; items read {before.read} -> {after.read} ({per} {growth}), "
            f"users on the page {before.found} -> {after.found}"
        )
    for index, (before, after) in floors.items():
        figures.append(Figure(f"boto3 Query {index} median {per}", median(after), median(before)))
    notes.append(f"admin list: external users seeded with BatchWriteItem: {', then '.join(seeding)}")
    return figures, notes


# --- the table ----------------------------------------------------------------------------


def milliseconds(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.0f} ms" if ms >= 100 else f"{ms:.1f} ms"


LEGEND = (
    "ratio = app/floor, except in rows 'A/B': the same request at A (app column) over at B (floor column); "
    "'import + first ...' rows are over the cold start floor"
)


def table(figures: list[Figure]) -> str:
    width = max(36, *(len(figure.name) + 2 for figure in figures))
    rows = [f"{'benchmark':<{width}}{'app':>10}{'floor':>11}{'ratio':>9}"]
    for figure in figures:
        ratio = figure.app / figure.floor
        rows.append(
            f"{figure.name:<{width}}{figure.shown(figure.app):>10}{figure.shown(figure.floor):>11}{ratio:>9.2f}"
        )
    return "\n".join(rows)


def section(title: str, figures: list[Figure], notes: list[str]) -> None:
    """Print one part as soon as it is measured: a later part that fails loses nothing.

    To the real stdout: inside `local_app` the app's log lines go to /dev/null."""
    out = sys.__stdout__
    print(f"-- {title}", file=out)
    print(table(figures), file=out)
    for note in notes:
        print(note, file=out)
    print(file=out, flush=True)


def main() -> None:
    """`make bench` measures every part; `tests/bench.py PART ...` only the parts named (as printed by --help)."""
    parts = {
        "cold": "cold start and first requests",
        "redirect": "download redirect",
        "tab": "External links tab",
        "scale": "download redirect with many links",
        "people": "admin list",
    }
    chosen = set(sys.argv[1:]) or set(parts)
    if not chosen <= set(parts):
        raise SystemExit(
            "usage: tests/bench.py [PART ...], PART among: " + ", ".join(f"{k} ({v})" for k, v in parts.items())
        )
    started = time.perf_counter()
    # moto's Query reads its whole table: under load, a search at 10,000 users can outlast
    # pynamodb's 30 s read timeout. The app's own setting stays as it is.
    settings = Path(tempfile.mkdtemp(prefix="handover-bench-pynamodb-")) / "settings.py"
    settings.write_text("read_timeout_seconds = 900\n")
    os.environ["PYNAMODB_CONFIG"] = str(settings)
    print(LEGEND, end="\n\n")
    with contextlib.ExitStack() as context:
        if "cold" in chosen:
            root, unpacked = context.enter_context(unpacked_package())
            cold, cold_notes, floor = cold_start(root, unpacked)
            section("cold start", cold, cold_notes)
        stack, client = context.enter_context(local_app())
        if "cold" in chosen:
            section("first request after a cold import", *first_requests(unpacked, stack, client, floor))
        if "redirect" in chosen:
            section("download redirect", *redirect_latency(stack, client))
        if "tab" in chosen:
            section("External links tab", *links_tab(stack, client))
        if "scale" in chosen:
            section("download redirect with many links", *redirect_at_scale(stack, client))
        if "people" in chosen:
            section("admin list", *admin_list_latency(stack, client))
    print(f"took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
