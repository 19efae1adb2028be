"""report.html's table of client latency per operation and region: verdict.json `latency`
(`verdict.latency.Latencies.by_op_region`), what the writers saw, t_complete − t_invoke of
each acknowledged operation of the workloads."""

from __future__ import annotations

from html import escape
from typing import Any

from units import show_duration


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
