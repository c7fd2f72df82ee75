"""GuardDuty Malware Protection for S3's stand-in in the dev stack (never packaged).

It watches the files bucket as GuardDuty does (new object versions under `files/`), reads
each one, tags it with GuardDuty's tag and result, and hands the app's event handler the
EventBridge event GuardDuty would send, so the same code turns results into states. It
finds only the EICAR test file (the antivirus industry's harmless test string), which is
what tests and demos send to see an infected upload.

`chalice local` runs no event handlers, so this runs inside the app's process (app.py
starts it in the local stage), polling S3 on a thread. Tests call `scan_now()` to have
everything that has arrived scanned before they go on, and `paused()` to hold scans back
as a scan that never answers would.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from chalicelib import scans, storage
from chalicelib.aws import s3
from chalicelib.config import get_settings

# The EICAR test file (eicar.org); kept in two pieces so this source is not itself flagged.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
EICAR_THREAT = "EICAR-Test-File (not a virus)"
PLAN_ARN = "arn:aws:guardduty:us-east-1:123456789012:malware-protection-plan/local-stand-in"
_POLL_SECONDS = 0.5


def scan_event(bucket: str, key: str, version_id: str, etag: str, threats: list[str]) -> dict[str, Any]:
    """The EventBridge event GuardDuty sends for one completed object scan."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": scans.EVENT_DETAIL_TYPE,
        "source": scans.EVENT_SOURCE,
        "account": PLAN_ARN.split(":")[4],
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": get_settings().region,
        "resources": [PLAN_ARN],
        "detail": {
            "schemaVersion": "1.0",
            "scanStatus": "COMPLETED",
            "resourceType": "S3_OBJECT",
            "s3ObjectDetails": {
                "bucketName": bucket,
                "objectKey": key,
                "eTag": etag,
                "versionId": version_id,
                "s3Throttled": False,
            },
            "scanResultDetails": {
                "scanResultStatus": scans.THREATS_FOUND if threats else scans.NO_THREATS_FOUND,
                "threats": [{"name": name} for name in threats] or None,
            },
        },
    }


class StandInScanner:
    """Scans each new object version under `files/` once, and delivers its result event."""

    def __init__(self, deliver: Callable[[dict[str, Any], Any], Any]) -> None:
        self._deliver = deliver
        self._seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()  # one pass at a time: a pass that returns has seen all before it
        self._paused = 0
        self._stop = threading.Event()

    def scan_now(self) -> int:
        """Scan every version that arrived and was not scanned yet; how many were scanned."""
        with self._lock:
            if self._paused:
                return 0
            bucket = get_settings().files_bucket
            done = 0
            pages = s3().get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=storage.FILES)
            for page in pages:
                for version in page.get("Versions", []):
                    if (version["Key"], version["VersionId"]) not in self._seen:
                        self._scan(bucket, version["Key"], version["VersionId"], version.get("ETag", ""))
                        done += 1
            return done

    def _scan(self, bucket: str, key: str, version_id: str, etag: str) -> None:
        self._seen.add((key, version_id))
        body = s3().get_object(Bucket=bucket, Key=key, VersionId=version_id)["Body"].read()
        threats = [EICAR_THREAT] if EICAR in body else []
        status = scans.THREATS_FOUND if threats else scans.NO_THREATS_FOUND
        # As GuardDuty: the tag first, then the event.
        s3().put_object_tagging(
            Bucket=bucket, Key=key, VersionId=version_id, Tagging={"TagSet": [{"Key": scans.TAG, "Value": status}]}
        )
        self._deliver(scan_event(bucket, key, version_id, etag.strip('"'), threats), None)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Hold every scan back, as a scan that never answers would; what arrived meanwhile is scanned after."""
        with self._lock:
            self._paused += 1
        try:
            yield
        finally:
            with self._lock:
                self._paused -= 1

    def run(self) -> None:
        while not self._stop.wait(_POLL_SECONDS):
            try:
                self.scan_now()
            except Exception as error:  # the stack stopping, a version deleted meanwhile: try again next time
                print(f"stand-in scanner: {error!r}", flush=True)
                time.sleep(_POLL_SECONDS)

    def stop(self) -> None:
        self._stop.set()


running: StandInScanner | None = None


def start(handler: Callable[[dict[str, Any], Any], Any]) -> StandInScanner:
    """Start the stand-in on a thread of this process, delivering to `handler` (once per process)."""
    global running
    if running is None:
        running = StandInScanner(handler)
        threading.Thread(target=running.run, name="stand-in-scanner", daemon=True).start()
    return running
