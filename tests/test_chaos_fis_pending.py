"""chaos: no FIS template is left behind when a run dies while an experiment is starting.

FIS can take tens of seconds to run an experiment; until `apply` returns, `faults.state`
holds the fault as `applying` with the region, and healing finds the templates by their
`hothot` tag. FIS calls go through botocore's Stubber, which checks them against the real FIS
model (operation and parameter names, shapes); nothing reaches AWS."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from chaos import ChaosSpec, expand
from chaos.heal import HealError, heal_report
from chaos.injectors import AwsFisInjector, EmulatorInjector, build
from chaos.timeline import AppliedFault, Timeline, write_state
from tests.chaos_fixtures import Emulator
from verdict.history import CHAOS_LOG

ROLE = "arn:aws:iam::123456789012:role/hothot-fis"
REGIONS = ["us-east-1", "eu-west-1"]
FAULT = {"at": 0, "for": "5s", "fault": "partition", "region": "eu-west-1"}
FID = "f1-partition"
WHEN = datetime(2026, 1, 1)


def schedule(fault: dict[str, Any] = FAULT) -> Any:
    spec = ChaosSpec.model_validate({"faults": [fault], "aws": {"role_arn": ROLE}})
    return spec, expand(spec, 1, REGIONS, 60)


def template(template_id: str, fault_id: str | None) -> dict[str, Any]:
    tags = {"hothot": fault_id} if fault_id else {"team": "other"}
    return {"id": template_id, "description": "x", "creationTime": WHEN, "tags": tags}


def expect_tag_search(stub: Stubber, experiments: list[dict[str, Any]]) -> None:
    """Two pages of templates (ours on the second, between others), then ours' experiments."""
    stub.add_response(
        "list_experiment_templates",
        {
            "experimentTemplates": [template("EXTother", "f2-partition"), template("EXTx", None)],
            "nextToken": "page2",
        },
        {},
    )
    stub.add_response(
        "list_experiment_templates",
        {"experimentTemplates": [template("EXT1abc", FID), template("EXTold", "f1-partitionX")]},
        {"nextToken": "page2"},
    )
    stub.add_response(
        "list_experiments", {"experiments": experiments}, {"experimentTemplateId": "EXT1abc"}
    )


def experiment(experiment_id: str, status: str) -> dict[str, Any]:
    return {"id": experiment_id, "experimentTemplateId": "EXT1abc", "state": {"status": status}}


def expect_stop_wait_delete(stub: Stubber, wait: bool = True) -> None:
    """StopExperiment, GetExperiment until it has stopped (unless it stopped at once), then
    DeleteExperimentTemplate."""
    exp = {"id": "EXP9xyz"}
    statuses = ["stopping", "stopping", "stopped"] if wait else ["stopped"]
    stub.add_response("stop_experiment", state(exp, statuses[0]), exp)
    for status in statuses[1:]:
        stub.add_response("get_experiment", state(exp, status), exp)
    stub.add_response(
        "delete_experiment_template", {"experimentTemplate": {"id": "EXT1abc"}}, {"id": "EXT1abc"}
    )


def state(exp: dict[str, Any], status: str) -> dict[str, Any]:
    return {"experiment": exp | {"state": {"status": status}}}


def test_stop_during_the_fis_wait_heals_the_started_experiment(
    stubbed_fis: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGINT/SIGTERM while FIS starts the experiment: stop() interrupts the wait and heals
    what the apply left, found by tag; faults.state named the fault all along."""
    client, stub = stubbed_fis
    monkeypatch.setattr(AwsFisInjector, "poll_s", 60.0)  # the apply waits until interrupted
    stub.add_response(
        "create_experiment_template", {"experimentTemplate": {"id": "EXT1abc"}}, ANY_TEMPLATE
    )
    stub.add_response(
        "start_experiment",
        {"experiment": {"id": "EXP9xyz", "state": {"status": "initiating"}}},
        {"clientToken": ANY, "experimentTemplateId": "EXT1abc"},
    )
    expect_tag_search(stub, [experiment("EXPold", "completed"), experiment("EXP9xyz", "running")])
    expect_stop_wait_delete(stub, wait=False)  # a poll would sleep poll_s
    started = threading.Event()
    during: list[Any] = []

    def on_started(**_: Any) -> None:
        during.append(json.loads((tmp_path / "faults.state").read_text()))
        started.set()

    client.meta.events.register("after-call.fis.StartExperiment", on_started)
    spec, faults = schedule()
    injectors = build("aws", REGIONS, aws=spec.aws, table="hothot-t", fis=lambda r: client)
    timeline = Timeline(faults, injectors, tmp_path)
    timeline.start()
    assert started.wait(timeout=10)
    timeline.stop()
    assert during[0][0]["applying"] is True and during[0][0]["id"] == FID
    assert during[0][0]["applied"] == [
        {"injector": "aws", "handle": {"region": "eu-west-1"}, "applying": True}
    ]
    assert json.loads((tmp_path / "faults.state").read_text()) == []
    events = [json.loads(line) for line in (tmp_path / CHAOS_LOG).read_text().splitlines()]
    assert [e["event"] for e in events] == ["start", "heal"]
    assert "interrupted while FIS experiment EXP9xyz" in events[0]["error"]
    assert "error" not in events[1]
    assert timeline.active() == [] and "interrupted" in timeline.errors[0]


ANY_TEMPLATE = {
    key: ANY
    for key in ("clientToken", "description", "stopConditions", "targets", "actions", "roleArn")
} | {"tags": {"hothot": FID}}


def killed_mid_apply(report: Path, injector: Any) -> None:
    """faults.state as the timeline writes it while `injector`'s apply has not returned, as
    a SIGKILL leaves it."""
    _, faults = schedule()
    pending = (injector, injector.pending(faults[0].fault, FID))
    write_state(report, [AppliedFault(faults[0], 1.0, [], pending).state_entry(REGIONS)])


def aws(client: Any) -> AwsFisInjector:
    return AwsFisInjector(ROLE, "hothot-t", REGIONS, fis=lambda r: client)


def test_hothot_heal_finds_the_template_by_tag_stops_and_deletes(
    stubbed_fis: Any, tmp_path: Path
) -> None:
    client, stub = stubbed_fis
    killed_mid_apply(tmp_path, aws(client))
    expect_tag_search(stub, [experiment("EXP9xyz", "initiating")])
    expect_stop_wait_delete(stub)
    result = heal_report(tmp_path, injectors={"aws": aws(client)})
    assert result.failed == []
    assert result.healed == [
        "f1-partition partition eu-west-1<->* via aws (FIS template EXT1abc tagged "
        "hothot=f1-partition in eu-west-1 deleted, experiment EXP9xyz stopped)"
    ]
    assert json.loads((tmp_path / "faults.state").read_text()) == []
    # no start was logged for it, so no heal either: a heal without a start is no window
    assert not (tmp_path / CHAOS_LOG).exists()


def test_templates_of_other_faults_are_never_touched(stubbed_fis: Any, tmp_path: Path) -> None:
    """The run died before CreateExperimentTemplate returned: nothing of this fault's exists,
    and the other faults' templates (a prefix-alike id among them) stay."""
    client, stub = stubbed_fis
    killed_mid_apply(tmp_path, aws(client))
    stub.add_response(
        "list_experiment_templates",
        {"experimentTemplates": [template("EXTother", "f2-partition"), template("EXTx", None)]},
        {},
    )
    result = heal_report(tmp_path, injectors={"aws": aws(client)})
    assert result.failed == []
    assert result.healed == [
        "f1-partition partition eu-west-1<->* via aws: nothing to undo, no FIS template tagged "
        "hothot=f1-partition in eu-west-1 (the apply created none, or it was cleaned up)"
    ]
    assert json.loads((tmp_path / "faults.state").read_text()) == []


def test_a_refused_listing_keeps_the_entry_for_a_retry(stubbed_fis: Any, tmp_path: Path) -> None:
    client, stub = stubbed_fis
    killed_mid_apply(tmp_path, aws(client))
    before = json.loads((tmp_path / "faults.state").read_text())
    stub.add_client_error("list_experiment_templates", "AccessDeniedException", "no", 403)
    result = heal_report(tmp_path, injectors={"aws": aws(client)})
    assert len(result.failed) == 1
    assert "ListExperimentTemplates in eu-west-1 failed" in result.failed[0]
    assert "fis:ListExperimentTemplates" in result.failed[0]
    assert json.loads((tmp_path / "faults.state").read_text()) == before


def test_an_old_state_file_without_applying_still_heals(stubbed_fis: Any, tmp_path: Path) -> None:
    client, stub = stubbed_fis
    _, faults = schedule()
    handle = {"region": "eu-west-1", "template_id": "EXT1abc", "experiment_id": "EXP9xyz"}
    old = {  # the format before `regions`, `t` and `applying`
        "id": FID,
        "fault": "partition",
        "target": "eu-west-1<->*",
        "spec": faults[0].fault.campaign_form(),
        "applied": [{"injector": "aws", "handle": handle}],
    }
    (tmp_path / "faults.state").write_text(json.dumps([old]))
    expect_stop_wait_delete(stub)
    result = heal_report(tmp_path, injectors={"aws": aws(client)})
    assert result.failed == [] and "(FIS experiment EXP9xyz in eu-west-1)" in result.healed[0]
    assert json.loads((tmp_path / "faults.state").read_text()) == []


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        ("region", 'faults.state entry 2 (f1-partition partition): the aws part being applied has '
         'no "region" in its handle'),
        ("id", 'faults.state entry 2 (no id partition): a fault being applied needs its "id"'),
    ],
)  # fmt: skip
def test_an_applying_entry_missing_what_the_search_needs_is_refused(
    tmp_path: Path, drop: str, message: str
) -> None:
    killed_mid_apply(tmp_path, aws(None))
    entry = json.loads((tmp_path / "faults.state").read_text())[0]
    if drop == "region":
        entry["applied"][0]["handle"].pop("region")
    else:
        entry.pop("id")
    healthy = {"id": "f0-client", "fault": "partition", "spec": entry["spec"], "applied": []}
    (tmp_path / "faults.state").write_text(json.dumps([healthy, entry]))
    with pytest.raises(HealError) as caught:
        heal_report(tmp_path)
    assert message in str(caught.value)
    assert len(json.loads((tmp_path / "faults.state").read_text())) == 2  # nothing healed


def test_an_emulator_apply_that_never_returned(clean_emulator: Emulator, tmp_path: Path) -> None:
    """The emulator echoes the label each fault was applied with (`fault id@run token`):
    hothot heal heals exactly the faults of the apply that never returned, never another
    run's, and says there is nothing to undo when the apply created none."""
    emu = clean_emulator
    injector = EmulatorInjector(emu.control_url, REGIONS)
    killed_mid_apply(tmp_path, injector)
    handle = json.loads((tmp_path / "faults.state").read_text())[0]["applied"][0]["handle"]
    assert handle["control"] == emu.control_url and handle["label"].startswith(f"{FID}@")
    body = {"fault": "partition", "regions": ["us-east-1", "eu-west-1"]}
    ours = emu.control.apply(body | {"label": handle["label"]})  # what the apply got done
    another_run = emu.control.apply(body | {"label": f"{FID}@0123456789ab"})
    unlabelled = emu.control.apply(body)
    result = heal_report(tmp_path)
    assert result.failed == [] and f"healed {ours} labelled {handle['label']}" in result.healed[0]
    assert set(emu.control.state()["faults"]) == {another_run, unlabelled}
    assert json.loads((tmp_path / "faults.state").read_text()) == []

    _, faults = schedule()  # an apply that returns labels its faults the same way
    applied = injector.apply(faults[0].fault, FID)
    labels = {emu.control.state()["faults"][fid]["label"] for fid in applied["ids"]}
    assert labels == {handle["label"]}
    for fid in applied["ids"]:
        emu.control.heal(fid)

    killed_mid_apply(tmp_path, injector)  # died before the emulator applied anything
    result = heal_report(tmp_path)
    assert result.failed == [] and "nothing to undo, no fault labelled" in result.healed[0]
    assert set(emu.control.state()["faults"]) == {another_run, unlabelled}
