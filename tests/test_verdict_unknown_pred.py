"""A write of unknown outcome (a timeout) that happened records no `pred`: no answer said what
it replaced. The verdict must not read that as "the item was absent" (its ancestors would be
counted lost, its "siblings" conflicts): a key where it could have replaced another recorded
write is undetermined, nothing of it is counted lost, and the run is untrusted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.verdict_fixtures import HistoryBuilder
from verdict.analyze import analyze
from verdict.native_reader import READERS, available

FIGURES = ("conflicts", "lost_updates", "undetermined_keys", "unknown_resolved")


def figures(root: Path, **kw: Any) -> dict[str, Any]:
    data = analyze(root, **kw).data
    return {k: data["totals"][k] for k in FIGURES} | {
        "untrusted": [r["code"] for r in data["untrusted"]],
        "truth_mismatch": data.get("truth_mismatch"),
    }


def test_a_timed_out_final_write_leaves_its_key_undetermined(history: HistoryBuilder) -> None:
    """profile#1: a, then b (on a), then a timeout u that took effect (its real pred is b):
    nothing lost, no conflict; the old reading counted a and b lost and u a's sibling."""
    h = history
    a = h.write("r1", "profile#1", None, 1.0)
    h.write("r1", "profile#1", a, 2.0)
    u = h.timed_out("r2", "profile#1", 3.0)
    h.final("profile#1", {"r1": u, "r2": u})
    # the emulator knows what u replaced: no conflict, nothing lost
    h.truth = {"totals": {"conflicts": 0, "lost_updates": 0},
               "keys": {"profile#1": {"conflicts": 0, "lost": []}}}  # fmt: skip
    root = h.save()
    for reader in READERS:
        got = figures(root, reader=reader)
        assert got == {"conflicts": 0, "lost_updates": 0, "undetermined_keys": 1,
                       "unknown_resolved": 1, "untrusted": ["undetermined_keys"],
                       "truth_mismatch": False}, reader  # fmt: skip
    assert analyze(root).exit_code == 2


def test_keys_a_timed_out_write_cannot_have_confused_are_judged(history: HistoryBuilder) -> None:
    """A timed-out first write every later write descends from replaced nothing recorded and
    has no sibling: its key is judged as usual (here one conflict, one lost update after it),
    and a timeout nobody saw is never counted."""
    h = history
    u = h.timed_out("r2", "profile#1", 1.0)
    a = h.write("r1", "profile#1", u, 2.0)
    h.write("r2", "profile#1", u, 2.001)  # a's sibling, lost
    h.final("profile#1", {"r1": a, "r2": a})
    v = h.write("r1", "profile#2", None, 1.0)
    h.timed_out("r2", "profile#2", 2.0)  # never seen: it may not have happened
    h.final("profile#2", {"r1": v, "r2": v})
    root = h.save()
    for reader in READERS:
        assert figures(root, reader=reader) == {
            "conflicts": 1, "lost_updates": 1, "undetermined_keys": 0, "unknown_resolved": 1,
            "untrusted": [], "truth_mismatch": None,
        }, reader  # fmt: skip


def test_two_timed_out_writes_or_an_unrelated_write_make_a_key_undetermined(
    history: HistoryBuilder,
) -> None:
    h = history
    u1 = h.timed_out("r1", "profile#1", 1.0)
    u2 = h.timed_out("r2", "profile#1", 2.0)
    h.final("profile#1", {"r1": u2, "r2": u2})
    h.read("r1", "profile#1", u1, 1.5)  # u1 was seen too: it happened
    u3 = h.timed_out("r2", "profile#2", 2.0)
    h.read("r2", "profile#2", u3, 2.2)
    h.write("r1", "profile#2", None, 2.5)  # u3's sibling, or not: unknown
    other = h.shards["w-r1"][-1]["vid"]
    h.final("profile#2", {"r1": other, "r2": other})
    root = h.save()
    got = figures(root)
    assert (got["undetermined_keys"], got["lost_updates"], got["conflicts"]) == (2, 0, 0)
    assert u1 and got["untrusted"] == ["undetermined_keys"]


def test_undetermined_keys_judged_in_buckets(history: HistoryBuilder) -> None:
    if not available():
        pytest.skip("buckets need the native reader")
    h = history
    for k in range(30):
        key = f"profile#{k}"
        a = h.write("r1", key, None, k)
        if k % 3 == 0:
            u = h.timed_out("r2", key, k + 0.5)
            h.final(key, {"r1": u, "r2": u})
        else:
            h.final(key, {"r1": a, "r2": a})
    root = h.save()
    whole = analyze(root, write=False).data
    parts = analyze(root, jobs=1, bucket_bytes=600).data
    assert parts["history"]["buckets"] > 1
    assert parts["totals"] == whole["totals"] and whole["totals"]["undetermined_keys"] == 10
