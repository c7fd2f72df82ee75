"""The embedded local AWS: SeaweedFS's S3 gateway and moto's server on loopback.

S3 is SeaweedFS because it enforces presigned URLs and POST policies as S3 does (moto's
S3 does not); DynamoDB, Cognito and SSM Parameter Store are moto's server. Both speak HTTP
on 127.0.0.1, so browsers and curl can use presigned URLs. Resources get the names the
app's settings use, so the same code runs here and on AWS. Used by `make dev` and tests.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.config import MAIL_QUEUE_NAME, Settings
from devstack.local_lambda import LocalLambda
from handover_cli.login import CALLBACK_PORT, callback_url

ACCESS_KEY = "handover-local"
SECRET_KEY = "handover-local-secret"
REGION = "us-east-1"
DEMO_USER = "demo@handover.local"
DEMO_PASSWORD = "Handover-demo-1"
ZIP_FUNCTION = "handover-local-zip-builder"
MAIL_DOMAIN = "handover.local"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _bin(name: str) -> str:
    """A console script installed next to this interpreter (the virtualenv's bin/)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def _wait_for(url: str, process: subprocess.Popen, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answered, even if with an error status
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer on {url} within {seconds:.0f} s")


@dataclass
class LocalStack:
    """The local AWS processes and what was provisioned in them."""

    data_dir: Path
    app_url: str  # where the app is served: CORS origin, sign-in callback, hosted-login stand-in
    s3_port: int = field(default_factory=free_port)
    moto_port: int = field(default_factory=free_port)
    lambda_port: int = field(default_factory=free_port)
    # SQS and SES get a moto server of their own: moto's record of sent mail
    # (`/moto-api/data.json`) then holds mail, not every table's items, and reads fast.
    mail_port: int = field(default_factory=free_port)
    # The `handover` command's loopback callback, registered on the app client as on AWS; the
    # tests register a free port instead, so that suites running side by side do not collide.
    cli_login_port: int = CALLBACK_PORT
    processes: list[subprocess.Popen] = field(default_factory=list)
    functions: LocalLambda | None = None
    user_pool_id: str = ""
    client_id: str = ""

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def moto_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    @property
    def lambda_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.lambda_port}"

    @property
    def mail_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.mail_port}"

    # --- processes ------------------------------------------------------------------

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / "stack.log", "ab") as log:
            self.processes.append(
                subprocess.Popen(
                    # moto's server, made atomic for DynamoDB as DynamoDB is (devstack/moto_atomic.py).
                    [sys.executable, "-m", "devstack.moto_atomic", "127.0.0.1", str(self.moto_port)],
                    cwd=Path(__file__).resolve().parent.parent,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            self.processes.append(self._start_seaweedfs(log))
            self.processes.append(
                subprocess.Popen(
                    [_bin("moto_server"), "-H", "127.0.0.1", "-p", str(self.mail_port)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        _wait_for(f"{self.moto_endpoint}/moto-api/", self.processes[0], "moto server")
        _wait_for(self.s3_endpoint, self.processes[1], "SeaweedFS S3 gateway")
        # The app's asynchronous functions run here, in this process (see devstack/local_lambda.py).
        self.functions = LocalLambda(self.lambda_port, {ZIP_FUNCTION: "build_zip"})
        _wait_for(f"{self.mail_endpoint}/moto-api/", self.processes[2], "moto server for mail")

    def _start_seaweedfs(self, log: Any) -> subprocess.Popen:
        weed_dir = self.data_dir / "seaweedfs"
        shutil.rmtree(weed_dir, ignore_errors=True)  # moto starts empty; so does S3
        weed_dir.mkdir(parents=True)
        identities = {
            "identities": [
                {
                    "name": "handover",
                    "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                    "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                }
            ]
        }
        config = weed_dir / "s3.json"
        config.write_text(json.dumps(identities))
        ports = {name: free_port() for name in ("master", "volume", "filer")}
        args = [
            _bin("weed"), "server", f"-dir={weed_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-master.telemetry=false", "-volume.max=8", "-master.volumeSizeLimitMB=256", "-volume.preStopSeconds=0",
            "-s3", f"-s3.port={self.s3_port}", f"-s3.config={config}",
            f"-s3.port.grpc={free_port()}", "-s3.port.iceberg=0", "-s3.port.lance=0",
        ]  # fmt: skip
        for name, port in ports.items():
            args += [f"-{name}.port={port}", f"-{name}.port.grpc={free_port()}"]
        return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=weed_dir)

    def stop(self) -> None:
        if self.functions is not None:
            self.functions.stop()
            self.functions = None
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                # SeaweedFS and moto's server may ignore SIGTERM while busy; their data is throwaway.
                process.kill()
                process.wait()
        self.processes.clear()

    # --- provisioning -----------------------------------------------------------------

    def client(self, service: str) -> Any:
        endpoint = {"s3": self.s3_endpoint, "sqs": self.mail_endpoint, "ses": self.mail_endpoint}.get(
            service, self.moto_endpoint
        )
        config = Config(signature_version="s3v4", s3={"addressing_style": "path"})
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=config,
        )

    def environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """The environment variables the app reads to use this stack."""
        env = dict(base or {})
        env.update(
            HANDOVER_STAGE="local",
            AWS_REGION=REGION,
            AWS_DEFAULT_REGION=REGION,
            AWS_ACCESS_KEY_ID=ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=SECRET_KEY,
            AWS_ENDPOINT_URL_S3=self.s3_endpoint,
            AWS_ENDPOINT_URL_DYNAMODB=self.moto_endpoint,
            AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=self.moto_endpoint,
            AWS_ENDPOINT_URL_SSM=self.moto_endpoint,
            AWS_ENDPOINT_URL_LAMBDA=self.lambda_endpoint,
            ZIP_FUNCTION=ZIP_FUNCTION,
            AWS_ENDPOINT_URL_SQS=self.mail_endpoint,
            AWS_ENDPOINT_URL_SESV2=self.mail_endpoint,
            # moto's SES sends from a verified domain and records each message (the local outbox).
            MAIL_IDENTITY=MAIL_DOMAIN,
            USER_POOL_ID=self.user_pool_id,
            USER_POOL_CLIENT_ID=self.client_id,
            # moto serves the pool's keys at its own address; `iss` keeps the AWS form.
            COGNITO_JWKS_URL=f"{self.moto_endpoint}/{self.user_pool_id}/.well-known/jwks.json",
            LOGIN_DOMAIN=f"{self.app_url}/local-login",
        )
        return env

    def provision(self) -> None:
        """Create the bucket, tables and user pool the settings name (the app makes its key itself).

        Runs in a process whose environment already points at this stack (see
        `environment`), because the table definitions come from the pynamodb models.
        """
        from chalicelib import models
        from chalicelib.config import get_settings

        settings = get_settings()
        models.bind(settings)
        self._provision_bucket(settings.files_bucket)
        self._provision_tables()
        self._provision_user_pool()
        self._provision_mail()

    def _provision_bucket(self, bucket: str) -> None:
        s3 = self.client("s3")
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_cors(
            Bucket=bucket,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "AllowedOrigins": [self.app_url],
                        "AllowedMethods": ["GET", "HEAD", "PUT", "POST"],
                        "AllowedHeaders": ["*"],
                        "ExposeHeaders": ["ETag"],
                        "MaxAgeSeconds": 3000,
                    }
                ]
            },
        )
        from chalicelib.config import get_settings

        rules = lifecycle_rules(get_settings())
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})

    def _provision_tables(self) -> None:
        from chalicelib.models import TTL_ATTRIBUTE
        from chalicelib.more_models import all_tables

        dynamodb = self.client("dynamodb")
        for model in all_tables():
            model.create_table(wait=True, billing_mode="PAY_PER_REQUEST")
            if TTL_ATTRIBUTE in model.get_attributes():
                dynamodb.update_time_to_live(
                    TableName=model.Meta.table_name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
                )

    def _provision_mail(self) -> None:
        """The mail queue with its dead-letter queue (as infra/ declares them), and a verified SES domain."""
        from chalicelib import mail

        sqs = self.client("sqs")
        dead = sqs.create_queue(QueueName=mail.DEAD_LETTERS)["QueueUrl"]
        dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = {"deadLetterTargetArn": dead_arn, "maxReceiveCount": str(mail.MAX_ATTEMPTS)}
        sqs.create_queue(
            QueueName=MAIL_QUEUE_NAME,
            Attributes={"VisibilityTimeout": "60", "RedrivePolicy": json.dumps(redrive)},
        )
        self.client("ses").verify_domain_identity(Domain=MAIL_DOMAIN)

    def _provision_user_pool(self) -> None:
        cognito = self.client("cognito-idp")
        self.user_pool_id = cognito.create_user_pool(
            PoolName="handover-local",
            UsernameAttributes=["email"],
            AutoVerifiedAttributes=["email"],
            Schema=[  # as infra/resources.json declares them
                {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True},
                {"Name": "name", "AttributeDataType": "String", "Required": True, "Mutable": True},
            ],
        )["UserPool"]["Id"]
        self.client_id = cognito.create_user_pool_client(
            UserPoolId=self.user_pool_id,
            ClientName="handover-web",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            PreventUserExistenceErrors="ENABLED",
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid", "email", "profile"],
            SupportedIdentityProviders=["COGNITO"],
            CallbackURLs=[f"{self.app_url}/auth/callback", callback_url(self.cli_login_port)],
            LogoutURLs=[f"{self.app_url}/auth/signed-out"],
        )["UserPoolClient"]["ClientId"]
        for group in ("members", "admins"):
            cognito.create_group(UserPoolId=self.user_pool_id, GroupName=group)
        self.create_user(DEMO_USER, DEMO_PASSWORD, groups=("members", "admins"))

    def create_user(self, email: str, password: str, groups: tuple[str, ...] = ()) -> None:
        """A confirmed user with a verified email, in the given groups."""
        cognito = self.client("cognito-idp")
        cognito.admin_create_user(
            UserPoolId=self.user_pool_id,
            Username=email,
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
            ],
            MessageAction="SUPPRESS",
        )
        cognito.admin_set_user_password(UserPoolId=self.user_pool_id, Username=email, Password=password, Permanent=True)
        for group in groups:
            cognito.admin_add_user_to_group(UserPoolId=self.user_pool_id, Username=email, GroupName=group)

    def sign_in(self, email: str, password: str) -> dict[str, str]:
        """Cognito's InitiateAuth with a password: the tokens a script would use."""
        result = self.client("cognito-idp").initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        return result["AuthenticationResult"]


def lifecycle_rules(settings: Settings) -> list[dict[str, Any]]:
    """The bucket's lifecycle rules (the CloudFormation bucket carries the same).

    Abandoned multipart uploads are aborted and staged recipient uploads left behind are
    removed after INCOMPLETE_UPLOAD_DAYS; folders' ZIPs (Download all) after a day; when
    NONCURRENT_VERSION_DAYS is set, a file's version expires that many days after a newer
    one replaced it.
    """
    from chalicelib.storage import STAGING
    from chalicelib.zips import PREFIX as ZIPS

    days = settings.incomplete_upload_days
    rules: list[dict[str, Any]] = [
        {
            "ID": "abort-incomplete-multipart-uploads",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": days},
        },
        {
            "ID": "remove-folder-zips",
            "Status": "Enabled",
            "Filter": {"Prefix": ZIPS},
            "Expiration": {"Days": 1},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
        },
        {
            "ID": "remove-staged-uploads",
            "Status": "Enabled",
            "Filter": {"Prefix": STAGING},
            "Expiration": {"Days": days},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
        },
    ]
    if settings.noncurrent_version_days > 0:
        rules.append(
            {
                "ID": "expire-noncurrent-versions",
                "Status": "Enabled",
                "Filter": {"Prefix": "files/"},
                "NoncurrentVersionExpiration": {"NoncurrentDays": settings.noncurrent_version_days},
            }
        )
    return rules


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """`make dev`: start the local AWS, provision it, and serve the app with `chalice local`."""
    root = Path(__file__).resolve().parent.parent
    port = int(os.environ.get("PORT", "8000"))
    app_url = f"http://127.0.0.1:{port}"
    # Bytes and logs change all the time: outside the project, or `chalice local` would
    # take every upload for a code change and restart.
    data_dir = Path(tempfile.mkdtemp(prefix="handover-stack-"))
    stack = LocalStack(
        data_dir=data_dir,
        app_url=app_url,
        s3_port=int(os.environ.get("S3_PORT", "8333")),
        moto_port=int(os.environ.get("MOTO_PORT", "5000")),
        mail_port=int(os.environ.get("MAIL_PORT", "5001")),
    )
    # `kill` (SIGTERM) stops everything as Ctrl-C does: the stack's processes and its folder go too.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        stack.start()
        os.environ.update(stack.environment())
        stack.provision()
        env = stack.environment(dict(os.environ))
        info = {
            "app_url": app_url,
            "region": REGION,
            "bucket": env.get("FILES_BUCKET", "handover-files"),
            "user_pool_id": stack.user_pool_id,
            "client_id": stack.client_id,
            "endpoints": {
                "s3": stack.s3_endpoint,
                "dynamodb": stack.moto_endpoint,
                "cognito": stack.moto_endpoint,
                "sqs": stack.mail_endpoint,
                "ses": stack.mail_endpoint,
            },
            "demo": {"username": DEMO_USER, "password": DEMO_PASSWORD},
        }
        (root / ".local").mkdir(exist_ok=True)
        (root / ".local" / "stack.json").write_text(json.dumps(info, indent=2) + "\n")
        print(
            f"\nHandover runs at {app_url}\n"
            f"  demo member   {DEMO_USER} / {DEMO_PASSWORD}\n"
            f"  S3 (SeaweedFS) {stack.s3_endpoint}   DynamoDB, Cognito: {stack.moto_endpoint}"
            f"   SQS, SES: {stack.mail_endpoint}\n"
            f"  user pool {stack.user_pool_id}, app client {stack.client_id}\n"
            f"  mail goes to moto's SES: {app_url}/local-outbox/\n"
            f"  all of it in .local/stack.json; logs in {data_dir / 'stack.log'}; Ctrl-C stops everything\n",
            flush=True,
        )
        # Its own process group: `chalice local` runs the app in a reloading child, and both must stop.
        chalice = subprocess.Popen(
            [_bin("chalice"), "local", "--stage", "local", "--host", "127.0.0.1", "--port", str(port)],
            cwd=root,
            env=env,
            start_new_session=True,
        )
        # `chalice local` serves HTTP only: the mail worker runs the queue's handler and the daily job.
        worker = subprocess.Popen(
            [sys.executable, "-m", "devstack.mail_worker"], cwd=root, env=env, start_new_session=True
        )
        try:
            chalice.wait()
            os.killpg(worker.pid, signal.SIGINT)
            worker.wait(timeout=10)
        except KeyboardInterrupt:
            for process in (chalice, worker):
                os.killpg(process.pid, signal.SIGINT)
            for process in (chalice, worker):
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
    except KeyboardInterrupt:
        pass  # stopped while the stack was starting
    finally:
        stack.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
