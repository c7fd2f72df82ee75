"""The mail queue's consumer on a laptop: `chalice local` runs no `on_sqs_message` handler, so this
receives from moto's SQS and calls the app's own handler (app.send_mail) with the event shape
Lambda gives it; a handler that raises leaves the message for SQS to deliver again, and SQS's
redrive moves it to the dead-letter queue after its last attempt, as on AWS. It also runs the
daily job (app.daily_mail) when it starts and every day after. Never packaged.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from typing import Any

from chalicelib import aws, mail
from chalicelib.config import get_settings


def _event(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS event as Lambda's event source mapping hands one message to a function."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": get_settings().region,
            }
        ]
    }


def scheduled_event() -> dict[str, Any]:
    """The event EventBridge hands a function on its schedule."""
    from datetime import UTC, datetime

    settings = get_settings()
    return {
        "version": "0",
        "id": "local-schedule",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": settings.region,
        "resources": [f"arn:aws:events:{settings.region}:123456789012:rule/handover-daily-mail"],
        "detail": {},
    }


def drain(handler: Any, limit: int = 1000) -> int:
    """Hand every waiting message to `handler` (app.send_mail), one by one; answers how many were handled.

    A failed message is made visible again at once, so a local run retries it without
    waiting for its visibility timeout; SQS counts each receive toward the redrive.
    """
    sqs = aws.sqs()
    url = mail.queue_url()
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    handled = 0
    for _ in range(limit):
        found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"], WaitTimeSeconds=0)
        messages = found.get("Messages", [])
        if not messages:
            break
        message = messages[0]
        handled += 1
        try:
            handler(_event(message, arn), None)
        except Exception as error:  # noqa: BLE001 - as Lambda: the message stays on the queue
            print(json.dumps({"level": "WARNING", "message": "Mail handler failed; SQS retries", "error": repr(error)}))
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
            continue
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return handled


def run(stop: threading.Event, every: float = 1.0, day: float = 86400.0) -> None:
    """Drain the queue every `every` seconds and run the daily job every `day` seconds, until `stop` is set."""
    from app import daily_mail, send_mail

    last_daily = 0.0
    while not stop.is_set():
        try:
            if time.monotonic() - last_daily >= day or not last_daily:
                daily_mail(scheduled_event(), None)
                last_daily = time.monotonic()
            drain(send_mail)
        except Exception as error:  # noqa: BLE001 - keep the dev stack's mail going
            print(json.dumps({"level": "ERROR", "message": "Mail worker failed", "error": repr(error)}))
        stop.wait(every)


def main() -> None:
    """`make dev` runs this beside `chalice local`, in the same environment."""
    if not get_settings().mail_on:
        print("Mail is off (no MAIL_IDENTITY): the mail worker has nothing to do.", flush=True)
        return
    stop = threading.Event()
    # Ctrl-C or `make dev` stopping: finish the message at hand, then leave quietly.
    for stopping in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stopping, lambda *_: stop.set())
    run(stop)


if __name__ == "__main__":
    main()
