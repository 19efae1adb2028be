"""The checker's fast path (keys cleared at once by `clean_keys`) against judging every key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from test_verdict_property import plans, simulate
from verdict_fixtures import HistoryBuilder, history_fixture  # noqa: F401

from verdict.check import Checker, Findings
from verdict.graph import VersionStore
from verdict.lost import clean_keys
from verdict.reader import ReadStats, read_history


def store_of(root: Path) -> VersionStore:
    store = VersionStore()
    read_history(root, ReadStats(), store.ingester())
    return store


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
    fast = Checker(store, [], 0.05, examples=1000, fast=True).run()
    general = Checker(store, [], 0.05, examples=1000, fast=False).run()
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
