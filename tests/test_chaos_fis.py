"""chaos: the AWS FIS injector. AWS is not reachable here, so every call is checked against
botocore's real FIS service model with botocore's Stubber (names, shapes, required fields)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from pydantic import ValidationError

from chaos import ChaosSpec, expand
from chaos.heal import heal_report
from chaos.injectors import AwsFisInjector, build
from chaos.timeline import Timeline
from verdict.history import CHAOS_LOG, fault_windows

ROLE = "arn:aws:iam::123456789012:role/hothot-fis"
REGIONS = ["us-east-1", "eu-west-1"]


@pytest.fixture
def fis(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(AwsFisInjector, "poll_s", 0.0)
    client = boto3.client(
        "fis", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def expect_template(stub: Stubber, targets: dict[str, Any], duration: str) -> None:
    stub.add_response(
        "create_experiment_template",
        {"experimentTemplate": {"id": "EXT1abc", "roleArn": ROLE}},
        {
            "clientToken": ANY,
            "description": ANY,
            "stopConditions": [{"source": "none"}],
            "targets": {
                "Tables": {"resourceType": "aws:dynamodb:global-table", "selectionMode": "ALL"}
                | targets
            },
            "actions": {
                "pause-replication": {
                    "actionId": "aws:dynamodb:global-table-pause-replication",
                    "parameters": {"duration": duration},
                    "targets": {"Tables": "Tables"},
                }
            },
            "roleArn": ROLE,
            "tags": ANY,
        },
    )
    stub.add_response(
        "start_experiment",
        {"experiment": {"id": "EXP9xyz", "state": {"status": "initiating"}}},
        {"clientToken": ANY, "experimentTemplateId": "EXT1abc"},
    )
    expect_status(stub, "running")


def expect_status(stub: Stubber, status: str) -> None:
    stub.add_response(
        "get_experiment",
        {"experiment": {"id": "EXP9xyz", "state": {"status": status}}},
        {"id": "EXP9xyz"},
    )


def expect_heal(stub: Stubber, stop_error: str | None = None) -> None:
    if stop_error:
        stub.add_client_error(
            "stop_experiment",
            stop_error,
            "experiment already completed",
            expected_params={"id": "EXP9xyz"},
        )
        expect_status(stub, "completed")
    else:
        stub.add_response(
            "stop_experiment",
            {"experiment": {"id": "EXP9xyz", "state": {"status": "stopping"}}},
            {"id": "EXP9xyz"},
        )
        expect_status(stub, "stopped")
    stub.add_response(
        "delete_experiment_template", {"experimentTemplate": {"id": "EXT1abc"}}, {"id": "EXT1abc"}
    )


def test_timeline_partition_creates_starts_stops_and_deletes(fis: Any, tmp_path: Path) -> None:
    client, stub = fis
    expect_template(
        stub, {"resourceArns": ["arn:aws:dynamodb:eu-west-1:123456789012:table/hothot-t"]}, "PT60S"
    )
    expect_heal(stub)
    spec = ChaosSpec.model_validate(
        {
            "faults": [{"at": 0, "for": "300ms", "fault": "partition", "region": "eu-west-1"}],
            "aws": {"role_arn": ROLE},
        }
    )
    regions_asked: list[str] = []
    injectors = build(
        "aws",
        REGIONS,
        aws=spec.aws,
        table="hothot-t",
        fis=lambda region: regions_asked.append(region) or client,
    )
    assert [i.name for i in injectors] == ["aws"]
    with Timeline(expand(spec, 1, REGIONS, 10), injectors, tmp_path) as timeline:
        timeline.start()
        assert timeline.wait(timeout=10)
    assert regions_asked == [
        "eu-west-1",
        "eu-west-1",
    ]  # the experiment runs in the replica's region
    assert json.loads((tmp_path / "faults.state").read_text()) == []
    windows = fault_windows((tmp_path / CHAOS_LOG).read_bytes().splitlines())
    assert [(w["fault"], w["target"]) for w in windows] == [("partition", "eu-west-1<->*")]
    assert windows[0]["heal"] is not None and timeline.errors == []


def test_a_given_table_arn_selects_the_table_and_a_finished_experiment_still_heals(
    fis: Any, tmp_path: Path
) -> None:
    client, stub = fis
    arn = "arn:aws:dynamodb:eu-west-1:999999999999:table/elsewhere"
    expect_template(stub, {"resourceArns": [arn]}, "PT90S")
    injector = AwsFisInjector(ROLE, "hothot-t", REGIONS, table_arn=arn, fis=lambda r: client)
    fault = ChaosSpec.model_validate(
        [{"at": 0, "for": "89.5s", "fault": "partition", "regions": ["eu-west-1", "us-east-1"]}]
    ).faults[0]
    handle = injector.apply(fault, "f1-partition")
    assert handle == {"region": "eu-west-1", "template_id": "EXT1abc", "experiment_id": "EXP9xyz"}
    # the run is SIGKILLed: hothot heal finds the experiment in faults.state
    (tmp_path / "faults.state").write_text(
        json.dumps(
            [
                {
                    "id": "f1-partition",
                    "fault": "partition",
                    "target": "eu-west-1<->us-east-1",
                    "spec": fault.campaign_form(),
                    "applied": [{"injector": "aws", "handle": handle}],
                }
            ]
        )
    )
    expect_heal(stub, stop_error="ValidationException")
    result = heal_report(tmp_path, injectors={"aws": injector})
    assert result.failed == []
    assert result.healed == [
        "f1-partition partition eu-west-1<->us-east-1 via aws (FIS experiment EXP9xyz in eu-west-1)"
    ]
    assert json.loads((tmp_path / "faults.state").read_text()) == []


def test_a_real_stop_failure_is_reported_and_kept(fis: Any, tmp_path: Path) -> None:
    """A stop FIS refuses (missing permission) leaves the experiment running: the run says
    so, and faults.state keeps the experiment for `hothot heal`, which can finish it."""
    client, stub = fis
    expect_template(stub, {"resourceArns": ANY}, "PT60S")
    stub.add_client_error(
        "stop_experiment",
        "AccessDeniedException",
        "no fis:StopExperiment",
        expected_params={"id": "EXP9xyz"},
    )
    stub.add_response(
        "delete_experiment_template", {"experimentTemplate": {"id": "EXT1abc"}}, {"id": "EXT1abc"}
    )
    spec = ChaosSpec.model_validate(
        {
            "faults": [{"at": 0, "for": "300ms", "fault": "partition", "region": "eu-west-1"}],
            "aws": {"role_arn": ROLE},
        }
    )
    injectors = build("aws", REGIONS, aws=spec.aws, table="hothot-t", fis=lambda r: client)
    with Timeline(expand(spec, 1, REGIONS, 10), injectors, tmp_path) as timeline:
        timeline.start()
        assert timeline.wait(timeout=10)
    [error] = timeline.errors
    assert error.startswith("f1-partition: heal failed") and "AccessDeniedException" in error
    [kept] = json.loads((tmp_path / "faults.state").read_text())
    assert kept["id"] == "f1-partition" and kept["fault"] == "partition"
    assert kept["applied"] == [
        {
            "injector": "aws",
            "handle": {"region": "eu-west-1", "template_id": "EXT1abc", "experiment_id": "EXP9xyz"},
        }
    ]
    events = [json.loads(line) for line in (tmp_path / CHAOS_LOG).read_text().splitlines()]
    [heal] = [e for e in events if e["event"] == "heal"]
    assert "AccessDeniedException" in heal["error"]
    expect_heal(stub)  # the permission granted, `hothot heal` stops what the run could not
    result = heal_report(tmp_path, injectors={"aws": injectors[0]})
    assert result.failed == [] and len(result.healed) == 1 and "EXP9xyz" in result.healed[0]
    assert json.loads((tmp_path / "faults.state").read_text()) == []


def test_a_tag_selection_is_refused_before_any_aws_call() -> None:
    """FIS selects every table carrying the tags in the region: replication of tables that
    are not the campaign's would be paused."""
    with pytest.raises(ValidationError, match="selecting the table by tags is refused"):
        ChaosSpec.model_validate({"faults": [], "aws": {"role_arn": ROLE, "tags": {"app": "x"}}})
