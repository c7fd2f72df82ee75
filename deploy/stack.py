"""Deploy, update and remove a Handover stack with boto3 alone (no AWS CLI).

Every step says what it is about to do before doing it, and every step can run again:
the artifacts bucket is made only when missing, artifacts are named by their content,
a change set without changes is dropped, and the first admin is made only while the
pool has none.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError, WaiterError

from deploy.target import Target

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]  # IAM roles; the SAM transform
# Template properties that name a local file `chalice package` wrote, by resource type.
ARTIFACT_PROPERTIES = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}
# What a stack keeps when it goes (DeletionPolicy Retain): the data.
DATA_TYPES = {
    "AWS::S3::Bucket": "bucket",
    "AWS::DynamoDB::Table": "table",
    "AWS::Cognito::UserPool": "user pool",
}
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


class DeployError(Exception):
    """The deployment stopped; the message says why."""


@dataclass
class Clients:
    """The AWS clients the commands use, all in the target's region."""

    cloudformation: Any
    s3: Any
    sts: Any
    cognito: Any
    ssm: Any
    dynamodb: Any
    secretsmanager: Any

    @classmethod
    def for_region(cls, region: str, session: boto3.session.Session | None = None) -> Clients:
        session = session or boto3.session.Session()
        make = lambda service: session.client(service, region_name=region)  # noqa: E731
        return cls(
            *(make(s) for s in ("cloudformation", "s3", "sts", "cognito-idp", "ssm", "dynamodb", "secretsmanager"))
        )


def artifacts_bucket(account: str, region: str) -> str:
    """One artifacts bucket per account and region, shared by the stacks there."""
    return f"handover-artifacts-{account}-{region}"


def server_key_parameter(stack_name: str) -> str:
    """The SSM parameter the app creates on first use (the template's SERVER_KEY_PARAMETER)."""
    return f"/handover/{stack_name}/server-key"


def local_artifacts(template: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(logical id, property, relative path) of every local file the template points at."""
    found = []
    for logical_id, resource in template.get("Resources", {}).items():
        prop = ARTIFACT_PROPERTIES.get(resource.get("Type", ""))
        value = resource.get("Properties", {}).get(prop) if prop else None
        if isinstance(value, str) and not value.startswith("s3://"):
            found.append((logical_id, prop, value))
    return found


def _missing(error: ClientError, *codes: str) -> bool:
    return error.response["Error"]["Code"] in codes


# --- deploy ------------------------------------------------------------------------------


def deploy(
    target: Target,
    clients: Clients,
    package_dir: Path,
    say: Callable[[str], None] = print,
    poll_seconds: int = 10,
) -> dict[str, str]:
    """Create or update the stack from `make package` output; answer the stack's outputs."""
    account = clients.sts.get_caller_identity()["Account"]
    bucket = artifacts_bucket(account, target.region)
    say(
        f"Deploying stack {target.stack_name} (stage {target.stage}) to account {account} in {target.region}:\n"
        f"  1. artifacts bucket s3://{bucket} (made if missing); code and template go under {target.stack_name}/\n"
        f"  2. a change set that creates or updates the stack, executed once CloudFormation has made it\n"
        f"  3. the first member and admin, {target.admin_email}, if the user pool has no admin yet\n"
        f"  Alarms go to {target.alarm_email}; hosted login prefix {target.login_prefix}."
    )
    ensure_artifacts_bucket(clients.s3, bucket, target.region, say)
    template = json.loads((package_dir / "sam.json").read_text())
    for logical_id, prop, path in local_artifacts(template):
        key = upload(clients.s3, bucket, target.stack_name, package_dir / path, say)
        template["Resources"][logical_id]["Properties"][prop] = f"s3://{bucket}/{key}"
    body = json.dumps(template, indent=1).encode()
    # The template exceeds the 51,200 bytes CloudFormation takes inline: it reads it from S3.
    template_key = upload_bytes(clients.s3, bucket, target.stack_name, body, ".template.json", say)
    template_url = f"https://{bucket}.s3.{target.region}.amazonaws.com/{template_key}"

    stack = describe_stack(clients.cloudformation, target.stack_name)
    if stack and stack["StackStatus"] == "ROLLBACK_COMPLETE":
        # A first creation that failed leaves a stack that can only be deleted.
        say(f"Stack {target.stack_name} failed to create before; removing what is left of it first.")
        clients.cloudformation.delete_stack(StackName=target.stack_name)
        _wait(clients.cloudformation, "stack_delete_complete", target.stack_name, poll_seconds)
        stack = None
    if stack and stack["StackStatus"].endswith("_IN_PROGRESS") and stack["StackStatus"] != "REVIEW_IN_PROGRESS":
        raise DeployError(f"Stack {target.stack_name} is {stack['StackStatus']}; run again once it has finished.")
    creating = stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS"
    if not creating:
        migrate_server_key(clients, target, stack, say)

    parameters = stack_parameters(target, template, None if creating else stack)
    change_set = clients.cloudformation.create_change_set(
        StackName=target.stack_name,
        ChangeSetName=time.strftime("handover-%Y%m%dT%H%M%SZ", time.gmtime()),
        ChangeSetType="CREATE" if creating else "UPDATE",
        TemplateURL=template_url,
        Parameters=parameters,
        Capabilities=CAPABILITIES,
        Tags=[{"Key": "handover:stage", "Value": target.stage}],
    )
    say(f"{'Creating' if creating else 'Updating'} stack {target.stack_name}: change set {change_set['Id']}")
    if not _change_set_ready(clients.cloudformation, change_set["Id"], target.stack_name, poll_seconds, say):
        say("Nothing to change: the stack is up to date.")
    else:
        clients.cloudformation.execute_change_set(ChangeSetName=change_set["Id"], StackName=target.stack_name)
        say("Waiting for CloudFormation (a first deployment takes a few minutes)…")
        waiter = "stack_create_complete" if creating else "stack_update_complete"
        try:
            _wait(clients.cloudformation, waiter, target.stack_name, poll_seconds)
        except WaiterError as error:
            raise DeployError(
                f"The stack did not deploy:\n{failure_reasons(clients.cloudformation, target)}"
            ) from error

    outputs = stack_outputs(clients.cloudformation, target.stack_name)
    ensure_first_admin(clients.cognito, outputs["UserPoolId"], target.admin_email, say)
    say(
        f"\nHandover runs at {outputs['EndpointURL']}\n"
        f"  Confirm the subscription SNS mailed to {target.alarm_email}, or alarms reach no one.\n"
        f"  Run `make deploy` again to update; `make destroy` removes the stack and keeps the data."
    )
    return outputs


def ensure_artifacts_bucket(s3: Any, bucket: str, region: str, say: Callable[[str], None]) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError as error:
        if not _missing(error, "404", "NoSuchBucket"):
            raise DeployError(f"Bucket {bucket} exists but is not yours to use ({error}).") from error
    say(f"Making the artifacts bucket {bucket}.")
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **location)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )


def upload(s3: Any, bucket: str, prefix: str, path: Path, say: Callable[[str], None]) -> str:
    return upload_bytes(s3, bucket, prefix, path.read_bytes(), f"-{path.name}", say)


def upload_bytes(s3: Any, bucket: str, prefix: str, data: bytes, suffix: str, say: Callable[[str], None]) -> str:
    """Put `data` under a key named by its content; an unchanged artifact is not sent again."""
    key = f"{prefix}/{hashlib.sha256(data).hexdigest()}{suffix}"
    try:
        s3.head_object(Bucket=bucket, Key=key)
        say(f"  s3://{bucket}/{key} is there already")
        return key
    except ClientError as error:
        if not _missing(error, "404", "NoSuchKey"):
            raise
    say(f"  uploading s3://{bucket}/{key} ({len(data):,} bytes)")
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    return key


def describe_stack(cloudformation: Any, stack_name: str) -> dict[str, Any] | None:
    try:
        return cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError as error:
        if _missing(error, "ValidationError") and "does not exist" in str(error):
            return None
        raise


def stack_parameters(target: Target, template: dict[str, Any], stack: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Ours from the target; on an update, every other parameter keeps the value it has."""
    given = {"LoginDomainPrefix": target.login_prefix, "AlarmEmail": target.alarm_email}
    optional = {"MailIdentity": target.mail_identity, "MailFrom": target.mail_from, "TeamName": target.team_name}
    given.update({key: value for key, value in optional.items() if value})
    parameters: list[dict[str, Any]] = [{"ParameterKey": k, "ParameterValue": v} for k, v in given.items()]
    declared = set(template.get("Parameters", {}))
    for existing in (stack or {}).get("Parameters", []):
        key = existing["ParameterKey"]
        if key not in given and key in declared:
            parameters.append({"ParameterKey": key, "UsePreviousValue": True})
    return parameters


def _wait(cloudformation: Any, name: str, stack_name: str, poll_seconds: int) -> None:
    # An hour at most: a user pool domain alone can take many minutes.
    config = {"Delay": poll_seconds, "MaxAttempts": max(3600 // max(poll_seconds, 1), 3)}
    cloudformation.get_waiter(name).wait(StackName=stack_name, WaiterConfig=config)


def _change_set_ready(
    cloudformation: Any, change_set_id: str, stack_name: str, poll_seconds: int, say: Callable[[str], None]
) -> bool:
    """True once the change set can run; False (and it is deleted) when it changes nothing."""
    try:
        cloudformation.get_waiter("change_set_create_complete").wait(
            ChangeSetName=change_set_id, StackName=stack_name, WaiterConfig={"Delay": poll_seconds, "MaxAttempts": 120}
        )
        return True
    except WaiterError as error:
        described = cloudformation.describe_change_set(ChangeSetName=change_set_id, StackName=stack_name)
        reason = described.get("StatusReason", "")
        if described.get("Status") == "FAILED" and any(text in reason for text in _NO_CHANGES):
            cloudformation.delete_change_set(ChangeSetName=change_set_id, StackName=stack_name)
            return False
        raise DeployError(f"CloudFormation refused the change set: {reason or error}") from error


def failure_reasons(cloudformation: Any, target: Target) -> str:
    """The first failures of the latest attempt, oldest first: what a person needs to fix."""
    events = cloudformation.describe_stack_events(StackName=target.stack_name)["StackEvents"]
    failed = [e for e in events if e.get("ResourceStatus", "").endswith("_FAILED") and e.get("ResourceStatusReason")]
    lines = [f"  {e['LogicalResourceId']}: {e['ResourceStatusReason']}" for e in reversed(failed[:10])]
    return "\n".join(lines) or "  (CloudFormation gave no reason; see the stack's events in the console)"


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def ensure_first_admin(cognito: Any, pool_id: str, email: str, say: Callable[[str], None]) -> None:
    """Make `email` a member and admin while the pool has no admin: the first deployment."""
    if cognito.list_users_in_group(UserPoolId=pool_id, GroupName="admins", Limit=1)["Users"]:
        return
    say(f"Making {email} the first member and admin; Cognito mails them a temporary password.")
    try:
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            DesiredDeliveryMediums=["EMAIL"],
        )
    except cognito.exceptions.UsernameExistsException:
        say(f"  {email} has an account already; adding it to the groups.")
    for group in ("members", "admins"):
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)


def migrate_server_key(clients: Clients, target: Target, stack: dict[str, Any], say: Callable[[str], None]) -> None:
    """Carry the key of a stack made when it lived in Secrets Manager, so its links keep working."""
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    secret = outputs.get("ServerSecretArn")
    if not secret:
        return
    name = server_key_parameter(target.stack_name)
    say(f"Copying the server key from Secrets Manager to the SSM parameter {name} (kept if it exists).")
    value = clients.secretsmanager.get_secret_value(SecretId=secret)["SecretString"]
    try:
        clients.ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=False)
    except clients.ssm.exceptions.ParameterAlreadyExists:
        say("  the parameter exists already; left as it is")
    say(f"  The secret {secret} is no longer used; it stays (and bills) until you delete it.")


# --- destroy -------------------------------------------------------------------------------


def kept_path(root: Path, stack_name: str) -> Path:
    return root / ".deploy" / f"{stack_name}.kept.json"


def destroy(
    target: Target, clients: Clients, root: Path, say: Callable[[str], None] = print, poll_seconds: int = 10
) -> bool:
    """Delete the stack and keep its data; write down what was kept. False when there was no stack."""
    stack = describe_stack(clients.cloudformation, target.stack_name)
    if stack is None:
        say(f"There is no stack {target.stack_name} in {target.region}: nothing to remove.")
        return False
    kept = retained_data(clients.cloudformation, target)
    say(
        f"Removing stack {target.stack_name} in {target.region}: the app, its API, alarms and logs.\n"
        + describe_kept(kept)
    )
    path = kept_path(root, target.stack_name)
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(kept, indent=2) + "\n")
    clients.cloudformation.delete_stack(StackName=target.stack_name)
    say("Waiting for CloudFormation…")
    try:
        _wait(clients.cloudformation, "stack_delete_complete", target.stack_name, poll_seconds)
    except WaiterError as error:
        raise DeployError(f"The stack was not removed:\n{failure_reasons(clients.cloudformation, target)}") from error
    say(
        f"Stack {target.stack_name} is gone. The data above is kept (listed in {path.relative_to(root)}).\n"
        f"To delete it too, for ever: make destroy-data   (it asks you to type the stack name first)"
    )
    return True


def retained_data(cloudformation: Any, target: Target) -> dict[str, Any]:
    """What outlives the stack: buckets, tables and the user pool, and the server key parameter."""
    kept: dict[str, Any] = {"stack_name": target.stack_name, "region": target.region, "bucket": [], "table": []}
    kept["user pool"] = []
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=target.stack_name):
        for resource in page["StackResourceSummaries"]:
            kind = DATA_TYPES.get(resource["ResourceType"])
            if kind and resource.get("PhysicalResourceId"):
                kept[kind].append(resource["PhysicalResourceId"])
    kept["parameter"] = [server_key_parameter(target.stack_name)]
    return kept


def _kept_lines(kept: dict[str, Any]) -> list[str]:
    return [
        f"  {kind:10} {name}" for kind in ("bucket", "table", "user pool", "parameter") for name in kept.get(kind, [])
    ]


def describe_kept(kept: dict[str, Any]) -> str:
    lines = ["It keeps the data, which outlives the stack:", *_kept_lines(kept)]
    lines.append("  (and API Gateway's logging role, which the account's other APIs may use)")
    return "\n".join(lines)


def destroy_data(
    target: Target,
    clients: Clients,
    root: Path,
    ask: Callable[[str], str],
    say: Callable[[str], None] = print,
) -> bool:
    """Delete what `destroy` kept, after the stack name is typed. True when something was deleted."""
    path = kept_path(root, target.stack_name)
    if describe_stack(clients.cloudformation, target.stack_name) is not None:
        raise DeployError(f"Stack {target.stack_name} still exists: run `make destroy` first.")
    if not path.exists():
        say(f"Nothing kept from stack {target.stack_name} is recorded in {path.relative_to(root)}: nothing to delete.")
        return False
    kept = json.loads(path.read_text())
    artifacts = artifacts_bucket(clients.sts.get_caller_identity()["Account"], target.region)
    say(
        f"This deletes for ever, in {kept['region']}, every file, version, link, audit event and account "
        f"of stack {target.stack_name}:\n"
        + "\n".join(_kept_lines(kept))
        + f"\n  artifacts  s3://{artifacts}/{target.stack_name}/"
    )
    if ask(f"Type the stack name ({target.stack_name}) to delete all of this: ").strip() != target.stack_name:
        say("Nothing deleted.")
        return False
    for bucket in kept.get("bucket", []):
        empty_bucket(clients.s3, bucket, say=say)
        _ignore_missing(lambda b=bucket: clients.s3.delete_bucket(Bucket=b), "NoSuchBucket")
    for table in kept.get("table", []):
        say(f"  deleting table {table}")
        _ignore_missing(lambda t=table: clients.dynamodb.delete_table(TableName=t), "ResourceNotFoundException")
    for pool in kept.get("user pool", []):
        say(f"  deleting user pool {pool}")
        delete_user_pool(clients.cognito, pool)
    for name in kept.get("parameter", []):
        say(f"  deleting parameter {name}")
        _ignore_missing(lambda n=name: clients.ssm.delete_parameter(Name=n), "ParameterNotFound")
    empty_bucket(clients.s3, artifacts, prefix=f"{target.stack_name}/", say=say)
    path.unlink()
    say(f"Deleted. The artifacts bucket {artifacts} stays for other stacks.")
    return True


def _ignore_missing(call: Callable[[], Any], *codes: str) -> None:
    try:
        call()
    except ClientError as error:
        if not _missing(error, *codes):
            raise


def empty_bucket(s3: Any, bucket: str, prefix: str = "", say: Callable[[str], None] = print) -> None:
    """Delete every version and delete marker (under `prefix`); a missing bucket is already empty."""
    say(f"  emptying s3://{bucket}/{prefix}")
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
            objects = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if objects:  # a page holds at most 1,000, as many as one DeleteObjects takes
                s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
    except ClientError as error:
        if not _missing(error, "NoSuchBucket"):
            raise


def delete_user_pool(cognito: Any, pool_id: str) -> None:
    """The pool has deletion protection, and a pool with a domain cannot go."""
    try:
        pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    except cognito.exceptions.ResourceNotFoundException:
        return
    if pool.get("Domain"):
        cognito.delete_user_pool_domain(Domain=pool["Domain"], UserPoolId=pool_id)
    if pool.get("DeletionProtection") == "ACTIVE":
        cognito.update_user_pool(UserPoolId=pool_id, DeletionProtection="INACTIVE")
    cognito.delete_user_pool(UserPoolId=pool_id)
