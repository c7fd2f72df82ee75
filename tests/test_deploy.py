"""`make deploy`, `make destroy` and `make destroy-data`, without an AWS account.

S3, STS, Cognito, SSM, DynamoDB and Secrets Manager are moto's server (a process of
its own, reset before each test). CloudFormation is botocore's Stubber: moto cannot run
the SAM transform, so each test states the calls CloudFormation must receive, in order,
with their parameters, and CloudFormation's answers, including the polls of the waiters.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.stub import ANY, Stubber

from deploy.stack import Clients, DeployError, deploy, destroy, destroy_data, kept_path
from deploy.target import Target
from devstack.localstack import free_port

pytestmark = pytest.mark.integration  # moto's server in a subprocess

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's account
NAME = "handover-prod"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{NAME}/0a1b2c3d"
CHANGE_SET = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:changeSet/handover-1/4e5f"
ARTIFACTS = f"handover-artifacts-{ACCOUNT}-{REGION}"
TARGET = Target("prod", REGION, NAME, "acme-files", "ops@example.com", "alice@example.com")
OURS = [
    {"ParameterKey": "LoginDomainPrefix", "ParameterValue": "acme-files"},
    {"ParameterKey": "AlarmEmail", "ParameterValue": "ops@example.com"},
]


@pytest.fixture(scope="module")
def moto_server():
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{endpoint}/moto-api/", timeout=1)
            break
        except requests.ConnectionError:
            assert time.monotonic() < deadline and process.poll() is None, "moto server did not start"
            time.sleep(0.2)
    yield endpoint
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def aws(moto_server):
    """Clients as the commands get them: moto behind all but CloudFormation, which is stubbed."""
    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    cloudformation = session.client("cloudformation")
    moto = [session.client(s, endpoint_url=moto_server) for s in ("s3", "sts", "cognito-idp", "ssm", "dynamodb")]
    clients = Clients(cloudformation, *moto, session.client("secretsmanager", endpoint_url=moto_server))
    with Stubber(cloudformation) as stubber:
        yield clients, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """`make package` output: our template (infra/) with chalice's function and its layer."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "deployment.zip").write_bytes(b"PK the app")
    (out / "layer-deployment.zip").write_bytes(b"PK its dependencies")
    template = json.loads((ROOT / "infra" / "resources.json").read_text())
    template["Resources"]["APIHandler"].update(Type="AWS::Serverless::Function")
    template["Resources"]["APIHandler"]["Properties"]["CodeUri"] = "./deployment.zip"
    template["Resources"]["ManagedLayer"] = {
        "Type": "AWS::Serverless::LayerVersion",
        "Properties": {"ContentUri": "./layer-deployment.zip"},
    }
    (out / "sam.json").write_text(json.dumps(template))
    return out


@pytest.fixture
def user_pool(aws) -> str:
    """The pool CloudFormation would have made, with its groups."""
    cognito = aws[0].cognito
    pool = cognito.create_user_pool(PoolName=NAME, UsernameAttributes=["email"], DeletionProtection="ACTIVE")
    pool = pool["UserPool"]["Id"]
    for group in ("members", "admins"):
        cognito.create_group(UserPoolId=pool, GroupName=group)
    return pool


def _stack(status: str, outputs: dict[str, str] | None = None, parameters: dict[str, str] | None = None):
    stack: dict[str, Any] = {
        "StackName": NAME,
        "StackId": STACK_ID,
        "StackStatus": status,
        "CreationTime": datetime.now(UTC),
    }
    if outputs:
        stack["Outputs"] = [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]
    if parameters:
        stack["Parameters"] = [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]
    return {"Stacks": [stack]}


def _no_stack(stubber: Stubber) -> None:
    stubber.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message=f"Stack with id {NAME} does not exist",
        expected_params={"StackName": NAME},
    )


def _describe(stubber: Stubber, status: str, **kwargs: Any) -> None:
    stubber.add_response("describe_stacks", _stack(status, **kwargs), {"StackName": NAME})


def _change_set(stubber: Stubber, kind: str, parameters: list[dict[str, Any]], *statuses: tuple[str, str]) -> None:
    expected = {
        "StackName": NAME,
        "ChangeSetName": ANY,
        "ChangeSetType": kind,
        "TemplateURL": ANY,
        "Parameters": parameters,
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        "Tags": [{"Key": "handover:stage", "Value": "prod"}],
    }
    stubber.add_response("create_change_set", {"Id": CHANGE_SET, "StackId": STACK_ID}, expected)
    for status, reason in statuses:  # the waiter's polls
        answer = {"ChangeSetId": CHANGE_SET, "Status": status, "StatusReason": reason}
        stubber.add_response("describe_change_set", answer, {"ChangeSetName": CHANGE_SET, "StackName": NAME})


def _outputs(pool: str) -> dict[str, str]:
    return {"EndpointURL": "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/", "UserPoolId": pool}


def _first_deploy(aws, package: Path, pool: str, say=None) -> list[str]:
    clients, stubber = aws
    _no_stack(stubber)
    _change_set(stubber, "CREATE", OURS, ("CREATE_PENDING", ""), ("CREATE_COMPLETE", ""))
    stubber.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET, "StackName": NAME})
    _describe(stubber, "CREATE_IN_PROGRESS")  # the waiter polls until the stack is complete
    _describe(stubber, "CREATE_COMPLETE")
    _describe(stubber, "CREATE_COMPLETE", outputs=_outputs(pool))
    said: list[str] = []
    deploy(TARGET, clients, package, say=say or said.append, poll_seconds=0)
    stubber.assert_no_pending_responses()
    return said


def test_first_deploy_makes_the_bucket_uploads_creates_the_stack_and_the_first_admin(aws, package, user_pool):
    clients, _ = aws
    sent: list[dict[str, Any]] = []
    clients.cloudformation.meta.events.register(
        "provide-client-params.cloudformation.CreateChangeSet", lambda params, **_: sent.append(dict(params))
    )

    said: list[str] = []
    buckets_when_said: list[list[str]] = []

    def say(line: str) -> None:
        said.append(line)
        buckets_when_said.append([b["Name"] for b in clients.s3.list_buckets()["Buckets"]])

    _first_deploy(aws, package, user_pool, say=say)

    assert said[0].startswith(f"Deploying stack {NAME} (stage prod) to account {ACCOUNT} in {REGION}:")
    assert buckets_when_said[0] == []  # said before anything was made
    block = clients.s3.get_public_access_block(Bucket=ARTIFACTS)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    # CloudFormation reads the template from the artifacts bucket; it points at the uploaded code.
    bucket_url = f"https://{ARTIFACTS}.s3.{REGION}.amazonaws.com/"
    assert sent[0]["TemplateURL"].startswith(bucket_url)
    key = sent[0]["TemplateURL"][len(bucket_url) :]
    template = json.loads(clients.s3.get_object(Bucket=ARTIFACTS, Key=key)["Body"].read())
    resources = template["Resources"]
    for logical_id, prop, local in (
        ("APIHandler", "CodeUri", "deployment.zip"),
        ("ManagedLayer", "ContentUri", "layer-deployment.zip"),
    ):
        uri = resources[logical_id]["Properties"][prop]
        assert uri.startswith(f"s3://{ARTIFACTS}/{NAME}/")
        body = clients.s3.get_object(Bucket=ARTIFACTS, Key=uri.split("/", 3)[3])["Body"].read()
        assert body == (package / local).read_bytes()
    for group in ("members", "admins"):
        users = clients.cognito.list_users_in_group(UserPoolId=user_pool, GroupName=group)["Users"]
        attributes = [{a["Name"]: a["Value"] for a in user["Attributes"]} for user in users]
        assert [(a["email"], a["email_verified"]) for a in attributes] == [("alice@example.com", "true")]
    assert "Handover runs at https://abc123.execute-api.eu-west-1.amazonaws.com/prod/" in said[-1]


def test_deploying_again_changes_nothing_and_keeps_parameters_set_by_hand(aws, package, user_pool):
    clients, stubber = aws
    _first_deploy(aws, package, user_pool)
    objects = clients.s3.list_objects_v2(Bucket=ARTIFACTS)["KeyCount"]
    parameters = {"LoginDomainPrefix": "acme-files", "AlarmEmail": "ops@example.com", "PresignSeconds": "600"}
    _describe(stubber, "CREATE_COMPLETE", outputs=_outputs(user_pool), parameters=parameters)
    no_changes = (
        "The submitted information didn't contain changes. Submit different information to create a change set."
    )
    kept = [*OURS, {"ParameterKey": "PresignSeconds", "UsePreviousValue": True}]
    _change_set(stubber, "UPDATE", kept, ("FAILED", no_changes), ("FAILED", no_changes))
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET, "StackName": NAME})
    _describe(stubber, "CREATE_COMPLETE", outputs=_outputs(user_pool))  # no execute_change_set before it
    said: list[str] = []

    deploy(TARGET, clients, package, say=said.append, poll_seconds=0)

    assert "Nothing to change: the stack is up to date." in said
    assert clients.s3.list_objects_v2(Bucket=ARTIFACTS)["KeyCount"] == objects
    assert sum("is there already" in line for line in said) == 3  # the code, the layer, the template
    assert len(clients.cognito.list_users(UserPoolId=user_pool)["Users"]) == 1


def test_a_first_creation_that_rolled_back_is_removed_before_creating_again(aws, package, user_pool):
    clients, stubber = aws
    _describe(stubber, "ROLLBACK_COMPLETE")
    stubber.add_response("delete_stack", {}, {"StackName": NAME})
    _describe(stubber, "DELETE_IN_PROGRESS")
    _no_stack(stubber)  # the delete waiter's success
    _change_set(stubber, "CREATE", OURS, ("CREATE_COMPLETE", ""))
    stubber.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET, "StackName": NAME})
    _describe(stubber, "CREATE_COMPLETE")
    _describe(stubber, "CREATE_COMPLETE", outputs=_outputs(user_pool))

    deploy(TARGET, clients, package, say=lambda _: None, poll_seconds=0)


def test_a_stack_busy_with_another_change_is_left_alone(aws, package):
    clients, stubber = aws
    _describe(stubber, "UPDATE_IN_PROGRESS")

    with pytest.raises(DeployError, match="UPDATE_IN_PROGRESS; run again once it has finished"):
        deploy(TARGET, clients, package, say=lambda _: None, poll_seconds=0)


def test_a_failed_update_says_why(aws, package, user_pool):
    clients, stubber = aws
    _describe(stubber, "UPDATE_COMPLETE", outputs=_outputs(user_pool))
    _change_set(stubber, "UPDATE", OURS, ("CREATE_COMPLETE", ""))
    stubber.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET, "StackName": NAME})
    _describe(stubber, "UPDATE_ROLLBACK_COMPLETE")
    event = {
        "StackId": STACK_ID,
        "EventId": "1",
        "StackName": NAME,
        "Timestamp": datetime.now(UTC),
        "LogicalResourceId": "UserPoolDomain",
        "ResourceStatus": "UPDATE_FAILED",
        "ResourceStatusReason": "Domain already associated with another user pool.",
    }
    stubber.add_response("describe_stack_events", {"StackEvents": [event]}, {"StackName": NAME})

    with pytest.raises(DeployError, match="UserPoolDomain: Domain already associated with another user pool."):
        deploy(TARGET, clients, package, say=lambda _: None, poll_seconds=0)


def test_an_update_carries_the_key_of_a_stack_that_kept_it_in_secrets_manager(aws, package, user_pool):
    clients, stubber = aws
    secret = clients.secretsmanager.create_secret(Name="ServerSecret-x", SecretString="the-old-key")["ARN"]
    _describe(stubber, "UPDATE_COMPLETE", outputs={**_outputs(user_pool), "ServerSecretArn": secret})
    _change_set(stubber, "UPDATE", OURS, ("CREATE_COMPLETE", ""))
    stubber.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET, "StackName": NAME})
    _describe(stubber, "UPDATE_COMPLETE")
    _describe(stubber, "UPDATE_COMPLETE", outputs=_outputs(user_pool))

    deploy(TARGET, clients, package, say=lambda _: None, poll_seconds=0)

    stored = clients.ssm.get_parameter(Name=f"/handover/{NAME}/server-key", WithDecryption=True)["Parameter"]
    assert (stored["Type"], stored["Value"]) == ("SecureString", "the-old-key")


@pytest.fixture
def data(aws, user_pool) -> dict[str, Any]:
    """What a stack leaves behind: a versioned bucket with files, tables, the pool and the key."""
    clients, _ = aws
    s3 = clients.s3
    bucket = f"{NAME}-filesbucket-1"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"one", b"two"):
        s3.put_object(Bucket=bucket, Key="files/report.txt", Body=body)
    s3.delete_object(Bucket=bucket, Key="files/report.txt")  # a delete marker too
    tables = [f"{NAME}-LinksTable-1", f"{NAME}-FilesTable-1"]
    for table in tables:
        clients.dynamodb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    clients.cognito.create_user_pool_domain(Domain="acme-files", UserPoolId=user_pool)
    clients.ssm.put_parameter(Name=f"/handover/{NAME}/server-key", Value="k" * 64, Type="SecureString")
    resources = [(bucket, "AWS::S3::Bucket"), (user_pool, "AWS::Cognito::UserPool")]
    resources += [(t, "AWS::DynamoDB::Table") for t in tables] + [("abc123", "AWS::ApiGateway::RestApi")]
    return {"bucket": bucket, "tables": tables, "pool": user_pool, "resources": resources}


def _stub_destroy(stubber: Stubber, resources: list[tuple[str, str]]) -> None:
    _describe(stubber, "UPDATE_COMPLETE")
    summaries = [
        {
            "LogicalResourceId": f"R{i}",
            "PhysicalResourceId": physical,
            "ResourceType": kind,
            "LastUpdatedTimestamp": datetime.now(UTC),
            "ResourceStatus": "CREATE_COMPLETE",
        }
        for i, (physical, kind) in enumerate(resources)
    ]
    stubber.add_response("list_stack_resources", {"StackResourceSummaries": summaries}, {"StackName": NAME})
    stubber.add_response("delete_stack", {}, {"StackName": NAME})
    _describe(stubber, "DELETE_IN_PROGRESS")
    _no_stack(stubber)  # the delete waiter's success


def test_destroy_removes_the_stack_and_says_what_it_keeps(aws, data, tmp_path):
    clients, stubber = aws
    _stub_destroy(stubber, data["resources"])
    said: list[str] = []

    assert destroy(TARGET, clients, tmp_path, say=said.append, poll_seconds=0)

    text = "\n".join(said)
    assert said[0].startswith(f"Removing stack {NAME} in {REGION}")  # before anything is done
    for name in [data["bucket"], data["pool"], *data["tables"], f"/handover/{NAME}/server-key"]:
        assert name in said[0]
    assert "abc123" not in text  # the API goes with the stack
    assert "make destroy-data" in said[-1]
    # Nothing kept was touched.
    assert clients.s3.list_object_versions(Bucket=data["bucket"])["Versions"]
    assert sorted(clients.dynamodb.list_tables()["TableNames"]) == sorted(data["tables"])

    _no_stack(stubber)
    assert not destroy(TARGET, clients, tmp_path, say=said.append, poll_seconds=0)
    assert said[-1] == f"There is no stack {NAME} in {REGION}: nothing to remove."


def test_destroy_data_deletes_the_kept_data_only_after_the_stack_name_is_typed(aws, data, tmp_path):
    clients, stubber = aws
    _stub_destroy(stubber, data["resources"])
    destroy(TARGET, clients, tmp_path, say=lambda _: None, poll_seconds=0)
    clients.s3.create_bucket(Bucket=ARTIFACTS, CreateBucketConfiguration={"LocationConstraint": REGION})
    clients.s3.put_object(Bucket=ARTIFACTS, Key=f"{NAME}/abc-deployment.zip", Body=b"PK")
    clients.s3.put_object(Bucket=ARTIFACTS, Key="handover-dev/abc-deployment.zip", Body=b"PK")
    questions: list[str] = []

    _no_stack(stubber)
    assert not destroy_data(TARGET, clients, tmp_path, ask=lambda q: questions.append(q) or "yes", say=lambda _: None)

    assert NAME in questions[0]
    assert clients.s3.list_object_versions(Bucket=data["bucket"])["Versions"]
    assert clients.ssm.get_parameter(Name=f"/handover/{NAME}/server-key")["Parameter"]

    _no_stack(stubber)
    cognito_calls: list[str] = []
    clients.cognito.meta.events.register("before-call.cognito-idp", lambda model, **_: cognito_calls.append(model.name))
    assert destroy_data(TARGET, clients, tmp_path, ask=lambda _: NAME, say=lambda _: None)

    # moto deletes a protected pool anyway; AWS refuses, so protection is lifted first.
    assert cognito_calls == ["DescribeUserPool", "DeleteUserPoolDomain", "UpdateUserPool", "DeleteUserPool"]

    assert data["bucket"] not in [b["Name"] for b in clients.s3.list_buckets()["Buckets"]]
    assert clients.dynamodb.list_tables()["TableNames"] == []
    assert clients.cognito.list_user_pools(MaxResults=10)["UserPools"] == []
    with pytest.raises(clients.ssm.exceptions.ParameterNotFound):
        clients.ssm.get_parameter(Name=f"/handover/{NAME}/server-key")
    remaining = [o["Key"] for o in clients.s3.list_objects_v2(Bucket=ARTIFACTS)["Contents"]]
    assert remaining == ["handover-dev/abc-deployment.zip"]  # another stack's artifacts stay
    assert not kept_path(tmp_path, NAME).exists()

    _no_stack(stubber)
    said: list[str] = []
    assert not destroy_data(TARGET, clients, tmp_path, ask=lambda _: NAME, say=said.append)
    assert "nothing to delete" in said[-1]


def test_destroy_data_refuses_while_the_stack_exists(aws, tmp_path):
    clients, stubber = aws
    _describe(stubber, "UPDATE_COMPLETE")

    with pytest.raises(DeployError, match="run `make destroy` first"):
        destroy_data(TARGET, clients, tmp_path, ask=lambda _: NAME, say=lambda _: None)
