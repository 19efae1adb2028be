"""Turn the checker's findings into verdict.json's figures (docs/verdict.md, "verdict.json")."""

from __future__ import annotations

from collections import Counter
from typing import Any

from verdict.findings import Findings
from verdict.intervals import wilson

COUNT_FIELDS = ("conflicts", "lost_updates", "skew_inverted", "unknown_resolved")


def _rates(row: dict[str, Any]) -> dict[str, Any]:
    """The rates of a row, each with its 95 % Wilson interval (`<name>_ci95`, null without
    writes): conflicts and lost updates per counted write, refusals per attempted write."""
    counted = row["writes_ok"] + row["unknown_resolved"]
    attempted = row["writes_ok"] + row["writes_unknown"] + row.get("writes_failed", 0)
    for name, part, whole in (
        ("conflict_rate", row["conflicts"], counted),
        ("lost_update_rate", row["lost_updates"], counted),
        ("failed_write_rate", row.get("writes_failed", 0), attempted),
    ):
        row[name] = part / whole if whole else 0.0
        row[f"{name}_ci95"] = wilson(part, whole)
    return row


def workload_rows(f: Findings) -> dict[str, dict[str, Any]]:
    """{workload: totals + rates + per-region breakdown + value check}."""
    s = f.store
    rows: dict[str, dict[str, Any]] = {}
    for (wl, r), counts in sorted(s.counts.items()):
        name, region = s.workloads.names[wl], s.regions.names[r]
        cell = f.cells.get((wl, r))
        cell_counts = {k: getattr(cell, k) if cell else 0 for k in COUNT_FIELDS}
        figures = {
            "writes_ok": counts.writes_ok,
            "writes_unknown": counts.writes_unknown,
            "writes_failed": counts.writes_failed,
            "reads": counts.reads,
            **cell_counts,
        }
        row = rows.setdefault(name, {"regions": {}})
        row["regions"][region] = _rates(dict(figures))
        for k, v in figures.items():
            row[k] = row.get(k, 0) + v
    failed: dict[str, Counter[str]] = {}
    for (wl, r, error), n in s.failed_errors.items():
        name = s.workloads.names[wl]
        failed.setdefault(name, Counter())[error] += n
        cell = rows.get(name, {}).get("regions", {}).get(s.regions.names[r])
        if cell is not None:
            cell.setdefault("failed_by_error", Counter())[error] += n
    for wl, name in enumerate(s.workloads.names):
        if name not in rows:
            continue
        row = rows[name]
        if name in failed:
            row["failed_by_error"] = top_errors(failed[name])
            for cell in row["regions"].values():
                if "failed_by_error" in cell:
                    cell["failed_by_error"] = top_errors(cell["failed_by_error"])
        row["divergent_keys"] = f.divergent.get(wl, 0)
        row["unjudged_keys"] = f.unjudged.get(wl, 0)
        row["undetermined_keys"] = f.undetermined.get(wl, 0)
        if name in f.values:
            row["value_check"] = f.values[name]
        _rates(row)
    return rows


def totals(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    t: Counter[str] = Counter()
    keys = (
        "writes_ok",
        "writes_unknown",
        "writes_failed",
        "reads",
        "divergent_keys",
        "unjudged_keys",
        "undetermined_keys",
        *COUNT_FIELDS,
    )
    errors: Counter[str] = Counter()
    for row in rows.values():
        for k in keys:
            t[k] += row.get(k, 0)
        errors.update(row.get("failed_by_error", {}))
    out = _rates({k: t[k] for k in keys})
    if errors:
        out["failed_by_error"] = top_errors(errors)
    return out


#: distinct error labels listed per workload (the rest are summed as "other")
TOP_ERRORS = 8


def top_errors(errors: Counter[str]) -> dict[str, int]:
    """Most frequent first; beyond TOP_ERRORS labels, the rest summed as `other`."""
    ranked = sorted(errors.items(), key=lambda kv: (-kv[1], kv[0]))
    out = dict(ranked[:TOP_ERRORS])
    rest = sum(n for _, n in ranked[TOP_ERRORS:])
    if rest:
        out["other"] = out.get("other", 0) + rest
    return out


def _minus(a: int | None, b: int) -> int | None:
    return None if a is None else a - b


def truth_check(truth: dict[str, Any] | None, tot: dict[str, Any], f: Findings) -> dict[str, Any]:
    """The emulator's ground truth beside ours; `truth_mismatch` is loud on purpose."""
    if truth is None:
        return {}
    theirs = truth.get("totals", {})
    fig = {
        "conflicts": theirs.get("conflicts"),
        "lost_updates": theirs.get("lost_updates"),
        "writes": theirs.get("writes"),
    }
    # keys the client side cannot judge as the emulator does are compared on neither side:
    # undetermined ones (verdict.lost), and those with a timed-out write nobody saw
    skip = Counter(f.truth_keys.get("skipped") or {})
    mismatch = (
        _minus(fig["conflicts"], skip["conflicts"]) != tot["conflicts"] - skip["our_conflicts"]
        or _minus(fig["lost_updates"], skip["lost_updates"])
        != tot["lost_updates"] - skip["our_lost_updates"]
    )
    out: dict[str, Any] = {"truth": fig, "truth_mismatch": mismatch}
    if skip["keys"]:
        out["truth"]["keys_left_out"] = skip["keys"]
    if mismatch or f.truth_keys.get("differing"):
        out["truth_diff"] = {
            "verdict": {"conflicts": tot["conflicts"], "lost_updates": tot["lost_updates"]},
            "truth": {"conflicts": fig["conflicts"], "lost_updates": fig["lost_updates"]},
            "keys_differing": f.truth_keys.get("differing", 0),
            "examples": f.truth_keys.get("examples", []),
            "unresolved_unknown_writes": tot["writes_unknown"] - tot["unknown_resolved"],
        }
    return out
