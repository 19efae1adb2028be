"""A history judged in key buckets (verdict.buckets) gives the verdict of the same history
judged in memory, field for field; histories whose records tie buckets together are judged
in memory and say why."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hothot.cli import main as hothot
from tests.verdict_fixtures import HistoryBuilder, add_extras, extras, plans, simulate
from verdict import native_reader
from verdict.analyze import analyze

if not native_reader.available():
    pytest.skip("buckets need the native reader", allow_module_level=True)

CAMPAIGN = {
    "name": "buckets",
    "duration": "10s",
    "workloads": [{"name": "profile", "kind": "profile"}, {"name": "clicks", "kind": "counter"},
                  {"name": "split_attributes", "kind": "split_attributes"}],
    "verdict": {"examples": 3, "staleness_bound": "50ms"},
}  # fmt: skip


def in_memory_and_in_buckets(root: Path, jobs: int = 1) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the verdict judged in memory, the same judged in buckets of ~600 bytes)."""
    whole = analyze(root, write=False).data
    parts = analyze(root, jobs=jobs, bucket_bytes=600).data  # written: verdict.json serialises
    for data in (whole, parts):
        data.pop("analysis_s")
        data.pop("analysis_cpu_s")
    return whole, parts


def same_but_buckets(whole: dict[str, Any], parts: dict[str, Any]) -> None:
    assert whole["history"].pop("buckets") == 1
    assert parts["history"].pop("buckets") > 1, parts["history"]["reader_refusals"]
    assert parts == whole


def lost_update_keys(h: HistoryBuilder, keys: int, stale_reads: bool = False) -> None:
    """`keys` profile keys, one a second, each with one lost update (r2's sibling of r1's
    winning write) and, if asked, a stale read in r2."""
    for k in range(keys):
        key = f"profile#{k}"
        v0 = h.write("r1", key, None, k)
        win = h.write("r1", key, v0, k + 0.5)
        h.write("r2", key, v0, k + 0.501)  # lost
        if stale_reads:
            h.read("r2", key, v0, k + 3)
        h.final(key, {"r1": win, "r2": win})


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(plan=plans, extra=extras, windows=st.lists(st.floats(0, 1), max_size=3),
       truth=st.booleans())  # fmt: skip
def test_buckets_give_the_verdict_of_the_whole(
    tmp_path_factory: Any, plan: list[Any], extra: list[Any], windows: list[float], truth: bool
) -> None:
    root = Path(tmp_path_factory.mktemp("buckets"))
    h = HistoryBuilder(root, dict(CAMPAIGN))
    model = simulate(h, plan)
    first = {}  # each key's first write: reads of it later are stale
    for rec in (r for shard in h.shards.values() for r in shard if r["op"] == "put"):
        first.setdefault(rec["key"], rec["vid"])
    for i, (key, r, *_rest) in enumerate(plan):
        h.read(("r1", "r2", "r3")[r], f"profile#{key}", first[f"profile#{key}"], i * 0.01)
    add_extras(h, extra)
    for n, start in enumerate(windows):
        h.fault(f"f{n}", "partition", "r1<->r2", start, start + 0.2 if n % 2 else None)
    if truth:  # the emulator's truth, for the keys it knows (a mismatch is quoted by key)
        h.truth = {"totals": {"conflicts": model["conflicts"], "lost_updates": model["lost"]},
                   "keys": {f"profile#{k}": {"conflicts": 0, "lost": []} for k in range(3)}}  # fmt: skip
    h.save()
    same_but_buckets(*in_memory_and_in_buckets(root))


def test_buckets_in_parallel_processes(history: HistoryBuilder) -> None:
    h = history
    h.campaign = dict(CAMPAIGN)
    lost_update_keys(h, 40, stale_reads=True)
    h.probe("r1", "r2", 1.0, 0.3)
    h.fault("f1", "partition", "r1<->r2", 10.0, 20.0)
    h.save()
    whole, parts = in_memory_and_in_buckets(h.root, jobs=2)
    same_but_buckets(whole, parts)
    assert whole["totals"]["lost_updates"] == 40


def test_records_tying_buckets_together_are_judged_in_memory(history: HistoryBuilder) -> None:
    """A write whose pred is another key's write: the buckets cannot see each other, so the
    whole history is judged in memory, with the same figures, and verdict.json says why."""
    h = history
    h.campaign = dict(CAMPAIGN)
    first = h.write("r1", "profile#1", None, 1.0)
    for k in range(2, 30):  # every other key names profile#1's write as what it replaced
        v = h.write("r2", f"profile#{k}", first, 2.0 + k)
        h.final(f"profile#{k}", {"r1": v, "r2": v})
    h.final("profile#1", {"r1": first, "r2": first})
    h.save()
    whole, parts = in_memory_and_in_buckets(h.root)
    assert parts["history"]["buckets"] == 1
    assert any("another bucket" in r for r in parts["history"]["reader_refusals"])
    parts["history"]["reader_refusals"] = whole["history"]["reader_refusals"]
    assert parts == whole


def test_analyze_refuses_a_job_count_below_one(history: HistoryBuilder, capsys: Any) -> None:
    history.write("r1", "profile#1", None, 1.0)
    root = history.save()
    assert hothot(["analyze", str(root), "--jobs", "0"]) == 2
    assert "--jobs: at least 1" in capsys.readouterr().err


GEVENT_ANALYZE = """
from gevent import monkey

monkey.patch_all()  # as in `hothot run`, where Locust patches at import
import sys
from pathlib import Path

from verdict.analyze import analyze

print(analyze(Path(sys.argv[1]), jobs=2, bucket_bytes=600).data["totals"]["lost_updates"])
"""


def test_buckets_are_judged_in_a_process_gevent_patched(history: HistoryBuilder) -> None:
    """`hothot run` judges a soak's history in buckets beside gevent's hub: with
    multiprocessing.Pool's helper threads turned into greenlets it hung after two buckets."""
    h = history
    h.campaign = dict(CAMPAIGN)
    lost_update_keys(h, 12)
    h.save()
    done = subprocess.run(
        [sys.executable, "-c", GEVENT_ANALYZE, str(h.root)],
        capture_output=True, text=True, timeout=90, cwd=Path(__file__).resolve().parent.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == "12"
    data = json.loads((h.root / "verdict.json").read_text())
    assert data["history"]["buckets"] > 2  # more buckets than processes at once
