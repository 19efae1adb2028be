"""QA of the FIS injector against the experiment lifecycle FIS documents (ExperimentStatus:
pending, initiating, running, completed, stopping, stopped, failed, cancelled). Every call goes
through botocore's Stubber, which checks names and shapes against the real FIS model; nothing
reaches AWS (the client's endpoint is loopback and the Stubber answers before any send)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from chaos import ChaosSpec, expand
from chaos.injectors import AwsFisInjector, build
from chaos.injectors.aws import FisError
from chaos.timeline import Timeline
from verdict.history import CHAOS_LOG

ROLE = "arn:aws:iam::123456789012:role/hothot-fis"
REGIONS = ["us-east-1", "eu-west-1"]
EXP = {"id": "EXP9xyz"}
TEMPLATE = {"id": "EXT1abc"}
HANDLE = {"region": "eu-west-1", "template_id": "EXT1abc", "experiment_id": "EXP9xyz"}


def injector(client: Any) -> AwsFisInjector:
    return AwsFisInjector(ROLE, "hothot-t", REGIONS, fis=lambda region: client)


def partition(seconds: str = "5s") -> Any:
    return ChaosSpec.model_validate(
        [{"at": 0, "for": seconds, "fault": "partition", "region": "eu-west-1"}]
    ).faults[0]


def expect_create_and_start(stub: Stubber, status: str = "initiating") -> None:
    stub.add_response(
        "create_experiment_template",
        {"experimentTemplate": TEMPLATE | {"roleArn": ROLE}},
        {
            "clientToken": ANY,
            "description": ANY,
            "stopConditions": ANY,
            "targets": ANY,
            "actions": ANY,
            "roleArn": ROLE,
            "tags": ANY,
        },
    )
    stub.add_response(
        "start_experiment",
        {"experiment": EXP | {"state": {"status": status}}},
        {"clientToken": ANY, "experimentTemplateId": "EXT1abc"},
    )


def expect_state(stub: Stubber, status: str, **more: Any) -> None:
    stub.add_response(
        "get_experiment", {"experiment": EXP | {"state": {"status": status} | more}}, EXP
    )


def expect_stop_refused(stub: Stubber, message: str, status: str) -> None:
    """StopExperiment answers ValidationException `message`; GetExperiment then says
    `status`; the template is deleted either way."""
    stub.add_client_error("stop_experiment", "ValidationException", message, 400, EXP)
    expect_state(stub, status)
    stub.add_response("delete_experiment_template", {"experimentTemplate": TEMPLATE}, TEMPLATE)


def expect_cleanup(stub: Stubber, stop: str | None = "stopping") -> None:
    if stop is None:
        stub.add_client_error("stop_experiment", "ValidationException", "already over", 400, EXP)
    else:
        stub.add_response("stop_experiment", {"experiment": EXP | {"state": {"status": stop}}}, EXP)
    stub.add_response("delete_experiment_template", {"experimentTemplate": TEMPLATE}, TEMPLATE)


def test_apply_waits_until_fis_runs_the_experiment(stubbed_fis: Any) -> None:
    client, stub = stubbed_fis
    expect_create_and_start(stub, "initiating")
    expect_state(stub, "pending")
    expect_state(stub, "initiating")
    expect_state(stub, "running")
    handle = injector(client).apply(partition(), "f1")
    assert handle == HANDLE


def test_an_experiment_that_fails_to_start_is_an_apply_error_and_is_cleaned_up(
    stubbed_fis: Any,
) -> None:
    client, stub = stubbed_fis
    expect_create_and_start(stub, "initiating")
    failed = {
        "reason": "Target resolution returned empty set",
        "error": {"code": "TargetsNotFound"},
    }
    expect_state(stub, "failed", **failed)
    expect_state(stub, "failed", **failed)  # read again for the message
    expect_cleanup(stub, stop=None)
    with pytest.raises(FisError) as caught:
        injector(client).apply(partition(), "f1")
    message = str(caught.value)
    assert "EXP9xyz" in message and "eu-west-1" in message and "failed" in message
    assert "Target resolution returned empty set" in message and "TargetsNotFound" in message
    assert ROLE in message


def test_an_experiment_stuck_initiating_is_stopped_not_counted(stubbed_fis: Any) -> None:
    client, stub = stubbed_fis
    expect_create_and_start(stub, "initiating")
    expect_cleanup(stub)
    fis = injector(client)
    fis.start_timeout_s = 0.0
    with pytest.raises(FisError, match=r"still 'initiating' after 0s"):
        fis.apply(partition(), "f1")


def test_access_denied_names_the_operation_the_permission_and_the_role(stubbed_fis: Any) -> None:
    client, stub = stubbed_fis
    stub.add_client_error(
        "create_experiment_template",
        "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iam:PassRole",
        403,
    )
    with pytest.raises(FisError) as caught:
        injector(client).apply(partition(), "f1")
    message = str(caught.value)
    assert "CreateExperimentTemplate in eu-west-1" in message
    assert "iam:PassRole" in message and ROLE in message and "AccessDeniedException" in message


def test_heal_of_an_experiment_that_already_completed_asks_fis_and_succeeds(
    stubbed_fis: Any,
) -> None:
    client, stub = stubbed_fis
    # StopExperiment documents only ValidationException and ResourceNotFoundException; the
    # message text is FIS's own, so hothot asks GetExperiment what the experiment is
    expect_stop_refused(stub, "Experiment EXP9xyz has completed", "completed")
    injector(client).heal(partition(), HANDLE)


def test_a_validation_error_on_a_running_experiment_is_not_taken_for_healed(
    stubbed_fis: Any,
) -> None:
    client, stub = stubbed_fis
    expect_stop_refused(stub, "invalid experiment state", "running")
    with pytest.raises(FisError, match="StopExperiment in eu-west-1 failed: ValidationException"):
        injector(client).heal(partition(), HANDLE)


def test_heal_returns_only_once_the_experiment_has_stopped(stubbed_fis: Any) -> None:
    client, stub = stubbed_fis
    stub.add_response(
        "stop_experiment", {"experiment": EXP | {"state": {"status": "stopping"}}}, EXP
    )
    expect_state(stub, "stopping")
    expect_state(stub, "stopped")
    stub.add_response("delete_experiment_template", {"experimentTemplate": TEMPLATE}, TEMPLATE)
    injector(client).heal(partition(), HANDLE)


def test_timeline_logs_a_failed_experiment_as_a_failed_apply(
    stubbed_fis: Any, tmp_path: Path
) -> None:
    client, stub = stubbed_fis
    expect_create_and_start(stub, "failed")
    expect_state(stub, "failed", reason="AccessDenied on dynamodb:PutResourcePolicy")
    expect_cleanup(stub, stop=None)
    spec = ChaosSpec.model_validate(
        {
            "faults": [{"at": 0, "for": "200ms", "fault": "partition", "region": "eu-west-1"}],
            "aws": {"role_arn": ROLE},
        }
    )
    injectors = build("aws", REGIONS, aws=spec.aws, table="hothot-t", fis=lambda r: client)
    with Timeline(expand(spec, 1, REGIONS, 10), injectors, tmp_path) as timeline:
        timeline.start()
        assert timeline.wait(timeout=10)
    assert len(timeline.errors) == 1 and "dynamodb:PutResourcePolicy" in timeline.errors[0]
    start = (tmp_path / CHAOS_LOG).read_text().splitlines()[0]
    assert '"error"' in start and "PutResourcePolicy" in start
