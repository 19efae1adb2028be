"""client_lww's rejected writes: a write rejected by an item whose write had completed before
it was invoked lost on the client clocks though it was truly later — skew_inverted, in both
history readers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.verdict_fixtures import FASTEST, HistoryBuilder, both, reader_of

KEY = "client_lww#1"


def rejected(h: HistoryBuilder, region: str, blocked_by: str, t: float) -> None:
    h.write(region, KEY, None, t, op="update", outcome="fail",
            error="ConditionalCheckFailedException", blocked_by=blocked_by)  # fmt: skip


def verdict(h: HistoryBuilder) -> dict[str, Any]:
    h.campaign = {"name": "t", "workloads": [{"kind": "client_lww"}]}
    root: Path = h.save()
    assert reader_of(root) == FASTEST
    fast, slow = both(root)
    assert fast == slow
    return fast


def inverted(data: dict[str, Any]) -> int:
    return int(data["workloads"]["client_lww"]["skew_inverted"])


def test_a_rejection_by_a_write_completed_before_it_is_skew_inverted(
    history: HistoryBuilder,
) -> None:
    h = history
    h.fault("f1", "clock_skew", "us-east-1", 0.5, 9.0)
    ahead = h.write("us-east-1", KEY, None, 1.0, op="update")  # done at 1.01
    rejected(h, "eu-west-1", ahead, 2.0)
    h.final(KEY, {"us-east-1": ahead, "eu-west-1": ahead})
    data = verdict(h)
    assert inverted(data) == 1
    regions = data["workloads"]["client_lww"]["regions"]
    assert (regions["eu-west-1"]["skew_inverted"], regions["us-east-1"]["skew_inverted"]) == (1, 0)
    [example] = data["examples"]["skew_inverted"]
    roles = [(w["role"], w["region"]) for w in example["writes"]]
    assert roles == [("rejected", "eu-west-1"), ("winner", "us-east-1")]
    assert example["writes"][1]["vid"] == ahead and example["key"] == KEY
    assert example["faults"] == ["f1"]
    [window] = [w for w in data["faults"] if w["id"] == "f1"]
    assert window["anomalies"]["skew_inverted"] == 1


def test_rejections_by_overlapping_later_unrecorded_or_unknown_writes_are_not_counted(
    history: HistoryBuilder,
) -> None:
    h = history
    slow = h.write("us-east-1", KEY, None, 1.0, op="update", dur=2.0)  # completes at 3.0
    rejected(h, "eu-west-1", slow, 2.0)  # overlapping: not truly later
    later = h.write("us-west-2", KEY, slow, 5.0, op="update")
    rejected(h, "eu-west-1", later, 4.0)  # the blocker was invoked after the rejection
    rejected(h, "eu-west-1", "w-nowhere:1", 6.0)  # no such recorded write
    unsure = h.write("us-west-2", KEY, later, 7.0, op="update", outcome="unknown")
    rejected(h, "eu-west-1", unsure, 8.0)  # timed out: it may have applied after 8.0
    h.final(KEY, {"us-east-1": unsure, "eu-west-1": unsure})
    data = verdict(h)
    assert inverted(data) == 0
    assert not data["examples"].get("skew_inverted")
    assert data["workloads"]["client_lww"]["writes_failed"] == 4
