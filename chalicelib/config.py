"""Settings: every environment variable the app reads, read once into one frozen object."""

from __future__ import annotations

import os
from functools import lru_cache

import msgspec

MiB = 1024 * 1024
GiB = 1024 * MiB

MAIL_QUEUE_NAME = "handover-mail"  # the local stack's queue; on AWS the template names it


# A Struct, not a dataclass: a frozen dataclass of this size costs ~3 ms of cold start to define.
class Settings(msgspec.Struct, frozen=True, kw_only=True):
    stage: str
    region: str
    files_bucket: str
    files_table: str
    links_table: str
    events_table: str
    throttle_table: str
    sessions_table: str
    grants_table: str
    people_table: str
    people_search_table: str
    collaborations_table: str
    invitations_table: str
    versions_table: str
    uploads_table: str
    user_pool_id: str
    user_pool_client_id: str
    cognito_issuer: str
    cognito_jwks_url: str
    server_key_parameter: str  # SSM SecureString holding the server key, made at first use
    login_domain: str  # the hosted login page's base URL
    session_hours: int
    public_url: str  # empty: derive the site's URL from the request
    presign_seconds: int
    multipart_threshold: int
    multipart_part_size: int
    max_file_size: int
    # Bucket lifecycle: abandoned multipart uploads and staged recipient uploads are
    # removed after this many days; noncurrent versions expire after N days (0: never).
    incomplete_upload_days: int
    noncurrent_version_days: int
    max_link_days: int
    link_retention_days: int
    guess_limit: int
    guess_window_seconds: int
    zip_function: str  # the Lambda function that builds a folder's ZIP (zips.py), invoked asynchronously
    # Email through SES: off while no identity (a verified domain or address) is configured.
    team_name: str
    mail_identity: str
    mail_from: str  # the From address; empty: derived from the identity
    mail_queue_url: str  # the SQS queue mail goes through; empty: its URL is asked by name
    mail_table: str
    # Endpoints of the embedded local AWS; empty on AWS, where boto3 finds the real ones.
    s3_endpoint: str
    dynamodb_endpoint: str
    cognito_endpoint: str
    ssm_endpoint: str
    lambda_endpoint: str
    sqs_endpoint: str
    ses_endpoint: str

    @property
    def mail_on(self) -> bool:
        return bool(self.mail_identity)

    @property
    def sender(self) -> str:
        """The address mail comes from: MAIL_FROM, the identity when it is an address, else one at its domain."""
        if self.mail_from:
            return self.mail_from
        return self.mail_identity if "@" in self.mail_identity else f"handover@{self.mail_identity}"


def _int(env: dict, name: str, default: int) -> int:
    raw = env.get(name, "")
    return int(raw) if raw.strip() else default


def settings_from(env: dict) -> Settings:
    """Build Settings from a mapping of environment variables."""
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    pool_id = env.get("USER_POOL_ID", "")
    issuer = env.get("COGNITO_ISSUER") or f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
    return Settings(
        stage=env.get("HANDOVER_STAGE", "local"),
        region=region,
        files_bucket=env.get("FILES_BUCKET", "handover-files"),
        files_table=env.get("FILES_TABLE", "handover-files"),
        links_table=env.get("LINKS_TABLE", "handover-links"),
        events_table=env.get("EVENTS_TABLE", "handover-events"),
        throttle_table=env.get("THROTTLE_TABLE", "handover-throttle"),
        sessions_table=env.get("SESSIONS_TABLE", "handover-sessions"),
        grants_table=env.get("GRANTS_TABLE", "handover-grants"),
        people_table=env.get("PEOPLE_TABLE", "handover-people"),
        people_search_table=env.get("PEOPLE_SEARCH_TABLE", "handover-people-search"),
        collaborations_table=env.get("COLLABORATIONS_TABLE", "handover-collaborations"),
        invitations_table=env.get("INVITATIONS_TABLE", "handover-invitations"),
        versions_table=env.get("VERSIONS_TABLE", "handover-versions"),
        uploads_table=env.get("UPLOADS_TABLE", "handover-uploads"),
        user_pool_id=pool_id,
        user_pool_client_id=env.get("USER_POOL_CLIENT_ID", ""),
        cognito_issuer=issuer,
        # moto serves the JWKS at its own endpoint while `iss` keeps the AWS form.
        cognito_jwks_url=env.get("COGNITO_JWKS_URL") or f"{issuer}/.well-known/jwks.json",
        server_key_parameter=env.get("SERVER_KEY_PARAMETER", "/handover/local/server-key"),
        login_domain=env.get("LOGIN_DOMAIN", "").rstrip("/"),
        session_hours=_int(env, "SESSION_HOURS", 12),
        public_url=env.get("PUBLIC_URL", "").rstrip("/"),
        presign_seconds=_int(env, "PRESIGN_SECONDS", 300),
        multipart_threshold=_int(env, "MULTIPART_THRESHOLD", 64 * MiB),
        multipart_part_size=_int(env, "MULTIPART_PART_SIZE", 16 * MiB),
        max_file_size=_int(env, "MAX_FILE_SIZE", 5 * GiB),
        incomplete_upload_days=max(_int(env, "INCOMPLETE_UPLOAD_DAYS", 7), 1),
        noncurrent_version_days=_int(env, "NONCURRENT_VERSION_DAYS", 0),
        max_link_days=_int(env, "MAX_LINK_DAYS", 365),
        link_retention_days=_int(env, "LINK_RETENTION_DAYS", 30),
        guess_limit=_int(env, "GUESS_LIMIT", 30),
        guess_window_seconds=_int(env, "GUESS_WINDOW_SECONDS", 300),
        zip_function=env.get("ZIP_FUNCTION", "handover-zip-builder"),
        team_name=env.get("TEAM_NAME", "").strip() or "Handover",
        mail_identity=env.get("MAIL_IDENTITY", "").strip(),
        mail_from=env.get("MAIL_FROM", "").strip(),
        mail_queue_url=env.get("MAIL_QUEUE_URL", ""),
        mail_table=env.get("MAIL_TABLE", "handover-mail"),
        s3_endpoint=env.get("AWS_ENDPOINT_URL_S3", ""),
        dynamodb_endpoint=env.get("AWS_ENDPOINT_URL_DYNAMODB", ""),
        cognito_endpoint=env.get("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", ""),
        ssm_endpoint=env.get("AWS_ENDPOINT_URL_SSM", ""),
        lambda_endpoint=env.get("AWS_ENDPOINT_URL_LAMBDA", ""),
        sqs_endpoint=env.get("AWS_ENDPOINT_URL_SQS", ""),
        ses_endpoint=env.get("AWS_ENDPOINT_URL_SESV2", ""),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read at first use (cold start)."""
    return settings_from(dict(os.environ))
