"""AWS clients, made once per process and lazily, with endpoints from settings."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import botocore.session
from botocore.config import Config

from chalicelib.config import get_settings


def _client(service: str, endpoint: str, config: Config | None = None) -> Any:
    # botocore's own clients: boto3 adds only resources and transfer helpers, unused here,
    # and importing it would add about a tenth to every cold start.
    settings = get_settings()
    return botocore.session.get_session().create_client(
        service,
        region_name=settings.region,
        endpoint_url=endpoint or None,
        config=config,
    )


@lru_cache(maxsize=1)
def s3() -> Any:
    settings = get_settings()
    # botocore presigns with SigV2 unless told otherwise; local S3 needs path-style URLs.
    style = "path" if settings.s3_endpoint else "virtual"
    config = Config(signature_version="s3v4", s3={"addressing_style": style})
    return _client("s3", settings.s3_endpoint, config)


@lru_cache(maxsize=1)
def cognito() -> Any:
    return _client("cognito-idp", get_settings().cognito_endpoint)


@lru_cache(maxsize=1)
def ssm() -> Any:
    return _client("ssm", get_settings().ssm_endpoint)


@lru_cache(maxsize=1)
def lambda_() -> Any:
    return _client("lambda", get_settings().lambda_endpoint)


@lru_cache(maxsize=1)
def sqs() -> Any:
    return _client("sqs", get_settings().sqs_endpoint)


@lru_cache(maxsize=1)
def sesv2() -> Any:
    # The queue retries a failed send (SQS redrive); botocore's own retries stay short.
    return _client("sesv2", get_settings().ses_endpoint, Config(retries={"mode": "standard", "max_attempts": 2}))
