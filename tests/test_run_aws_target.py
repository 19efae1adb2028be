"""QA of the aws target's guards, run with AWS unreachable by construction: no credentials
anywhere, the instance-metadata lookup off, and (in-process) every socket connect refused."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

import hothot.target as target_module
from hothot.target import (
    Target,
    TargetError,
    check_replicas,
    open_target,
    prepare_table,
)
from hothot.targetspec import TargetSpec
from loadgen.client import Boto3Client

AWS_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)


def offline_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in AWS_ENV}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["AWS_CONFIG_FILE"] = str(tmp_path / "no-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "no-credentials")
    return env


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in AWS_ENV:
        monkeypatch.delenv(key, raising=False)
    for key, value in offline_env(tmp_path).items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a test tried to open a connection: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def aws_spec(**more: Any) -> TargetSpec:
    return TargetSpec.model_validate(
        {"kind": "aws", "regions": ["us-east-1", "eu-west-1"], "table": "hothot-t"}
        | {"allow_real_aws": True}
        | more
    )


def test_no_credentials_is_a_target_error_before_any_call(no_aws: None) -> None:
    with pytest.raises(TargetError, match="found no AWS credentials"):
        open_target(aws_spec(), seed=1)


def test_a_missing_profile_is_a_target_error(no_aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "hothot-nope")
    with pytest.raises(TargetError, match="credentials are unusable.*hothot-nope"):
        open_target(aws_spec(), seed=1)


def test_with_credentials_the_aws_target_opens_without_calling_aws(
    no_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    target = open_target(aws_spec(), seed=1)
    assert target.kind == "aws" and target.endpoints == {"us-east-1": None, "eu-west-1": None}


def test_run_without_credentials_exits_2_naming_the_problem(tmp_path: Path) -> None:
    campaign = tmp_path / "aws.yaml"
    campaign.write_text(
        "name: awsqa\nduration: 5s\n"
        "target: {kind: aws, regions: [us-east-1, us-west-2], table: hothot-qa, "
        "allow_real_aws: true}\n"
        "workloads: [{kind: profile, weight: 1, keys: 10}]\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "hothot", "run", str(campaign), "--report-dir", str(tmp_path / "r")],
        env=offline_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 2, out
    assert "found no AWS credentials" in out and "Traceback" not in out


def test_an_empty_table_guard_is_refused_not_taken_as_any_table() -> None:
    """'' is a prefix of every name: it would silently switch the guard off."""
    with pytest.raises(ValueError, match="table_guard must not be empty"):
        aws_spec(table_guard="")
    assert aws_spec(table="orders-prod", table_guard="orders-prod").table == "orders-prod"
    with pytest.raises(ValueError, match="does not start with table_guard"):
        aws_spec(table="prod-orders")


def described(region: str, **table: Any) -> tuple[Boto3Client, Stubber]:
    """A Boto3Client whose DescribeTable answers `table` (checked against DynamoDB's model),
    and its Stubber, to check the answer was asked for."""
    client = Boto3Client(
        region,
        "http://127.0.0.1:9",
        credentials={"aws_access_key_id": "x", "aws_secret_access_key": "x"},
    )
    stub = Stubber(client._client)
    stub.add_response(
        "describe_table",
        {"Table": {"TableName": "hothot-t", "TableStatus": "ACTIVE"} | table},
        {"TableName": "hothot-t"},
    )
    stub.activate()
    return client, stub


REGIONS3 = ["us-east-1", "us-west-2", "eu-west-1"]
ACTIVE = [{"RegionName": r, "ReplicaStatus": "ACTIVE"} for r in REGIONS3]


def test_one_global_table_across_the_regions_passes() -> None:
    client, stub = described("us-east-1", GlobalTableVersion="2019.11.21", Replicas=ACTIVE[1:])
    check_replicas(client, "hothot-t", REGIONS3)
    stub.assert_no_pending_responses()  # it did describe the table: passing was earned


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({}, r"no replica in us-west-2, eu-west-1 \(its replicas: none\)"),
        (
            {"GlobalTableVersion": "2019.11.21", "Replicas": ACTIVE[:2]},
            "no replica in eu-west-1",
        ),
        (
            {
                "GlobalTableVersion": "2019.11.21",
                "Replicas": [*ACTIVE[:2], {"RegionName": "eu-west-1", "ReplicaStatus": "CREATING"}],
            },
            "replicas not ACTIVE: eu-west-1 is CREATING",
        ),
        ({"GlobalTableVersion": "2017.11.29", "Replicas": ACTIVE}, "version 2017.11.29"),
    ],
)
def test_tables_that_are_not_one_global_table_are_refused(
    table: dict[str, Any], message: str
) -> None:
    client, stub = described("us-east-1", **table)
    with pytest.raises(TargetError, match=message):
        check_replicas(client, "hothot-t", REGIONS3)
    stub.assert_no_pending_responses()


def test_prepare_table_checks_the_replicas_on_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two same-named single-region tables pass check_table; the aws target refuses them."""
    answers = {"TableName": "hothot-t", "TableStatus": "ACTIVE"} | {
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]
    }

    def client(region: str, url: str | None) -> Any:
        made = Boto3Client(
            region,
            "http://127.0.0.1:9",
            credentials={"aws_access_key_id": "x", "aws_secret_access_key": "x"},
        )
        stub = Stubber(made._client)
        for _ in range(2):
            stub.add_response("describe_table", {"Table": answers}, {"TableName": "hothot-t"})
        stub.activate()
        return made

    monkeypatch.setattr(target_module, "Boto3Client", client)
    spec = aws_spec(table="hothot-t")
    with pytest.raises(TargetError, match="table 'hothot-t' in region us-east-1 has no replica"):
        prepare_table(spec, Target("aws", dict.fromkeys(spec.regions)))
