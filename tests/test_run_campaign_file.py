"""The campaign file: every shipped campaign validates, errors carry file:line:field, --set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hothot.campaign import CampaignError, load_campaign, resolved_yaml
from hothot.cli import main
from tests.run_fixtures import campaign, write_campaign

CAMPAIGNS = sorted(Path(__file__).parent.parent.joinpath("campaigns").glob("*.yaml"))


@pytest.mark.parametrize("path", CAMPAIGNS, ids=lambda p: p.name)
def test_shipped_campaigns_validate(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err


def test_quickstart_is_designs_example() -> None:
    c = load_campaign(CAMPAIGNS[0].parent / "quickstart.yaml")
    assert [w.kind for w in c.workloads] == [
        "profile", "split_attributes", "counter", "cart", "guarded", "home_region", "client_lww",
    ]  # fmt: skip
    assert c.duration == 45 and c.target.replication.delay == 0.8


def test_errors_name_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "name: x\nduration: 10s\nworkloads:\n  - {kind: profile, keys: 10}\n"
        "  - {kind: counter, keys: -3}\nwriters: {per_region: 2, clinet: fast}\n"
    )
    with pytest.raises(CampaignError) as err:
        load_campaign(path)
    problems = "\n".join(err.value.problems)
    assert f"{path}:5: workloads[1].keys" in problems
    assert f"{path}:6: writers.clinet" in problems


def test_not_yaml_and_bad_durations(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(CampaignError, match=r"bad\.yaml:\d+: not valid YAML"):
        load_campaign(bad)
    data = campaign(duration="ten seconds")
    with pytest.raises(CampaignError, match="duration"):
        load_campaign(write_campaign(tmp_path, data))


def test_set_overrides_and_resolved_copy(tmp_path: Path) -> None:
    path = write_campaign(tmp_path, campaign())
    c = load_campaign(
        path, ["duration=20s", "writers.client=fast", "workloads.0.keys=7", "target.regions=[a, b]"]
    )
    assert c.duration == 20 and c.writers.client == "fast" and c.workloads[0].keys == 7
    assert c.target.regions == ["a", "b"]
    again = tmp_path / "again.yaml"
    again.write_text(resolved_yaml(c))
    assert load_campaign(again).model_dump() == c.model_dump()
    with pytest.raises(CampaignError, match="expected key=value"):
        load_campaign(path, ["duration"])


def test_aws_target_needs_both_guards(tmp_path: Path) -> None:
    target = {"kind": "aws", "regions": ["us-east-1", "us-west-2"], "table": "orders"}
    with pytest.raises(CampaignError, match="allow_real_aws"):
        load_campaign(write_campaign(tmp_path, campaign(target=target)))
    target |= {"allow_real_aws": True}
    with pytest.raises(CampaignError, match="table_guard"):
        load_campaign(write_campaign(tmp_path, campaign(target=target)))


def test_schema_is_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "hothot campaign"
    assert {"target", "writers", "workloads", "chaos", "budgets"} <= set(schema["properties"])
