"""Where `make deploy` goes: the environment, else .deploy/<stage>.json, else questions."""

from __future__ import annotations

import json

import pytest

from deploy.target import Target, TargetError, load_target


def test_first_use_asks_checks_and_saves_and_the_next_asks_nothing(tmp_path):
    answers = iter(["eu-west-1", "", "Acme_Files", "acme-files", "ops@example.com", "alice@example.com"])
    questions: list[str] = []

    def ask(question: str) -> str:
        questions.append(question)
        return next(answers)

    target = load_target(tmp_path, {}, ask, say=lambda _: None)

    assert target == Target("prod", "eu-west-1", "handover-prod", "acme-files", "ops@example.com", "alice@example.com")
    assert len(questions) == 6  # the invalid prefix was asked again
    assert json.loads((tmp_path / ".deploy" / "prod.json").read_text())["login_prefix"] == "acme-files"
    assert load_target(tmp_path, {}, None, say=lambda _: None) == target


def test_the_environment_wins_over_the_file(tmp_path):
    answers = iter(["eu-west-1", "handover-prod", "acme", "a@example.com", "b@example.com"])
    load_target(tmp_path, {}, lambda _: next(answers), say=lambda _: None)

    target = load_target(tmp_path, {"STACK_NAME": "files-prod", "REGION": "us-east-2"}, None, say=lambda _: None)

    assert (target.stack_name, target.region, target.login_prefix) == ("files-prod", "us-east-2", "acme")


def test_without_a_terminal_a_missing_setting_names_its_variable(tmp_path):
    with pytest.raises(TargetError, match="Set LOGIN_PREFIX"):
        load_target(tmp_path, {"REGION": "eu-west-1"}, None, say=lambda _: None)


def test_removing_a_stack_needs_no_email(tmp_path):
    env = {"STAGE": "dev", "REGION": "eu-west-1"}

    target = load_target(tmp_path, env, None, say=lambda _: None, needed=("region", "stack_name"))

    assert (target.stack_name, target.alarm_email) == ("handover-dev", "")


def test_mail_settings_come_from_the_environment_are_saved_and_become_stack_parameters(tmp_path):
    from deploy.stack import stack_parameters

    answers = iter(["eu-west-1", "", "acme", "ops@example.com", "alice@example.com"])
    env = {"MAIL_IDENTITY": "example.com", "TEAM_NAME": "Acme"}

    target = load_target(tmp_path, env, lambda _: next(answers), say=lambda _: None)
    again = load_target(tmp_path, {}, None, say=lambda _: None)
    template = {"Parameters": {"MailIdentity": {}, "MailFrom": {}, "TeamName": {}}}
    running = {"Parameters": [{"ParameterKey": key} for key in template["Parameters"]]}

    assert (again.mail_identity, again.mail_from, again.team_name) == ("example.com", "", "Acme")
    parameters = stack_parameters(target, template, running)
    given = {p["ParameterKey"]: p.get("ParameterValue", "previous") for p in parameters}
    assert given["MailIdentity"] == "example.com" and given["TeamName"] == "Acme"
    assert given["MailFrom"] == "previous"  # not set here: the stack keeps what it has
