"""The README's main command, whole: `hothot run campaigns/quickstart.yaml` (45 s). Its skew,
partition and slow link must show in the verdict inside their windows (issue 5, "Done when")."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.run_fixtures import hothot, verdict

pytestmark = pytest.mark.slow
QUICKSTART = Path(__file__).resolve().parent.parent / "campaigns" / "quickstart.yaml"


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict, str]:
    report = tmp_path_factory.mktemp("quickstart") / "report"
    # the metrics port is the only change: a fixed port may be taken on a shared machine
    proc = hothot(
        "run", str(QUICKSTART), "--report-dir", str(report), "--set", "observe.metrics_port=0",
        timeout=240,
    )  # fmt: skip
    return proc.returncode, verdict(report), proc.stdout + proc.stderr


def _window(v: dict, fault: str) -> dict:
    return next(w for w in v["faults"] if w.get("fault") == fault)


def test_quickstart_runs_and_gates(quickstart: tuple[int, dict, str]) -> None:
    code, v, output = quickstart
    assert code == 1, output[-3000:]  # the quickstart's budgets are strict on purpose
    assert v["partial"] is False
    assert v["truth"]["conflicts"] == v["totals"]["conflicts"]
    assert v["truth"]["lost_updates"] == v["totals"]["lost_updates"]
    assert v["workloads"]["home_region"]["lost_updates"] == 0
    assert v["totals"]["divergent_keys"] == 0
    assert {b["metric"] for b in v["budgets"] if not b["passed"]} >= {"lost_update_rate"}


def test_skew_inverted_wins_only_while_the_clock_is_skewed(
    quickstart: tuple[int, dict, str],
) -> None:
    _, v, _ = quickstart
    skew = _window(v, "clock_skew")
    outside = next(w for w in v["faults"] if w["id"] == "outside")
    delay = _window(v, "replication_delay")
    assert skew["anomalies"].get("skew_inverted", 0) > 0
    assert outside["anomalies"].get("skew_inverted", 0) == 0
    assert delay["anomalies"].get("skew_inverted", 0) == 0  # a slow link alone inverts nothing


def test_partition_holds_replication_for_its_window(quickstart: tuple[int, dict, str]) -> None:
    _, v, _ = quickstart
    partition = _window(v, "partition")
    length = partition["heal"] - partition["start"]
    assert partition["anomalies"].get("conflicts", 0) > 0
    for link in ("us-east-1->eu-west-1", "eu-west-1->us-east-1"):
        assert v["lag"][link]["max"] >= 0.8 * length, v["lag"][link]
    assert v["lag"]["us-east-1->us-west-2"]["max"] < 0.5 * length


def test_slow_link_shows_its_delay(quickstart: tuple[int, dict, str]) -> None:
    _, v, _ = quickstart
    slow = v["lag"]["us-west-2->us-east-1"]
    assert 2.7 <= slow["max"] <= 3.0 + 0.4 + 1.0  # delay 3s (+ jitter 400ms, + polling)
    assert v["lag"]["us-west-2->eu-west-1"]["max"] < 2.5
