"""Who may call the member API: Cognito tokens verified in our own code, files kept apart."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import time_machine
from conftest import Api, shared_file, signed_in
from cryptography.hazmat.primitives.asymmetric import rsa


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_no_token_answers_401(anonymous):
    answer = anonymous.call("GET", "/api/files")

    assert answer.status_code == 401
    assert answer.data["error"]["code"] == "missing_token"


@pytest.mark.parametrize("header", ["Bearer", "Bearer garbage", "Basic dXNlcjpwYXNz", "Bearer a.b.c"])
def test_garbage_authorization_answers_401(client, header):
    answer = Api(client, None).call("GET", "/api/files", headers={"Authorization": header})

    assert answer.status_code == 401


def test_expired_token_answers_401(client, member):
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=2)):
        answer = member.call("GET", "/api/files")

    assert answer.status_code == 401
    assert answer.data["error"]["code"] == "invalid_token"


def test_unsigned_alg_none_token_answers_401(client, member):
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(member.token))}."

    assert Api(client, forged).call("GET", "/api/files").status_code == 401


def test_token_signed_with_another_key_answers_401(client, member):
    header = jwt.get_unverified_header(member.token)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(_claims(member.token), key, algorithm="RS256", headers={"kid": header["kid"]})

    assert Api(client, forged).call("GET", "/api/files").status_code == 401


def test_token_of_another_app_client_answers_401(client, stack):
    cognito = stack.client("cognito-idp")
    other = cognito.create_user_pool_client(
        UserPoolId=stack.user_pool_id, ClientName="other", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    signed_in(stack, "alice@example.com")
    token = cognito.initiate_auth(
        ClientId=other,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice@example.com", "PASSWORD": "Secret-pass-1"},
    )["AuthenticationResult"]["IdToken"]

    assert Api(client, token).call("GET", "/api/files").status_code == 401


def test_token_of_another_user_pool_answers_401(client, stack):
    cognito = stack.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName="elsewhere")["UserPool"]["Id"]
    app_client = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="web", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(UserPoolId=pool, Username="mallory", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool, Username="mallory", Password="Secret-pass-1", Permanent=True)
    cognito.create_group(UserPoolId=pool, GroupName="members")
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="mallory", GroupName="members")
    token = cognito.initiate_auth(
        ClientId=app_client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "mallory", "PASSWORD": "Secret-pass-1"},
    )["AuthenticationResult"]["AccessToken"]

    assert Api(client, token).call("GET", "/api/files").status_code == 401


def test_access_tokens_work_as_well_as_id_tokens(client, stack):
    signed_in(stack, "alice@example.com")
    access = stack.sign_in("alice@example.com", "Secret-pass-1")["AccessToken"]

    assert Api(client, access).call("GET", "/api/files").status_code == 200


def test_signed_in_user_outside_the_members_group_answers_403(client, stack):
    outsider = Api(client, signed_in(stack, "partner@example.org", groups=()))

    answer = outsider.call("GET", "/api/files")

    assert answer.status_code == 403
    assert answer.data["error"]["code"] == "not_a_member"


def test_another_members_file_and_links_answer_404(member, other_member):
    file, link = shared_file(member)
    file_path = f"/api/files/{file['file_id']}"

    assert other_member.call("GET", file_path).status_code == 404
    assert other_member.call("DELETE", file_path).status_code == 404
    assert other_member.call("GET", f"{file_path}/links").status_code == 404
    assert other_member.call("POST", f"{file_path}/links", {}).status_code == 404
    assert other_member.call("PATCH", f"/api/links/{link['token']}", {"valid_until": None}).status_code == 404
    assert other_member.call("DELETE", f"/api/links/{link['token']}").status_code == 404
    assert file["file_id"] not in {f["file_id"] for f in other_member.call("GET", "/api/files").data["files"]}
    assert member.call("GET", file_path).status_code == 200
