"""Lost updates judged by value for counters and carts, beside the graph's judgement.

The two methods are independent: the graph follows vids, the value check compares the final
count with the sum of counted increments (counters) or looks for counted elements missing
from the final list (carts). They must agree; a disagreement means a recorder, workload or
store bug and is reported with the key. Unresolved unknown writes may have been applied, so
they widen what counts as agreement instead of causing a false alarm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from verdict.graph import DELETE, VersionStore
from verdict.lost import KeyJudgement


@dataclass
class ValueCheck:
    """One key's value-based judgement."""

    kind: str  # counter | cart
    lost_by_value: int  # increments (counter) or elements (cart) missing
    lost_by_graph: int  # the same, summed over the graph's lost writes
    agrees: bool
    detail: dict[str, Any]


def _int(x: Any) -> int:
    return x if isinstance(x, int) and not isinstance(x, bool) else 0


def check_values(store: VersionStore, j: KeyJudgement, kind: str) -> ValueCheck | None:
    """None when the key cannot be judged by value (no final read, divergent, deletes, its
    graph undetermined: no lost write to compare with)."""
    if not j.judged or j.divergent or j.undetermined:
        return None
    if any(store.w_flags[w] & DELETE for w in j.counted):
        return None
    final = store.finals[j.key][0].value
    vals = store.w_value
    if kind == "counter":
        read = _int(final) if final is not None else 0
        expected = sum(_int(vals.get(w)) for w in j.counted)
        by_value = expected - read
        by_graph = sum(_int(vals.get(w)) for w in j.lost)
        maybe = sum(_int(vals.get(w)) for w in j.unresolved)
        agrees = by_graph - maybe <= by_value <= by_graph
        detail = {"final_count": read, "acknowledged_sum": expected, "unknown_sum": maybe}
        return ValueCheck(kind, by_value, by_graph, agrees, detail)
    if kind == "cart":
        read = set(final) if isinstance(final, list) else set()
        expected = {vals[w] for w in j.counted if isinstance(vals.get(w), str)}
        missing = expected - read
        graph = {vals[w] for w in j.lost if isinstance(vals.get(w), str)}
        detail = {
            "missing": sorted(missing)[:10],
            "lost_by_graph_only": sorted(graph - missing)[:10],
            "missing_by_value_only": sorted(missing - graph)[:10],
        }
        return ValueCheck(kind, len(missing), len(graph), missing == graph, detail)
    return None
