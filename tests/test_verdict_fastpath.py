"""The checker's fast path (keys cleared at once by `clean_keys`) against judging every key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.verdict_fixtures import HistoryBuilder, plans, simulate
from verdict.check import check
from verdict.findings import Findings
from verdict.graph import VersionStore
from verdict.history import FaultWindow
from verdict.lost import clean_keys
from verdict.record_reader import read_records
from verdict.shards import ReadStats
from verdict.simple_keys import bulk_judge, simple_keys


def store_of(root: Path) -> VersionStore:
    return read_records(root, {}, ReadStats())[0]


def figures(f: Findings) -> dict[str, Any]:
    """Everything a Findings carries into verdict.json, in comparable form."""
    return {
        "cells": f.cells,
        "divergent": f.divergent,
        "unjudged": f.unjudged,
        "values": f.values,
        "attribution": f.attribution.as_json(),
        "examples": f.examples,
        "timeline": f.timeline,
        "stale": (f.stale.by_region, f.stale.stale, f.stale.beyond),
        "lag": f.lag,
        "convergence": f.convergence,
        "truth_keys": f.truth_keys,
    }


def both_paths(store: VersionStore) -> tuple[dict[str, Any], dict[str, Any]]:
    fast = check(store, [], 0.05, examples=1000, fast=True)
    general = check(store, [], 0.05, examples=1000, fast=False)
    return figures(fast), figures(general)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=plans)
def test_fast_and_general_paths_agree_on_model_histories(
    tmp_path_factory: Any, plan: list[Any]
) -> None:
    root = Path(tmp_path_factory.mktemp("fast"))
    h = HistoryBuilder(root)
    simulate(h, plan)
    for i, (key, r, *_rest) in enumerate(plan):  # reads, some of them stale
        h.read(("r1", "r2", "r3")[r], f"profile#{key}", h.shards[f"w-r{r + 1}"][0]["id"], i)
    store = store_of(h.save())
    fast, general = both_paths(store)
    assert fast == general


def test_clean_keys_clears_exactly_the_keys_with_nothing_to_report(
    history: HistoryBuilder,
) -> None:
    h = history
    a1 = h.write("us", "p#chain", None, 1.0)  # 0: a plain chain
    a2 = h.write("eu", "p#chain", a1, 2.0)
    h.final("p#chain", {"us": a2, "eu": a2})
    b1 = h.write("us", "p#conflict", None, 1.0)  # 1: two writes replaced b1
    b2 = h.write("us", "p#conflict", b1, 2.0)
    h.write("eu", "p#conflict", b1, 2.0)
    h.final("p#conflict", {"us": b2, "eu": b2})
    c1 = h.write("us", "p#diverged", None, 1.0)  # 2: regions disagree
    c2 = h.write("us", "p#diverged", c1, 2.0)
    h.final("p#diverged", {"us": c2, "eu": c1})
    d1 = h.write("us", "p#unknown", None, 1.0, outcome="unknown")  # 3: an unknown outcome
    h.final("p#unknown", {"us": d1, "eu": d1})
    h.write("us", "p#unread", None, 1.0)  # 4: no final read
    f1 = h.write("us", "p#stale-final", None, 1.0)  # 5: the final read is not the newest
    h.write("us", "p#stale-final", f1, 2.0)
    h.final("p#stale-final", {"us": f1, "eu": f1})
    g2 = h.write("us", "p#backwards", None, 5.0)  # 6: a pred invoked later (bad clocks)
    g1 = h.write("us", "p#backwards", g2, 1.0)
    h.final("p#backwards", {"us": g1, "eu": g1})
    h.write("us", "p#two-chains", "unrecorded:1", 1.0)  # 7: a second chain, lost
    e2 = h.write("us", "p#two-chains", None, 2.0)
    h.final("p#two-chains", {"us": e2, "eu": e2})
    store = store_of(h.save())
    assert clean_keys(store).tolist() == [True] + [False] * 7
    fast, general = both_paths(store)
    assert fast == general


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    plan=plans,
    limit=st.integers(1, 4),
    cuts=st.lists(st.floats(0, 3), max_size=4),
    probes=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.floats(0, 3),
                              st.floats(0, 2)), max_size=6),
)  # fmt: skip
def test_keys_counted_in_bulk_give_the_per_key_figures(
    tmp_path_factory: Any, plan: list[Any], limit: int, cuts: list[float], probes: list[Any]
) -> None:
    """Few quoted examples, so most keys with anomalies are counted by `bulk_judge`; fault
    windows, so its attribution is compared too; probes, which date lost updates' exposure."""
    root = Path(tmp_path_factory.mktemp("bulk"))
    h = HistoryBuilder(root)
    simulate(h, plan)
    regions = ("r1", "r2", "r3")
    for a, b, t, lag in probes:
        if a != b:
            h.probe(regions[a], regions[b], t, lag)
    store = store_of(h.save())
    windows = [
        FaultWindow(
            id=f"f{i}",
            fault="partition",
            target="r1",
            params={},
            start=a,
            heal=a + 0.5 if i % 2 else None,
        )  # fmt: skip
        for i, a in enumerate(sorted(cuts))
    ]
    fast = check(store, windows, 0.05, examples=limit, fast=True)
    general = check(store, windows, 0.05, examples=limit, fast=False)
    assert figures(fast) == figures(general)


def test_bulk_judge_counts_conflicts_lost_and_inversions(history: HistoryBuilder) -> None:
    h = history
    for i in range(6):  # six keys alike: a write, then two siblings; the later-invoked is kept
        key = f"p#{i}"
        a = h.write("us", key, None, 10.0 * i)
        h.write("us", key, a, 10.0 * i + 1)  # completes at +1.01: lost, and inverted
        c = h.write("eu", key, a, 10.0 * i + 0.5, dur=0.1)
        h.final(key, {"us": c, "eu": c})
    store = store_of(h.save())
    simple = simple_keys(store, np.arange(6))
    bulk = bulk_judge(store, simple, {}, limit=2)
    assert simple.tolist() == list(range(6))
    assert len(bulk.conflicts) == len(bulk.lost) == 6
    assert bulk.exact.tolist() == [0, 1]  # the two earliest of each kind are quoted
    fast = check(store, [], 0.05, examples=2, fast=True)
    general = check(store, [], 0.05, examples=2, fast=False)
    assert figures(fast) == figures(general)
    assert sum(c.skew_inverted for c in fast.cells.values()) == len(bulk.skew)
