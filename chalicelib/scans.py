"""Malware scans: every version that arrives is `pending` until its scan says `clean`.

On AWS, GuardDuty Malware Protection for S3 scans each new object under `files/`, tags
it (`GuardDutyMalwareScanStatus`) and sends an EventBridge event that `app.scan_result`
hands to `record_event`; in the dev stack a stand-in scanner does the same. Only a
clean version is ever served: a link keeps serving the last clean one meanwhile, an
infected one is marked with its finding and never presigned, and a scan that never
answers leaves the version pending (fail closed).

The event may arrive before the version is written down (a member's POST lands in S3
before they call complete), so a version also settles from its object's tag once it is
recorded (`settle_from_tag`); whichever comes second finds the other.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib import audit, clock, storage, versions
from chalicelib.audit import Actor
from chalicelib.config import get_settings
from chalicelib.models import FileRecord, condition_failed
from chalicelib.more_models import VersionRecord

PENDING, CLEAN, INFECTED = versions.PENDING, versions.CLEAN, versions.INFECTED

# GuardDuty's names: the object tag, the event, and the results it gives.
TAG = "GuardDutyMalwareScanStatus"
UNNAMED_THREAT = "malware"  # what an infected version says until the scanner's own finding is known
FINDING_TAG = "HandoverScanFinding"  # ours: the threats of a result that came before its version was recorded
EVENT_SOURCE = "aws.guardduty"
EVENT_DETAIL_TYPE = "GuardDuty Malware Protection Object Scan Result"
NO_THREATS_FOUND = "NO_THREATS_FOUND"
THREATS_FOUND = "THREATS_FOUND"
_OUTCOMES = {NO_THREATS_FOUND: CLEAN, THREATS_FOUND: INFECTED}

_SCANNER = Actor("scanner:malware")
_FILE_ID = re.compile(r"^[0-9a-f]{32}\Z")


@dataclass(frozen=True)
class ScanResult:
    """One scan of one S3 object version, as the event reports it."""

    bucket: str
    key: str
    version_id: str
    status: str  # NO_THREATS_FOUND, THREATS_FOUND, UNSUPPORTED, ACCESS_DENIED or FAILED
    threats: tuple[str, ...] = ()


def result_of(event: dict[str, Any]) -> ScanResult | None:
    """The scan an EventBridge event reports, or None when it is not a scan result we can read."""
    if event.get("source") != EVENT_SOURCE or event.get("detail-type") != EVENT_DETAIL_TYPE:
        return None
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    target = detail.get("s3ObjectDetails") if isinstance(detail.get("s3ObjectDetails"), dict) else {}
    outcome = detail.get("scanResultDetails") if isinstance(detail.get("scanResultDetails"), dict) else {}
    fields = (target.get("bucketName"), target.get("objectKey"), target.get("versionId"))
    status = outcome.get("scanResultStatus")
    if not all(isinstance(value, str) and value for value in (*fields, status)):
        return None
    threats = outcome.get("threats") if isinstance(outcome.get("threats"), list) else []
    names = tuple(str(t.get("name")) for t in threats if isinstance(t, dict) and t.get("name"))
    return ScanResult(*fields, status=status, threats=names)  # type: ignore[arg-type]


def record_event(event: dict[str, Any]) -> str:
    """Turn a scan result event into its version's state; what was done, for the log line."""
    result = result_of(event)
    if result is None:
        return _ignored("unreadable", event_id=str(event.get("id", ""))[:64])
    file_id = result.key.removeprefix(storage.FILES)
    if result.bucket != get_settings().files_bucket or not result.key.startswith(storage.FILES):
        return _ignored("not_a_file", key=result.key[:300])
    version = versions.version_by_id(file_id, result.version_id) if _FILE_ID.match(file_id) else None
    if version is None:
        # Deleted since, or not written down yet: then it settles from the tag (settle_from_tag),
        # which says only the result; the finding waits beside it on the object.
        if result.threats and _FILE_ID.match(file_id):
            storage.add_object_tag(result.key, result.version_id, FINDING_TAG, _as_tag(", ".join(result.threats)))
            # Recorded meanwhile, and settled from the tag before the finding was beside it?
            version = versions.version_by_id(file_id, result.version_id)
        if version is None:
            return _ignored("unknown_version", file_id=file_id[:64], version_id=result.version_id[:1024])
    outcome = apply(version, result.status, result.threats)
    if outcome == "unchanged" and result.threats:
        # Settled from the tag meanwhile, maybe after `version` was read: DynamoDB, not this
        # copy, knows whether it still says only UNNAMED_THREAT.
        _name_threats(version, ", ".join(result.threats))
    return outcome


def settle_from_tag(version: VersionRecord, key: str) -> str:
    """Apply a scan that finished before the version was written down, if its tag says so."""
    tags = storage.object_tags(key, version.version_id)
    if TAG not in tags:
        return PENDING
    return apply(version, tags[TAG], tuple(filter(None, [_from_tag(tags.get(FINDING_TAG, ""))])))


def _as_tag(text: str) -> str:
    """Tag values take only a few characters; threat names have others (`EICAR-Test-File (not a virus)`)."""
    return base64.urlsafe_b64encode(text.encode()[:190]).decode()


def _from_tag(value: str) -> str:
    try:
        return base64.urlsafe_b64decode(value.encode()).decode(errors="replace")
    except ValueError:
        return ""


def apply(version: VersionRecord, status: str, threats: tuple[str, ...] = ()) -> str:
    """Record a scan's outcome on a pending version; a clean one becomes what the file serves.

    Only a pending version changes, once: repeated events (EventBridge delivers at least
    once) and late ones change nothing. A result other than clean or infected (too big,
    access denied, failed) leaves it pending, with the reason, for the owner to see.
    """
    state = _OUTCOMES.get(status, PENDING)
    finding = None
    if state == INFECTED:
        finding = ", ".join(threats) or UNNAMED_THREAT
    elif state == PENDING:
        finding = f"The scan could not finish ({status}); the version stays unserved."
    now = clock.now()
    try:
        version.update(
            actions=[
                VersionRecord.state.set(state),
                VersionRecord.scanned_at.set(now),
                VersionRecord.finding.set(finding) if finding else VersionRecord.finding.remove(),
            ],
            condition=VersionRecord.state == PENDING,
        )
    except UpdateError as error:
        if not condition_failed(error):
            raise
        return "unchanged"
    _file_state(version.file_id, version.uploaded_at, state)
    detail = {"version_id": version.version_id, "result": status} | ({"finding": finding} if finding else {})
    audit.record(
        version.file_id, f"scan_{state if state != PENDING else 'failed'}", _SCANNER, version.link_id, **detail
    )
    if state == CLEAN:
        versions.publish(version)
    return state


def _name_threats(version: VersionRecord, finding: str) -> None:
    """Name what was found in a version settled from its tag alone (the tag says only that it is infected)."""
    try:
        version.update(
            actions=[VersionRecord.finding.set(finding)],
            condition=(VersionRecord.state == INFECTED) & (VersionRecord.finding == UNNAMED_THREAT),
        )
    except UpdateError as error:
        if not condition_failed(error):
            raise


def _file_state(file_id: str, arrived_at: datetime, state: str) -> None:
    """The file shows the state of its newest arrival only."""
    try:
        FileRecord(file_id).update(
            actions=[FileRecord.state.set(state)],
            condition=FileRecord.arrived_at == arrived_at,
        )
    except UpdateError as error:
        if not condition_failed(error):
            raise


def _ignored(reason: str, **detail: str) -> str:
    """One JSON log line (CloudWatch on Lambda), as web logs requests."""
    print(json.dumps({"level": "WARNING", "message": "scan_result_ignored", "reason": reason, **detail}), flush=True)
    return "ignored"
