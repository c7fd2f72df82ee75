"""The deployable stack: `chalice package` merged with infra/resources.json.

One package run per module (fixture `packaged`). Nothing here calls AWS: the subprocesses
get dummy credentials. On a cold `.chalice/deployments` cache chalice runs pip for
requirements.txt (as `pip install` would); later runs reuse the cached zips.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration  # runs `chalice package` and cfn-lint

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STAGE = "prod"
REGION = "eu-west-1"


def _offline_env() -> dict[str, str]:
    """The environment without real AWS credentials: packaging and linting need none."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") or k == "AWS_CA_BUNDLE"}
    env.update(
        AWS_DEFAULT_REGION=REGION,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    return env


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Output dir of `chalice package --stage prod --merge-template infra/resources.json`.

    Holds sam.json, deployment.zip (app.py, chalicelib/, chalice itself and, put there by
    infra/precompile.py, templates/) and layer-deployment.zip (the dependencies).
    """
    out = tmp_path_factory.mktemp("package") / "out"
    command = [
        str(BIN / "chalice"),
        "package",
        "--stage",
        STAGE,
        "--merge-template",
        "infra/resources.json",
        str(out),
    ]
    result = subprocess.run(command, cwd=ROOT, env=_offline_env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"chalice package failed:\n{result.stdout}\n{result.stderr}"
    # What `make package` ships: the same zip with bytecode.
    zips = [str(out / "deployment.zip"), str(out / "layer-deployment.zip")]
    subprocess.run([sys.executable, str(ROOT / "infra" / "precompile.py"), *zips], check=True)
    return out


@pytest.fixture(scope="module")
def template(packaged: Path) -> dict[str, Any]:
    return json.loads((packaged / "sam.json").read_text())


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]


def _props(resources: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return resources[logical_id]["Properties"]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _table_variables(resources: dict[str, Any]) -> dict[str, str]:
    """Lambda environment variable -> logical id of the table it names, e.g. LINKS_TABLE -> LinksTable."""
    variables = _props(resources, "APIHandler")["Environment"]["Variables"]
    return {name: value["Ref"] for name, value in variables.items() if name.endswith("_TABLE")}


# --- The package as a whole -------------------------------------------------------------


def test_cfn_lint_passes_on_the_merged_template(packaged: Path):
    result = subprocess.run(
        [str(BIN / "cfn-lint"), "--", str(packaged / "sam.json")],
        env=_offline_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_package_holds_the_app_and_a_layer_of_dependencies(packaged: Path, resources: dict[str, Any]):
    handler = _props(resources, "APIHandler")

    assert handler["CodeUri"] == "./deployment.zip"
    with zipfile.ZipFile(packaged / "deployment.zip") as package:
        names = set(package.namelist())
    assert {"app.py", "chalicelib/__init__.py", "chalicelib/config.py", "templates/landing.html"} <= names
    assert not [name for name in names if name.startswith(("boto3/", "botocore/", "jinja2/"))]
    # A change of the code deploys this zip alone; the layer's bytes stay the same.
    assert (packaged / "deployment.zip").stat().st_size <= 1_000_000
    assert _props(resources, "ManagedLayer")["ContentUri"] == "./layer-deployment.zip"
    assert {"Ref": "ManagedLayer"} in handler["Layers"]
    with zipfile.ZipFile(packaged / "layer-deployment.zip") as layer:
        layer_names = set(layer.namelist())
    site_packages = f"python/lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"
    assert f"{site_packages}/pynamodb/__init__.py" in layer_names
    assert not [name for name in layer_names if "/templates/" in name]


def test_deploy_finds_every_artifact_and_the_package_holds_no_deploy_tooling(packaged: Path, template: dict[str, Any]):
    from deploy.stack import local_artifacts

    found = local_artifacts(template)

    assert ("APIHandler", "CodeUri", "./deployment.zip") in found
    assert all((packaged / path).is_file() for _, _, path in found)
    with zipfile.ZipFile(packaged / "deployment.zip") as package:
        assert not [name for name in package.namelist() if name.split("/")[0] in ("deploy", "tests", "infra")]


def _references(node: Any) -> set[str]:
    """Logical ids a piece of template refers to (Ref, GetAtt, Sub), SAM's `Api.Stage` as `Api`."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value.split(".")[0])
            elif key == "Fn::GetAtt":
                found.add((value[0] if isinstance(value, list) else value).split(".")[0])
            elif key == "Fn::Sub":
                text, variables = (value[0], value[1]) if isinstance(value, list) else (value, {})
                names = {name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text)}
                found |= names - set(variables)
                found |= _references(variables)
            else:
                found |= _references(value)
    elif isinstance(node, list):
        for value in node:
            found |= _references(value)
    return found


def test_resources_have_no_dependency_cycle(resources: dict[str, Any]):
    # cfn-lint validates the SAM template untransformed and does not see that RestAPI's
    # DefinitionBody refers to APIHandler: a Lambda environment variable that refers to
    # anything referring to RestAPI is a cycle CloudFormation refuses at deploy time.
    graph = {}
    for logical_id, resource in resources.items():
        depends_on = set(_as_list(resource.get("DependsOn", [])))
        graph[logical_id] = (_references(resource.get("Properties", {})) | depends_on) & set(resources)

    def cycle_from(node: str, path: list[str], done: set[str]) -> list[str] | None:
        for target in sorted(graph[node]):
            if target in path:
                return path[path.index(target) :] + [target]
            if target not in done:
                found = cycle_from(target, [*path, target], done)
                if found:
                    return found
        done.add(node)
        return None

    done: set[str] = set()
    for start in graph:
        assert cycle_from(start, [start], done) is None


def test_security_scan_finds_nothing_but_the_suppressions_named_in_one_place(packaged: Path):
    # checkov lives in its own virtualenv (make test installs it): its pins clash with ours.
    checkov = ROOT / ".venv-scan" / "bin" / "checkov"
    assert checkov.exists(), "run `make test`, which installs checkov into .venv-scan"
    accepted = {}
    for line in (ROOT / "infra" / "checkov.yaml").read_text().splitlines():
        entry = re.match(r"^\s*-\s*(CKV\w+)\s*(?:#\s*(.*))?$", line)
        if entry:
            accepted[entry[1]] = entry[2] or ""
    result = subprocess.run(
        [str(checkov), "-f", str(packaged / "sam.json"), "--framework", "cloudformation", "--skip-download"]
        + ["--output", "json", "--quiet"],
        env=_offline_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    findings = json.loads(result.stdout)["results"]["failed_checks"]

    unexplained = sorted({f"{f['check_id']} {f['resource']}" for f in findings if f["check_id"] not in accepted})
    assert unexplained == [], result.stderr
    assert all(len(why) > 40 for why in accepted.values()), "every suppression says why"
    assert set(accepted) <= {f["check_id"] for f in findings}, "a suppression that matches nothing"


# --- Files bucket -------------------------------------------------------------------


def test_bucket_is_private_versioned_and_encrypted(resources: dict[str, Any]):
    bucket = _props(resources, "FilesBucket")

    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert resources["FilesBucket"]["DeletionPolicy"] == "Retain"


def test_bucket_cors_lets_the_site_upload_and_read_etags(resources: dict[str, Any]):
    (rule,) = _props(resources, "FilesBucket")["CorsConfiguration"]["CorsRules"]

    assert {"Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"} in rule["AllowedOrigins"]
    assert "*" not in rule["AllowedOrigins"]
    assert set(rule["AllowedMethods"]) == {"GET", "PUT", "POST", "HEAD"}
    assert "ETag" in rule["ExposedHeaders"]


def test_bucket_lifecycle_aborts_incomplete_multipart_uploads(resources: dict[str, Any]):
    rules = _props(resources, "FilesBucket")["LifecycleConfiguration"]["Rules"]

    assert {"DaysAfterInitiation": {"Ref": "AbortIncompleteMultipartUploadDays"}} in [
        rule.get("AbortIncompleteMultipartUpload") for rule in rules
    ]


def _bucket_policy_statements(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    policy = _props(resources, "FilesBucketPolicy")
    assert policy["Bucket"] == {"Ref": "FilesBucket"}
    return {statement["Sid"]: statement for statement in policy["PolicyDocument"]["Statement"]}


def test_bucket_policy_refuses_signatures_older_than_the_presign_cap(resources: dict[str, Any]):
    statement = _bucket_policy_statements(resources)["DenySignaturesOlderThanPresignCap"]

    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    cap = statement["Condition"]["NumericGreaterThan"]["s3:signatureAge"]
    # PresignSeconds followed by "000" is the same number in milliseconds.
    assert cap == {
        "Fn::If": ["DeriveSignatureAgeCap", {"Fn::Sub": "${PresignSeconds}000"}, {"Ref": "SignatureAgeCapMs"}]
    }
    assert {"Fn::Sub": "${FilesBucket.Arn}/*"} in _as_list(statement["Resource"])


def test_bucket_policy_refuses_plain_http_and_sigv2(resources: dict[str, Any]):
    statements = _bucket_policy_statements(resources)

    tls = statements["DenyInsecureTransport"]
    assert tls["Effect"] == "Deny"
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # SigV2 reports a signatureAge of 0, which would slip under the cap.
    sigv2 = statements["DenyNonSigV4"]
    assert sigv2["Effect"] == "Deny"
    assert sigv2["Condition"] == {"StringNotEquals": {"s3:signatureversion": "AWS4-HMAC-SHA256"}}


# --- Tables -------------------------------------------------------------------------

_MODEL_SCHEMAS = """
import json
from chalicelib import models, more_models
from chalicelib.config import get_settings

models.bind(get_settings())
out = {}
for model in more_models.all_tables():
    schema = model._get_schema()
    ttl = model._ttl_attribute()
    out[model.Meta.table_name] = {
        "keys": {k["KeyType"]: k["AttributeName"] for k in schema["key_schema"]},
        "types": {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]},
        "indexes": {
            index["index_name"]: {
                "keys": {k["KeyType"]: k["AttributeName"] for k in index["key_schema"]},
                "projection": index["projection"]["ProjectionType"],
            }
            for index in schema["global_secondary_indexes"]
        },
        "local_indexes": [index["index_name"] for index in schema["local_secondary_indexes"]],
        "ttl": ttl.attr_name if ttl else None,
    }
print(json.dumps(out))
"""


def _table_shape(table: dict[str, Any]) -> dict[str, Any]:
    ttl = table.get("TimeToLiveSpecification", {})
    return {
        "keys": {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]},
        "types": {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]},
        "indexes": {
            index["IndexName"]: {
                "keys": {k["KeyType"]: k["AttributeName"] for k in index["KeySchema"]},
                "projection": index["Projection"]["ProjectionType"],
            }
            for index in table.get("GlobalSecondaryIndexes", [])
        },
        "local_indexes": [index["IndexName"] for index in table.get("LocalSecondaryIndexes", [])],
        "ttl": ttl.get("AttributeName") if ttl.get("Enabled") else None,
    }


def test_tables_match_the_pynamodb_models(resources: dict[str, Any]):
    # The models read their table names at import: import them in a child process whose
    # FILES_TABLE etc. are the logical ids the Lambda environment points at.
    tables = _table_variables(resources)
    env = _offline_env()
    env.update(tables)
    result = subprocess.run(
        [sys.executable, "-c", _MODEL_SCHEMAS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    models = json.loads(result.stdout)

    # A model whose variable the template does not set keeps its default name and fails here.
    assert set(models) == set(tables.values())
    for logical_id, model in models.items():
        assert _table_shape(_props(resources, logical_id)) == model, logical_id


def test_links_table_expires_on_expires_at_and_is_indexed_by_file(resources: dict[str, Any]):
    links = _table_shape(_props(resources, "LinksTable"))

    assert links["ttl"] == "expires_at"
    assert links["indexes"]["LinksByFile"] == {"keys": {"HASH": "file_id", "RANGE": "created_at"}, "projection": "ALL"}


def test_tables_are_on_demand_recoverable_and_named_by_cloudformation(resources: dict[str, Any]):
    tables = _table_variables(resources)
    assert len(tables) >= 4
    for logical_id in tables.values():
        table = _props(resources, logical_id)
        assert table["BillingMode"] == "PAY_PER_REQUEST"
        assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert table["SSESpecification"] == {"SSEEnabled": True}
        assert "TableName" not in table  # dev and prod stacks never collide


# --- The Lambda ----------------------------------------------------------------------


def test_lambda_environment_points_at_the_stack(resources: dict[str, Any]):
    variables = _props(resources, "APIHandler")["Environment"]["Variables"]

    assert variables["HANDOVER_STAGE"] == STAGE  # chalice's own, kept by the deep merge
    for name in ("FILES_TABLE", "LINKS_TABLE", "EVENTS_TABLE", "THROTTLE_TABLE"):
        assert resources[variables[name]["Ref"]]["Type"] == "AWS::DynamoDB::Table"
    # The bucket's name is computed, not Ref'd: a Ref would close a cycle through its CORS rule.
    assert variables["FILES_BUCKET"] == _props(resources, "FilesBucket")["BucketName"]
    assert variables["USER_POOL_ID"] == {"Ref": "UserPool"}
    assert variables["USER_POOL_CLIENT_ID"] == {"Ref": "UserPoolClient"}
    assert variables["SERVER_KEY_PARAMETER"] == {"Fn::Sub": "/handover/${AWS::StackName}/server-key"}
    assert variables["PRESIGN_SECONDS"] == {"Ref": "PresignSeconds"}
    assert variables["LOGIN_DOMAIN"] == {
        "Fn::Sub": "https://${LoginDomainPrefix}.auth.${AWS::Region}.amazoncognito.com"
    }


def test_config_reads_every_variable_the_template_sets(resources: dict[str, Any]):
    variables = _props(resources, "APIHandler")["Environment"]["Variables"]
    config = (ROOT / "chalicelib" / "config.py").read_text()

    unread = [name for name in variables if f'"{name}"' not in config]
    assert unread == []


def _policy_statements(resources: dict[str, Any]) -> list[dict[str, Any]]:
    statements = []
    for resource in resources.values():
        if resource.get("Type") == "AWS::IAM::Policy":
            statements += resource["Properties"]["PolicyDocument"]["Statement"]
        elif resource.get("Type") == "AWS::IAM::Role":
            for policy in resource["Properties"].get("Policies", []):
                statements += policy["PolicyDocument"]["Statement"]
    return statements


def test_lambda_role_gets_the_app_policy(resources: dict[str, Any]):
    policy = resources["APIHandlerPolicy"]

    assert policy["Type"] == "AWS::IAM::Policy"
    assert policy["Properties"]["Roles"] == [{"Ref": "DefaultRole"}]
    assert _props(resources, "APIHandler")["Role"] == {"Fn::GetAtt": ["DefaultRole", "Arn"]}
    actions = {action for s in policy["Properties"]["PolicyDocument"]["Statement"] for action in _as_list(s["Action"])}
    assert {"s3:PutObject", "dynamodb:ConditionCheckItem", "ssm:GetParameter", "ssm:PutParameter"} <= actions
    assert "dynamodb:Scan" not in actions  # no Scan in any request path


def test_no_policy_grants_s3_or_dynamodb_on_any_resource(resources: dict[str, Any]):
    for statement in _policy_statements(resources):
        actions = _as_list(statement["Action"])
        if statement["Effect"] != "Allow" or not any(a.split(":")[0] in ("s3", "dynamodb") for a in actions):
            continue
        assert not any(a.endswith("*") for a in actions), statement
        for resource in _as_list(statement["Resource"]):
            assert isinstance(resource, dict), statement  # a Ref, GetAtt or Sub of our own resources
            assert "*" not in json.dumps(resource).replace("/index/*", "").replace("}/*", "}").replace(
                "}/uploads/*", "}"
            ), statement


# --- Identity ------------------------------------------------------------------------


def test_user_pool_signs_in_by_verified_email(resources: dict[str, Any]):
    pool = _props(resources, "UserPool")

    assert pool["UsernameAttributes"] == ["email"]
    assert pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert pool["UserAttributeUpdateSettings"] == {"AttributesRequireVerificationBeforeUpdate": ["email"]}
    assert pool["AccountRecoverySetting"] == {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]}
    groups = {_props(resources, r)["GroupName"] for r, v in resources.items() if v["Type"].endswith("UserPoolGroup")}
    assert groups == {"members", "admins"}


def test_app_client_is_public_and_hides_user_existence(resources: dict[str, Any]):
    client = _props(resources, "UserPoolClient")

    assert client["GenerateSecret"] is False
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
    }


def test_app_client_oauth_is_set_after_the_api_exists(resources: dict[str, Any]):
    oauth = _props(resources, "UserPoolClientOAuth")
    site = "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${RestAPI.Stage}"

    assert oauth["ClientId"] == {"Ref": "UserPoolClient"}
    assert oauth["AllowedOAuthFlows"] == ["code"]
    assert set(oauth["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    assert {"Fn::Sub": site + "/auth/callback"} in oauth["CallbackURLs"]
    # chalicelib/login.py sends people back to /auth/signed-out; the site root is allowed too.
    assert {"Fn::Sub": site + "/auth/signed-out"} in oauth["LogoutURLs"]
    assert {"Fn::Sub": site + "/"} in oauth["LogoutURLs"]


def test_app_client_accepts_the_commands_loopback_callback(resources: dict[str, Any]):
    from handover_cli.login import callback_url

    # Cognito matches callback URLs exactly, port included: the command's one fixed URL.
    assert callback_url() in _props(resources, "UserPoolClientOAuth")["CallbackURLs"]


def test_the_command_line_client_stays_out_of_the_package(packaged: Path):
    for artifact in ("deployment.zip", "layer-deployment.zip"):
        with zipfile.ZipFile(packaged / artifact) as package:
            assert not [name for name in package.namelist() if "handover_cli" in name], artifact


def test_app_client_settings_are_mirrored_on_the_oauth_resource(resources: dict[str, Any]):
    # CloudFormation's update of the client resets the OAuth settings; CloudFormation runs
    # the custom resource again only when its own properties change. The mirror makes
    # every change to the client a change to the custom resource.
    client = dict(_props(resources, "UserPoolClient"))
    client.pop("UserPoolId")

    assert _props(resources, "UserPoolClientOAuth")["ClientSettings"] == client


def test_client_oauth_function_source_compiles(resources: dict[str, Any]):
    source = _props(resources, "UserPoolClientOAuthFunction")["Code"]["ZipFile"]

    assert len(source) < 4096  # CloudFormation's limit for inline code
    compile(source, "index.py", "exec")


def test_client_oauth_function_adds_oauth_and_keeps_the_client_settings(
    resources: dict[str, Any], monkeypatch: pytest.MonkeyPatch
):
    # UpdateUserPoolClient resets whatever it is not given, so the function must send the
    # client's current settings back along with the OAuth part. Run it against moto's Cognito.
    import boto3
    from moto import mock_aws

    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    source = _props(resources, "UserPoolClientOAuthFunction")["Code"]["ZipFile"]
    settings = {k: v for k, v in _props(resources, "UserPoolClient").items() if k not in ("UserPoolId", "ClientName")}
    site = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"

    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name=REGION)
        pool_id = cognito.create_user_pool(PoolName="pool")["UserPool"]["Id"]
        client_id = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="web", **settings)["UserPoolClient"][
            "ClientId"
        ]
        sent: list[dict[str, Any]] = []
        cognito.meta.events.register(
            "provide-client-params.cognito-idp.UpdateUserPoolClient", lambda params, **_: sent.append(dict(params))
        )
        answers: list[tuple[str, str]] = []
        module: dict[str, Any] = {}
        exec(compile(source, "index.py", "exec"), module)
        module["boto3"] = type("Boto3", (), {"client": staticmethod(lambda service: cognito)})
        module["respond"] = lambda event, status, reason, physical_id: answers.append((status, physical_id))
        event = {
            "RequestType": "Create",
            "ResourceProperties": {
                "UserPoolId": pool_id,
                "ClientId": client_id,
                "AllowedOAuthFlows": ["code"],
                "AllowedOAuthScopes": ["openid", "email", "profile"],
                "CallbackURLs": [f"{site}/auth/callback"],
                "LogoutURLs": [f"{site}/"],
            },
        }

        module["handler"](event, None)

        assert answers == [("SUCCESS", client_id)]
        (request,) = sent
        for key, value in settings.items():
            if key != "GenerateSecret":  # fixed at creation, not an update parameter
                assert request[key] == value, key
        assert request["AllowedOAuthFlowsUserPoolClient"] is True
        assert request["CallbackURLs"] == [f"{site}/auth/callback"]
        client = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
        assert client["AllowedOAuthFlows"] == ["code"]
        assert client["PreventUserExistenceErrors"] == "ENABLED"

        event.update(RequestType="Update", PhysicalResourceId=client_id)
        event["ResourceProperties"]["ClientId"] = "no-such-client"
        module["handler"](event, None)  # a failure is reported to CloudFormation, never raised

        assert answers[-1] == ("FAILED", client_id)


# --- Alarms and logs -----------------------------------------------------------------

# The dimensions under which each service publishes the metric (CloudWatch matches the
# whole set: an alarm on another set watches a metric that never gets data).
_PUBLISHED = {
    ("AWS/ApiGateway", "5XXError"): {"ApiName", "Stage"},
    ("AWS/Lambda", "Errors"): {"FunctionName"},
    ("AWS/Lambda", "Throttles"): {"FunctionName"},
    ("AWS/Lambda", "Duration"): {"FunctionName"},
    ("AWS/DynamoDB", "ReadThrottleEvents"): {"TableName"},
    ("AWS/DynamoDB", "WriteThrottleEvents"): {"TableName"},
}


def _alarm_metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics an alarm watches: its own, or those of its metric math."""
    if "MetricName" in alarm:
        return [{key: alarm[key] for key in ("Namespace", "MetricName", "Dimensions")}]
    return [query["MetricStat"]["Metric"] for query in alarm["Metrics"] if "MetricStat" in query]


def _names_a_resource_of_the_template(name: str, value: Any, resources: dict[str, Any]) -> bool:
    apis = {logical_id: r for logical_id, r in resources.items() if r["Type"] == "AWS::Serverless::Api"}
    if name == "ApiName":
        return any(api["Properties"].get("Name") == value for api in apis.values())
    if name == "Stage":
        return value in [{"Fn::Sub": f"${{{logical_id}.Stage}}"} for logical_id in apis]
    wanted = {
        "FunctionName": ("AWS::Serverless::Function", "AWS::Lambda::Function"),
        "TableName": ("AWS::DynamoDB::Table",),
    }
    return isinstance(value, dict) and resources.get(value.get("Ref"), {}).get("Type") in wanted[name]


def test_every_alarm_watches_a_metric_published_for_a_resource_of_the_stack(resources: dict[str, Any]):
    alarms = {
        logical_id: r["Properties"] for logical_id, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    watched = set()
    for logical_id, alarm in alarms.items():
        for metric in _alarm_metrics(alarm):
            key = (metric["Namespace"], metric["MetricName"])
            dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            assert set(dimensions) == _PUBLISHED[key], (logical_id, key)
            for name, value in dimensions.items():
                assert _names_a_resource_of_the_template(name, value, resources), (logical_id, name, value)
            watched.add(key)

    assert watched == set(_PUBLISHED)  # 5xx, Lambda errors, throttles and duration, table throttles
    assert sum(len(_alarm_metrics(alarm)) for alarm in alarms.values()) <= 10  # CloudWatch's free alarm metrics


def test_alarms_reach_the_email_given_as_a_parameter_and_stay_quiet_while_idle(template: dict[str, Any]):
    resources = template["Resources"]
    subscription = _props(resources, "AlarmEmailSubscription")

    assert "Default" not in template["Parameters"]["AlarmEmail"]
    assert subscription == {"TopicArn": {"Ref": "AlarmTopic"}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}
    for resource in resources.values():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            assert resource["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]
            assert resource["Properties"]["TreatMissingData"] == "notBreaching"


def test_slow_requests_alarm_before_api_gateways_29_second_limit(resources: dict[str, Any]):
    slow = _props(resources, "ApiHandlerSlowAlarm")

    assert (slow["MetricName"], slow["ExtendedStatistic"]) == ("Duration", "p99")
    assert 20_000 <= slow["Threshold"] < 29_000  # milliseconds


def test_api_access_log_is_json_with_the_route_pattern_never_the_path(resources: dict[str, Any]):
    api = resources["RestAPI"]
    setting = api["Properties"]["AccessLogSetting"]
    # The one unquoted variable is already a quoted JSON string.
    line = setting["Format"].replace("$context.error.messageString", '"error"')

    fields = json.loads(line)
    assert fields["route"] == "$context.resourcePath"
    assert fields["requestId"] == "$context.requestId"
    assert "$context.path" not in setting["Format"]  # paths carry link tokens
    log_group = resources[setting["DestinationArn"]["Fn::GetAtt"][0]]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    # API Gateway writes logs only once its account-wide role is set.
    assert api["DependsOn"] == ["ApiGatewayAccount"]


def test_outputs_name_what_an_operator_needs(template: dict[str, Any]):
    assert {"FilesBucketName", "UserPoolId", "UserPoolClientId", "HostedLoginUrl", "EndpointURL"} <= set(
        template["Outputs"]
    )


_RENDER_FROM_PACKAGE = """
import sys
from datetime import datetime, timezone
sys.path[:0] = ["."]
import app  # noqa: F401 (as Lambda does: the app, with its routes for the pages' links)
from chalicelib import pages
from chalicelib.models import LinkRecord, LinkTarget
assert pages.TEMPLATES.resolve().is_relative_to(__import__("pathlib").Path(".").resolve()), pages.TEMPLATES
now = datetime.now(timezone.utc)
target = LinkTarget(name="Plan <v2>.pdf", size=2048, content_type="application/pdf", updated_at=now,
                    s3_key="files/x", version_id="v1")
link = LinkRecord("id", file_id="x", owner="o", created_at=now, updated_at=now, target=target)
print(pages.landing(link, "TOKEN", "https://example.test/prod", None))
print(pages.static_file("handover.css")[1])
"""


def test_landing_page_renders_from_the_unzipped_package_alone(packaged: Path, tmp_path: Path) -> None:
    # Lambda imports from a read-only /var/task holding only the zip, and the layer in /opt:
    # no repo, no venv.
    task, opt = tmp_path / "task", tmp_path / "opt"
    with zipfile.ZipFile(packaged / "deployment.zip") as archive:
        archive.extractall(task)
    with zipfile.ZipFile(packaged / "layer-deployment.zip") as archive:
        archive.extractall(opt)
    site_packages = (
        opt / "python" / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    )
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": str(site_packages),
        "HANDOVER_STAGE": STAGE,
        "AWS_REGION": REGION,
    }
    result = subprocess.run(
        [sys.executable, "-S", "-s", "-c", _RENDER_FROM_PACKAGE],
        cwd=task,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "Plan &lt;v2&gt;.pdf" in result.stdout
    assert "https://example.test/prod/s/TOKEN/download" in result.stdout
    assert "text/css" in result.stdout


def test_the_package_carries_bytecode_python_uses_as_it_is(packaged: Path) -> None:
    with zipfile.ZipFile(packaged / "deployment.zip") as archive:
        names = set(archive.namelist())
        header = archive.read(f"chalicelib/__pycache__/pages.{sys.implementation.cache_tag}.pyc")[:16]

    assert f"__pycache__/app.{sys.implementation.cache_tag}.pyc" in names
    # Flags 0b01: hash-based and unchecked, so the 1980 dates inside the zip do not matter.
    assert int.from_bytes(header[4:8], "little") == 0b01
    with zipfile.ZipFile(packaged / "layer-deployment.zip") as layer:  # the layer too: /opt is read-only
        site_packages = f"python/lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"
        assert f"{site_packages}/pynamodb/__pycache__/models.{sys.implementation.cache_tag}.pyc" in layer.namelist()


def test_an_unchanged_layer_finishes_to_the_same_bytes(packaged: Path, tmp_path: Path) -> None:
    # So `aws cloudformation package` finds it already uploaded, and a code change deploys the app alone.
    copies = [tmp_path / "one" / "layer-deployment.zip", tmp_path / "two" / "layer-deployment.zip"]
    for copy in copies:
        copy.parent.mkdir()
        copy.write_bytes((packaged / "layer-deployment.zip").read_bytes())
        subprocess.run([sys.executable, str(ROOT / "infra" / "precompile.py"), str(copy)], check=True)

    assert copies[0].read_bytes() == copies[1].read_bytes()


def test_the_local_login_stand_in_is_not_part_of_a_deployed_api(template: dict[str, Any]) -> None:
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]

    assert "/auth/callback" in paths
    assert not [path for path in paths if path.startswith("/local-login")]


def test_dev_only_code_never_reaches_the_lambda_package(packaged: Path) -> None:
    zips = [packaged / "deployment.zip", *packaged.glob("layer-deployment.zip")]
    names = {name for path in zips for name in zipfile.ZipFile(path).namelist()}

    assert [name for name in names if name.startswith("devstack/") or "local_login" in name] == []
    assert [name for name in names if name.startswith("chalicelib/") and "localstack" in name] == []
    assert "templates/base.html" in names  # the app's own templates are there


def test_folder_zips_are_built_by_their_own_function_which_only_the_app_invokes(resources: dict[str, Any]):
    builder = _props(resources, "ZipBuilder")
    app_variables = _props(resources, "APIHandler")["Environment"]["Variables"]
    statements = resources["APIHandlerPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    invoke = [s for s in statements if "lambda:InvokeFunction" in _as_list(s["Action"])]
    retries = _props(resources, "ZipBuilderInvokeConfig")
    rules = _props(resources, "FilesBucket")["LifecycleConfiguration"]["Rules"]

    assert builder["Handler"] == "app.build_zip" and builder["Timeout"] == 900  # Lambda's longest run
    assert builder["Environment"]["Variables"]["FILES_BUCKET"] == app_variables["FILES_BUCKET"]
    assert app_variables["ZIP_FUNCTION"] == {"Ref": "ZipBuilder"}
    assert [s["Resource"] for s in invoke] == [{"Fn::GetAtt": ["ZipBuilder", "Arn"]}]
    assert (retries["FunctionName"], retries["MaximumRetryAttempts"]) == ({"Ref": "ZipBuilder"}, 0)
    assert {"Prefix": "zips/", "ExpirationInDays": 1} in [
        {k: rule[k] for k in ("Prefix", "ExpirationInDays") if k in rule} for rule in rules if isinstance(rule, dict)
    ]


# --- Email ---------------------------------------------------------------------------


def test_mail_goes_through_a_queue_with_a_dead_letter_queue_to_its_handler(resources: dict[str, Any]):
    from chalicelib import mail

    queue = _props(resources, "MailQueue")
    event = _props(resources, "SendMail")["Events"]["SendMailSqsEventSource"]

    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["MailDeadLetterQueue", "Arn"]},
        "maxReceiveCount": mail.MAX_ATTEMPTS,
    }
    assert queue["SqsManagedSseEnabled"] is True and _props(resources, "MailDeadLetterQueue")["SqsManagedSseEnabled"]
    # SQS hides a message this long while a function works on it: longer than the function may run.
    assert queue["VisibilityTimeout"] >= _props(resources, "SendMail")["Timeout"]
    assert event == {
        "Type": "SQS",
        "Properties": {"Queue": {"Fn::Sub": "${MailQueue.Arn}"}, "BatchSize": 1, "MaximumBatchingWindowInSeconds": 0},
    }
    assert _props(resources, "SendMail")["Handler"] == "app.send_mail"


def test_the_daily_mail_job_runs_on_a_daily_schedule(resources: dict[str, Any]):
    daily = _props(resources, "DailyMail")

    assert daily["Handler"] == "app.daily_mail"
    assert daily["Events"]["DailyMailEvent"] == {"Type": "Schedule", "Properties": {"Schedule": "rate(1 day)"}}


def test_every_function_of_the_app_has_the_same_settings(resources: dict[str, Any]):
    api = _props(resources, "APIHandler")

    for name in ("SendMail", "DailyMail"):
        function = _props(resources, name)
        assert function["Environment"] == api["Environment"], name
        assert function["Role"] == api["Role"] and function["Layers"] == api["Layers"], name


def test_mail_settings_are_stack_parameters_and_the_app_may_send_only_as_its_identity(template: dict[str, Any]):
    resources = template["Resources"]
    variables = _props(resources, "APIHandler")["Environment"]["Variables"]
    statements = {s["Sid"]: s for s in _props(resources, "APIHandlerPolicy")["PolicyDocument"]["Statement"]}

    assert variables["MAIL_IDENTITY"] == {"Ref": "MailIdentity"}
    assert variables["MAIL_FROM"] == {"Ref": "MailFrom"}
    assert variables["MAIL_QUEUE_URL"] == {"Ref": "MailQueue"}
    assert template["Parameters"]["MailIdentity"]["Default"] == ""  # email off until an identity is verified
    assert statements["SendMail"]["Action"] == ["ses:SendEmail"]
    on, _ = statements["SendMail"]["Resource"]["Fn::If"][1:]
    assert on == {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${MailIdentity}"}
    assert statements["MailQueue"]["Resource"] == {"Fn::GetAtt": ["MailQueue", "Arn"]}


def test_the_local_outbox_is_not_part_of_a_deployed_api(template: dict[str, Any], packaged: Path) -> None:
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    names = zipfile.ZipFile(packaged / "deployment.zip").namelist()

    assert "/console/email" in paths
    assert not [path for path in paths if path.startswith("/local-outbox")]
    assert not [name for name in names if "outbox" in name or "mail_worker" in name]
    assert "templates/email/link_shared.txt" in names  # the mails' own templates are there


# --- Malware scanning ---------------------------------------------------------------------


def test_guardduty_scans_and_tags_every_new_file_object(resources: dict[str, Any]):
    plan = _props(resources, "MalwareProtectionPlan")

    assert resources["MalwareProtectionPlan"]["Type"] == "AWS::GuardDuty::MalwareProtectionPlan"
    # files/ only: staged uploads become a new object there, which is what gets scanned and served.
    assert plan["ProtectedResource"] == {
        "S3Bucket": {"BucketName": {"Ref": "FilesBucket"}, "ObjectPrefixes": ["files/"]}
    }
    assert plan["Actions"] == {"Tagging": {"Status": "ENABLED"}}
    assert plan["Role"] == {"Fn::GetAtt": ["MalwareProtectionRole", "Arn"]}
    role = _props(resources, "MalwareProtectionRole")
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "malware-protection-plan.guardduty.amazonaws.com"}
    actions = {a for p in role["Policies"] for s in p["PolicyDocument"]["Statement"] for a in _as_list(s["Action"])}
    assert {
        "s3:GetObjectVersion",
        "s3:PutObjectVersionTagging",
        "s3:PutBucketNotification",
        "events:PutRule",
    } <= actions


def test_scan_results_reach_the_handler_with_the_apps_environment(resources: dict[str, Any]):
    from chalicelib import scans

    handler = _props(resources, "ScanResult")
    pattern = handler["Events"]["ScanResultEvent"]["Properties"]["Pattern"]

    assert handler["Handler"] == "app.scan_result"
    assert pattern["source"] == [scans.EVENT_SOURCE]
    assert pattern["detail-type"] == [scans.EVENT_DETAIL_TYPE]
    assert pattern["detail"]["s3ObjectDetails"]["bucketName"] == [_props(resources, "FilesBucket")["BucketName"]]
    assert handler["Environment"] == _props(resources, "APIHandler")["Environment"]
    assert handler["Role"] == _props(resources, "APIHandler")["Role"]
    assert _props(resources, "ScanResultLogGroup")["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${ScanResult}"}


def test_bucket_policy_refuses_reading_objects_tagged_infected(resources: dict[str, Any]):
    from chalicelib import scans

    statement = _bucket_policy_statements(resources)["DenyReadingInfectedObjects"]

    assert (statement["Effect"], statement["Principal"]) == ("Deny", "*")
    assert statement["Condition"] == {"StringEquals": {f"s3:ExistingObjectTag/{scans.TAG}": scans.THREATS_FOUND}}
