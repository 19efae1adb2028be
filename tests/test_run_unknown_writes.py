"""A write that times out can still take effect: its outcome is unknown, and no answer says
what it replaced. When a key's final version descends from such a write, the writes before it
cannot be told lost or kept. The verdict must not count them lost (a false failure of every
lost-update budget); the run is untrusted, exit 2, and the emulator's truth agrees on the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.run_fixtures import campaign, hothot, verdict, write_campaign

pytestmark = pytest.mark.slow


def test_timed_out_writes_that_took_effect_leave_keys_undetermined(tmp_path: Path) -> None:
    """us-east-1 answers after 300 ms for the first second, its writers give up after 150 ms:
    the emulator applies the writes anyway, later writes replace them."""
    data = campaign(
        "timeouts",
        duration="3s",
        writers={"rate": "30/s", "max_in_flight": 16, "client": "fast", "timeout": "150ms"},
        workloads=[{"kind": "profile", "weight": 1, "keys": 40}],
        chaos=[{"at": "0s", "for": "1s", "fault": "region_latency", "region": "us-east-1",
                "latency": "300ms"}],
    )  # fmt: skip
    report = tmp_path / "report"
    proc = hothot("run", str(write_campaign(tmp_path, data)), "--report-dir", str(report))
    v = verdict(report)
    tot = v["totals"]
    assert tot["unknown_resolved"] > 0, tot
    assert tot["undetermined_keys"] > 0, tot
    assert "undetermined_keys" in [r["code"] for r in v["untrusted"]], v["untrusted"]
    assert proc.returncode == 2, proc.stdout + proc.stderr
    # the truth (which knows what every write replaced) agrees on the keys we could judge
    assert v["truth_mismatch"] is False, v.get("truth_diff")
    assert v["truth"]["keys_left_out"] >= tot["undetermined_keys"]
    assert v["truth"]["keys_left_out"] < v["history"]["keys"]  # the rest was compared
