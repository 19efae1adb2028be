"""`hothot validate` refuses the release gate's bad input with file:line: field: message and
exit 2: rates, stages, the two load models at once, confidences, budgets that cannot be
judged live, latency budgets on an op no workload issues."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hothot.cli import main
from tests.run_fixtures import campaign, write_campaign

OPEN = {"rate": "50/s", "max_in_flight": 8}


def problems(tmp_path: Path, capsys: pytest.CaptureFixture[str], **fields: Any) -> str:
    path = write_campaign(tmp_path, campaign(**fields))
    assert main(["validate", str(path)]) == 2
    return capsys.readouterr().err


CASES = [
    ({"writers": {"rate": 0}}, "writers.rate", "a rate must be above 0/s"),
    ({"writers": {"rate": -5}}, "writers.rate", "a rate cannot be negative"),
    ({"writers": {"rate": "fast"}}, "writers.rate", "expected a rate like 200/s"),
    ({"writers": {"rate": "1000000/s"}}, "writers.rate", "at most 100000/s per region"),
    ({"writers": {"rate": "50/s", "per_region": 3}}, "writers.rate", "exclude each other"),
    ({"writers": {"stages": [{"for": "2s", "rate": "10/s"}]}}, "writers.stages",
     "the stages last 2s and the campaign 6s"),
    ({"writers": {"stages": [{"for": "5s", "rate": "10/s"}, {"for": "5s", "rate": 0}]}},
     "writers.stages", "the stages last 10s and the campaign 6s"),
    ({"writers": {"stages": [{"for": "6s", "rate": 0}]}}, "writers.stages",
     "every stage's rate is 0/s"),
    ({"writers": OPEN, "budgets": [{"metric": "conflict_rate", "max": 0.1, "confidence": 1}]},
     "budgets[0].confidence", "strictly between 0 and 1"),
    ({"writers": OPEN, "budgets": [{"metric": "conflicts", "max": 1, "confidence": 0.9}]},
     "budgets[0].confidence", "conflicts has no interval"),
    ({"writers": OPEN, "budgets": [{"metric": "lost_update_rate", "max": 0,
                                    "abort_on_fail": True}]},
     "budgets[0].abort_on_fail", "lost_update_rate is only known once the run is over"),
    ({"writers": OPEN, "workloads": [{"kind": "profile", "keys": 10}],
      "budgets": [{"metric": "latency_p99", "max": "50ms", "op": "get"}]},
     "budgets[0].op", "no workload issues get (profile: put)"),
    ({"writers": OPEN, "budgets": [{"metric": "failed_write_rate", "max": 0.1, "op": "put"}]},
     "budgets[0]", "cannot be filtered by op"),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "field", "message"), CASES, ids=[c[1] for c in CASES])
def test_bad_gate_input_names_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fields: dict, field: str, message: str
) -> None:
    err = problems(tmp_path, capsys, **fields)
    path = tmp_path / "campaign.yaml"
    line = next(ln for ln in err.splitlines() if message in ln)
    where, _, rest = line.partition(": ")
    assert where.startswith(f"{path}:") and where.removeprefix(f"{path}:").isdigit(), line
    assert rest.startswith(f"{field}: ") or rest.startswith(f"{field}."), line


def test_a_good_open_model_campaign_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = campaign(
        writers={"rate": "20/s", "stages": [{"for": "2s", "rate": "60/s"}, {"for": "4s",
                 "rate": "60/s"}], "max_in_flight": 16},
        budgets=[{"metric": "failed_write_rate", "max": "1%", "confidence": 0.95,
                  "error": "ReplicatedWriteConflictException", "abort_on_fail": True},
                 {"metric": "latency_p99", "max": "200ms", "op": "update",
                  "workload": "counter"}],
    )  # fmt: skip
    assert main(["validate", str(write_campaign(tmp_path, data))]) == 0, capsys.readouterr().err
