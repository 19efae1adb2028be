"""verdict.json `load`: how hard the run pushed, and whether the target got it.

From `load.json` (written by the runner): per region what the load requested, delivered
(started) and dropped, overall and per workload, with the dropped rate and its interval, and,
for a region that fell short, the bottleneck hothot can see. From the history: the intensity
conflict and lost-update rates scale with, writes per key per second of each workload.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from units import format_duration
from verdict.check import Findings
from verdict.intervals import wilson

#: a load process busier than this share of one core was the bottleneck (Python: one core)
CPU_BUSY = 0.85
#: in-flight operations the rate needs (Little's law) above this share of the cap: latency
LITTLE_SHARE = 0.8


def load_section(
    document: dict[str, Any] | None,
    findings: Findings,
    rows: dict[str, dict[str, Any]],
    key_counts: dict[str, int],
    duration: float,
) -> dict[str, Any]:
    """`rows`: verdict.json's workloads; `key_counts`: the campaign's keys per workload."""
    document = document or {}
    elapsed = float(document.get("elapsed_s") or duration or 0.0)
    run = Run(document, findings, elapsed)
    regions = {
        region: _region(region, figures, run)
        for region, figures in sorted((document.get("regions") or {}).items())
    }
    return {
        "model": document.get("model", "unknown"),
        "rate": document.get("rate"),
        "stages": document.get("stages") or [],
        "users_per_region": document.get("users_per_region"),
        "max_in_flight": document.get("max_in_flight"),
        "elapsed_s": elapsed,
        "complete": document.get("complete", False),
        "aborted": document.get("aborted"),
        "cpu_busy": document.get("cpu_busy") or {},
        "regions": regions,
        "workloads": _workloads(regions, rows, key_counts, elapsed),
    }


def _with_rate(cell: dict[str, Any]) -> dict[str, Any]:
    requested, dropped = cell.get("requested"), int(cell.get("dropped", 0))
    out = dict(cell)
    if requested:
        out["dropped_rate"] = dropped / requested
        out["dropped_rate_ci95"] = wilson(dropped, int(requested))
    return out


@dataclass(frozen=True)
class Run:
    """What a region's bottleneck is judged against: load.json, the findings, the seconds
    the load lasted."""

    document: dict[str, Any]
    findings: Findings
    elapsed: float


def _region(region: str, figures: dict[str, Any], run: Run) -> dict[str, Any]:
    out = _with_rate({k: v for k, v in figures.items() if k != "workloads"})
    out["workloads"] = {w: _with_rate(c) for w, c in sorted(figures["workloads"].items())}
    requested = figures.get("requested")
    short = requested and figures.get("delivered", 0) < requested
    if short or figures.get("dropped"):
        out["bottleneck"] = bottleneck(region, figures, run)
    return out


def bottleneck(region: str, figures: dict[str, Any], run: Run) -> str:
    """What kept the load from starting everything it was asked to, as far as hothot sees:
    a load process's CPU, the target's latency against the in-flight cap (Little's law),
    else the cap itself."""
    document, elapsed = run.document, run.elapsed
    busy = {p: x for p, x in (document.get("cpu_busy") or {}).items() if x >= CPU_BUSY}
    if busy:
        who = ", ".join(f"{p} {x:.0%}" for p, x in sorted(busy.items()))
        return (
            f"client CPU: the load process was busy {who} of the load phase (one Python"
            " process uses one core): add --workers, or use writers.client: fast"
        )
    cap = int(document.get("max_in_flight") or 0)
    rate = float(figures.get("requested") or 0) / elapsed if elapsed else 0.0
    store = run.findings.store
    code = store.regions.ids.get(region)
    latencies = store.latency.select(regions=[code]) if code is not None else []
    if cap and len(latencies) and rate * float(latencies.mean()) >= LITTLE_SHARE * cap:
        mean = float(latencies.mean())
        return (
            f"target latency: operations in {region} took {format_duration(mean)} on average, "
            f"so {rate:.0f}/s needs about {rate * mean:.0f} in flight (Little's law) and "
            f"writers.max_in_flight is {cap}: raise it, or lower the rate"
        )
    late = int(figures.get("late", 0))
    if late:
        return (
            f"the load clock fell behind: {late} arrivals started late (up to "
            f"{format_duration(float(figures.get('max_late_s', 0.0)))}): the load process "
            "could not keep up"
        )
    return (
        f"in-flight cap reached: {figures.get('dropped', 0)} arrivals found all "
        f"{cap} slots busy: raise writers.max_in_flight"
    )


def _workloads(
    regions: dict[str, dict[str, Any]],
    rows: dict[str, dict[str, Any]],
    key_counts: dict[str, int],
    elapsed: float,
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for figures in regions.values():
        for name, cell in figures["workloads"].items():
            into = out.setdefault(name, {"requested": 0, "delivered": 0, "dropped": 0})
            into["delivered"] += int(cell.get("delivered", 0))
            into["dropped"] += int(cell.get("dropped", 0))
            if cell.get("requested") is None:
                into["requested"] = None
            elif into["requested"] is not None:
                into["requested"] += int(cell["requested"])
    for name, row in rows.items():
        writes = row["writes_ok"] + row["writes_unknown"] + row.get("writes_failed", 0)
        keys = key_counts.get(name)
        into = out.setdefault(name, {})
        into["keys"] = keys
        into["writes_per_key_per_s"] = writes / keys / elapsed if keys and elapsed else None
    return {name: _with_rate(cell) for name, cell in sorted(out.items())}
