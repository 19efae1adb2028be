"""End to end on the emulator: every workload's vid/pred chains against `/truth` and the
items read back; a seeded run replays each user's operations."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from globaltable.truth import vid_digest
from tests.globaltable_fixtures import RunningEmulator, launch
from tests.loadgen_fixtures import chain, drive, writes

ALL = ["profile", "split_attributes", "counter", "cart", "guarded", "home_region", "client_lww"]


@pytest.fixture(scope="module")
def fast_emulator() -> Any:
    emu = launch("--replication-delay", "60ms", "--replication-jitter", "50ms")
    yield emu
    emu.stop()


def _config(emu: RunningEmulator, table: str, seed: int, **extra: Any) -> dict[str, Any]:
    return {
        "regions": emu.regions,
        "control": emu.control,
        "table": table,
        "seed": seed,
        "per_region": 2,
        "seconds": 3.0,
        **extra,
    }


@pytest.mark.slow
def test_every_workload_records_chains_that_match_the_truth(
    fast_emulator: RunningEmulator, tmp_path: Path
) -> None:
    workloads = [{"kind": k, "keys": 4, "item_size": "300B"} for k in ALL]
    workloads.append({"kind": "reader", "keys": 1})
    records = drive(_config(fast_emulator, "t-chains", 3, workloads=workloads), tmp_path)
    ops = [r for r in records if not r.get("final") and r["op"] != "probe"]
    assert {r["workload"] for r in ops} == {*ALL, "reader"}
    assert not [r for r in ops if r["outcome"] == "unknown"], "no faults: nothing may be unknown"
    ok = writes(ops)
    assert {r["workload"] for r in ok} == set(ALL)
    for r in ok:  # padded to about 300 B once an item has all its attributes
        slack = 64 if r["workload"] == "split_attributes" else 16  # one attribute missing
        assert r["item_bytes"] >= 300 - slack and r["capacity"] > 0 and "old_bytes" in r, r
        if r["workload"] != "cart":  # a cart grows
            assert r["item_bytes"] <= 300 + 16, r

    truth = fast_emulator.control_client.truth("t-chains")
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in ok:
        by_key[r["key"]].append(r)
    assert truth["totals"]["writes"] == len(ok)
    conflicts = 0
    finals = defaultdict(set)
    for r in records:
        if r.get("final"):
            assert r["outcome"] == "ok" and r["consistent"]
            finals[r["key"]].add((r.get("vid"), repr(r.get("value"))))
    for key, key_writes in by_key.items():
        preds = [r.get("pred") for r in key_writes]
        conflicts += len(preds) - len(set(preds))
        t = truth["keys"][key]
        assert t["writes"] == len(key_writes), key
        assert len(finals[key]) == 1, f"{key} read differently in the regions: {finals[key]}"
        ((final_vid, _),) = finals[key]
        assert t["final"] == final_vid, key
        pred_of = {r["id"]: r.get("pred") for r in key_writes}
        history = chain(final_vid, pred_of)
        assert history[-1] in pred_of and pred_of[history[-1]] is None, f"{key}: broken chain"
        if key_writes[0]["workload"] != "split_attributes":
            lost = sorted(set(pred_of) - set(history))
            named, more = sorted(t["lost"]), t.get("lost_more", 0)  # LOST_LISTED named at most
            assert set(named) <= set(lost) and len(named) + more == len(lost), key
            assert not more or t["lost_digest"] == vid_digest(lost), key
    assert truth["totals"]["conflicts"] == conflicts
    _check_values(records, ok)


def _check_values(records: list[dict[str, Any]], ok: list[dict[str, Any]]) -> None:
    """Counter and cart values read back are exactly what the final version's chain wrote;
    client_lww writes only ever replace an older client timestamp."""
    pred_of = {r["id"]: r.get("pred") for r in ok}
    by_id = {r["id"]: r for r in ok}
    for r in records:
        if not r.get("final") or r.get("vid") is None:
            continue
        history = chain(r["vid"], pred_of)
        if r["workload"] == "counter":
            assert r["value"] == sum(by_id[v]["value"] for v in history)
        if r["workload"] == "cart":
            assert r["value"] == [by_id[v]["value"] for v in reversed(history)]
    for r in ok:
        if r["workload"] == "client_lww" and r.get("pred"):
            assert by_id[r["pred"]]["client_ts"] < r["client_ts"]
        if r["workload"] == "split_attributes":
            ((attr, vid),) = r["attrs"].items()
            before = r["attr_preds"][attr]
            assert vid == r["id"] and (before is None or attr in by_id[before]["attrs"])
        if r["workload"] == "guarded":
            assert r["attempt"] >= 1


@pytest.mark.slow
def test_a_seed_replays_each_users_operations(
    fast_emulator: RunningEmulator, tmp_path: Path
) -> None:
    workloads = [
        {"kind": k, "keys": 50} for k in ALL if k != "guarded"
    ]  # guarded retries on outcomes

    def sequences(table: str, seed: int) -> dict[str, list[tuple[str, str, str]]]:
        config = _config(fast_emulator, table, seed, workloads=workloads, per_region=1, seconds=1.5)
        out: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for r in drive(config, tmp_path):
            if not r.get("final") and r["op"] != "probe":
                out[r["region"]].append((r["workload"], r["key"], r["op"]))
        return out

    first, again = sequences("t-seed-a", 11), sequences("t-seed-b", 11)
    assert set(first) == set(again) == set(fast_emulator.regions)
    for region, ops in first.items():
        n = min(len(ops), len(again[region]))
        assert n > 20, f"{region}: too few operations to compare ({n})"
        assert ops[:n] == again[region][:n], region
        assert len({key for _, key, _ in ops[:n]}) > 5, f"{region}: a degenerate sequence"
