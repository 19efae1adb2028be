"""Client latency per operation and region, for verdict.json (`latency`) and report.html.

What the writers saw: t_complete − t_invoke of each acknowledged operation of the workloads
(nearest-rank percentiles, as every percentile of the verdict), grouped by op (put, update,
delete, get) and the region the client was pinned to.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

import numpy as np

from units import show_duration
from verdict.stats import QUANTILES


def latency_by_op_region(
    op: np.ndarray,
    region: np.ndarray,
    seconds: np.ndarray,
    op_names: Sequence[str],
    region_names: Sequence[str],
) -> dict[str, dict[str, dict[str, float | int]]]:
    """op -> region -> {count, p50, p95, p99, max} in seconds; op codes index `op_names`
    (others are left out), region codes index `region_names`."""
    out: dict[str, dict[str, dict[str, float | int]]] = {}
    valid = (op >= 0) & (op < len(op_names))
    op, region, seconds = op[valid], region[valid], np.maximum(seconds[valid], 0.0)
    if not len(op):
        return out
    order = np.lexsort((seconds, region, op))
    op, region, seconds = op[order], region[order], seconds[order]
    edges = np.flatnonzero(np.r_[True, (op[1:] != op[:-1]) | (region[1:] != region[:-1])])
    for lo, hi in zip(edges.tolist(), [*edges[1:].tolist(), len(op)], strict=True):
        ranked = seconds[lo:hi]
        n = len(ranked)
        figures: dict[str, float | int] = {"count": n}
        for name, q in QUANTILES.items():
            figures[name] = round(float(ranked[max(0, min(n - 1, int(np.ceil(q * n)) - 1))]), 6)
        figures["max"] = round(float(ranked[-1]), 6)
        by_region = out.setdefault(op_names[int(op[lo])], {})
        by_region[region_names[int(region[lo])]] = figures
    return out


def render_latency(latency: dict[str, dict[str, dict[str, Any]]]) -> str:
    """A table: one row per (op, region) with its count and percentiles."""
    if not latency:
        return '<p class="muted">No acknowledged operation to time.</p>'
    head = "".join(
        f"<th>{h}</th>" for h in ("op", "region", "operations", "p50", "p95", "p99", "max")
    )
    rows = []
    for op, regions in sorted(latency.items()):
        for region, f in sorted(regions.items()):
            cells = [escape(op), escape(region), f"{f['count']:,}"]
            cells += [show_duration(f[k]) for k in ("p50", "p95", "p99", "max")]
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
