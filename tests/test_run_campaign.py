"""`hothot run` end to end on the embedded emulator, as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from tests.run_fixtures import campaign, history_records, hothot, verdict, write_campaign

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def partition_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path, str]:
    """One partitioned campaign shared by the assertions below (runs cost seconds)."""
    tmp = tmp_path_factory.mktemp("partition")
    data = campaign(
        "partition",
        duration="7s",
        chaos=[
            {"at": "2s", "for": "3s", "fault": "partition", "regions": ["us-east-1", "eu-west-1"]}
        ],
        budgets=[
            {"metric": "lost_update_rate", "max": 0, "workload": "home_region"},
            {"metric": "lost_updates", "max": 0},
            {"metric": "divergent_keys", "max": 0},
        ],
    )
    report = tmp / "report"
    proc = hothot("run", str(write_campaign(tmp, data)), "--report-dir", str(report))
    return proc.returncode, report, proc.stdout + proc.stderr


def test_report_directory_is_complete(partition_run: tuple[int, Path, str]) -> None:
    code, report, output = partition_run
    assert code in (0, 1), output
    for name in ("campaign.yaml", "chaos.jsonl", "verdict.json", "junit.xml", "report.html",
                 "truth.json", "faults.state"):  # fmt: skip
        assert (report / name).is_file(), name
    assert json.loads((report / "faults.state").read_text()) == []
    resolved = yaml.safe_load((report / "campaign.yaml").read_text())
    assert resolved["chaos"][0]["fault"] == "partition"
    assert str(report / "report.html") in output.replace("\n", "")


def test_verdict_equals_the_emulators_truth(partition_run: tuple[int, Path, str]) -> None:
    _, report, _ = partition_run
    v = verdict(report)
    assert v["totals"]["writes_ok"] > 50
    assert v["truth"]["conflicts"] == v["totals"]["conflicts"]
    assert v["truth"]["lost_updates"] == v["totals"]["lost_updates"]
    assert not v.get("truth_mismatch")


def test_partition_loses_updates_but_home_region_does_not(
    partition_run: tuple[int, Path, str],
) -> None:
    code, report, _ = partition_run
    v = verdict(report)
    assert v["totals"]["lost_updates"] > 0, "a partition over hot keys must lose updates"
    assert v["workloads"]["home_region"]["lost_updates"] == 0
    assert v["totals"]["divergent_keys"] == 0
    window = next(w for w in v["faults"] if w.get("fault") == "partition")
    assert window["anomalies"]["conflicts"] > 0
    assert code == 1  # lost_updates max 0 is exceeded
    budgets = {b["metric"]: b for b in v["budgets"] if b.get("workload") is None}
    assert budgets["lost_updates"]["passed"] is False
    cases = ET.parse(report / "junit.xml").getroot().iter("testcase")
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    assert any("lost_updates" in name for name in failed)


def test_every_record_once_and_final_reads_of_every_key(
    partition_run: tuple[int, Path, str],
) -> None:
    _, report, _ = partition_run
    records = history_records(report)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids))
    written = {r["key"] for r in records if r["op"] in ("put", "update", "delete")}
    finals = {(r["key"], r["region"]) for r in records if r.get("final")}
    assert {
        (k, region) for k in written for region in ("us-east-1", "us-west-2", "eu-west-1")
    } <= finals
    assert any(r["op"] == "probe" for r in records)


def test_analyze_with_looser_budgets_flips_the_exit_code(
    partition_run: tuple[int, Path, str], tmp_path: Path
) -> None:
    _, report, _ = partition_run
    loose = tmp_path / "budgets.yaml"
    loose.write_text(yaml.safe_dump({"budgets": [{"metric": "lost_update_rate", "max": 1.0}]}))
    proc = hothot("analyze", str(report), "--budgets", str(loose))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert verdict(report)["passed"] is True


def test_invalid_campaign_names_file_line_and_field(tmp_path: Path) -> None:
    data = campaign("bad")
    data["workloads"][1]["keys"] = "many"
    data["chaos"] = [
        {"at": "1s", "for": "2s", "fault": "clock_skew", "region": "mars-1", "offset": "1s"}
    ]
    path = write_campaign(tmp_path, data)
    for command in ("validate", "run"):
        proc = hothot(command, str(path))
        assert proc.returncode == 2
        assert f"{path}:" in proc.stderr and "workloads[1].keys" in proc.stderr, proc.stderr
    assert not (tmp_path / "reports").exists()


def test_unreachable_endpoint_is_named(tmp_path: Path) -> None:
    from tests.run_fixtures import REGIONS

    url = "http://127.0.0.1:9"  # discard port: nothing listens
    data = campaign(
        "unreachable",
        target={"kind": "endpoints", "regions": REGIONS, "table": "hothot-x",
                "endpoints": dict.fromkeys(REGIONS, url)},
    )  # fmt: skip
    proc = hothot("run", str(write_campaign(tmp_path, data)), "--report-dir", str(tmp_path / "r"))
    assert proc.returncode == 2
    assert url in proc.stderr.replace("\n", "")
