"""The terminal summary printed at the end of `hothot run` and by `hothot analyze`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from units import show_percent
from verdict.junit import budget_figure, budget_name, interval_text, show


def _print_unclipped(console: Console, table: Table) -> None:
    """Off a terminal (CI logs, `| tee`) there is no screen to fit: print the table at its
    natural width instead of clipping workload names to rich's assumed 80 columns."""
    natural = console.measure(table, options=console.options.update_width(10_000)).maximum
    if console.is_terminal or natural <= console.width:
        console.print(table)
        return
    width = console.width
    console.width = natural  # print() itself clamps any wider width to the console's
    try:
        console.print(table)
    finally:
        console.width = width


def _count_rate(n: int, rate: float, style: str = "") -> str:
    """`453 31.1%`: a count and its rate in one narrow column."""
    text = f"{n:,} {show_percent(rate, 3)}"
    return f"[{style}]{text}[/]" if style and n else text


def _workload_row(name: str, w: dict[str, Any]) -> list[str]:
    return [
        name,
        f"{w['writes_ok']:,}",
        f"[yellow]{w['writes_failed']:,}[/]" if w.get("writes_failed") else "0",
        f"{w['writes_unknown'] - w['unknown_resolved']:,}",
        _count_rate(w["conflicts"], w["conflict_rate"]),
        _count_rate(w["lost_updates"], w["lost_update_rate"], "red"),
        f"{w['skew_inverted']:,}",
        f"{w['divergent_keys']:,}",
    ]


def print_summary(verdict: Any, report_dir: Path, console: Console | None = None) -> None:
    """Budgets first (the gate), then per-workload figures and the load, then whether the run
    can be trusted, then where the report is. `verdict` is a `verdict.analyze.Verdict` (or
    anything with its `data`)."""
    data: dict[str, Any] = verdict.data
    console = console or Console()
    if data["budgets"]:
        _print_unclipped(console, _budget_table(data))
    _print_unclipped(console, _workload_table(data))
    for line in [*_rate_lines(data), *_load_lines(data), *_other_lines(data)]:
        console.print(line, soft_wrap=not console.is_terminal)
    if data["partial"]:
        console.print("[yellow]partial history[/]: the run did not end cleanly")
    for reason in data.get("untrusted") or []:
        console.print(f"[bold red]UNTRUSTED[/]: {escape(reason['message'])}", soft_wrap=True)
    if not data.get("trusted", True):
        verdict_line = "[bold red reverse]UNTRUSTED[/]"
    else:
        verdict_line = "[bold green]PASSED[/]" if data["passed"] else "[bold red]FAILED[/]"
    # soft_wrap: the path stays on one line, whole, for copy-paste (and for log scrapers)
    console.print(f"{verdict_line}  report: {Path(report_dir) / 'report.html'}", soft_wrap=True)


def _budget_table(data: dict[str, Any]) -> Table:
    budgets = Table(
        title="Budgets", title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1),
        show_edge=False, pad_edge=False,
    )  # fmt: skip
    for col in ("budget", "observed", "limit", "result"):  # a long label folds, never "…"
        budgets.add_column(
            col, justify="left" if col == "budget" else "right",
            overflow="fold" if col == "budget" else "ellipsis", min_width=len(col),
        )  # fmt: skip
    for b in data["budgets"]:
        result = "[green]PASS[/]" if b["passed"] else "[bold red]FAIL[/]"
        if b["no_data"]:
            result += " [dim](no data)[/]"
        budgets.add_row(escape(budget_name(b)), budget_figure(b), show(b["max"], b["unit"]), result)
    return budgets


def _workload_table(data: dict[str, Any]) -> Table:
    # readable in an 80-column terminal: no vertical rules, one space between columns, counts
    # beside their rates; a count and its rate that do not fit go on two lines (never "…")
    work = Table(
        title="Workloads", title_justify="left", box=box.SIMPLE_HEAD, padding=0,
        show_edge=False, pad_edge=False,
    )  # fmt: skip
    for col in ("workload", "writes", "failed", "unknown", "conflicts", "lost", "skew", "diverg"):
        work.add_column(
            col, justify="left" if col == "workload" else "right",
            no_wrap=col not in ("conflicts", "lost"), min_width=len(col),
        )  # fmt: skip
    for name, w in sorted(data["workloads"].items()):
        work.add_row(*_workload_row(name or "(none)", w))
    if len(data["workloads"]) > 1:  # the budgets' unfiltered figures, to check them against
        work.add_section()
        work.add_row(*_workload_row("all", data["totals"]))
    return work


def _rate_lines(data: dict[str, Any]) -> list[str]:
    """The overall rates with their 95 % intervals: how sure the figures are."""
    tot = data["totals"]
    parts = [
        f"{label} {show_percent(tot[name], 3)} {interval_text(tot[f'{name}_ci95'], 'rate')}"
        for label, name in (("conflicts", "conflict_rate"), ("lost updates", "lost_update_rate"))
        if tot.get(f"{name}_ci95")
    ]
    return [f"rates (95% Wilson intervals): {', '.join(parts)}"] if parts else []


def _load_lines(data: dict[str, Any]) -> list[str]:
    """What the load requested and delivered per region, and how hard each workload's keys
    were written (conflict rates scale with it)."""
    load = data.get("load") or {}
    out = []
    regions = load.get("regions") or {}
    if load.get("model") == "open" and regions:
        parts = [
            f"{r} {f['delivered']:,}/{f['requested']:,}"
            + (f" ({f['dropped']:,} dropped)" if f.get("dropped") else "")
            for r, f in sorted(regions.items())
        ]
        out.append(f"load (open model, delivered/requested): {', '.join(parts)}")
    elif load.get("model") == "closed":
        out.append(
            f"load (closed model, {load.get('users_per_region')} users per region): the "
            "intensity depends on this machine; set writers.rate for a machine-independent gate"
        )
    if load.get("aborted"):
        out.append(f"[bold red]load stopped early[/]: {escape(load['aborted'])}")
    intensity = [
        f"{name} {w['writes_per_key_per_s']:.3g}"
        for name, w in sorted((load.get("workloads") or {}).items())
        if w.get("writes_per_key_per_s") is not None
    ]
    if intensity:
        out.append(f"writes per key per second: {', '.join(intensity)}")
    return out


def _other_lines(data: dict[str, Any]) -> list[str]:
    out = []
    if data["lag"]:
        worst = max(data["lag"].items(), key=lambda kv: kv[1]["p99"])
        out.append(
            f"replication lag p99, worst link {worst[0]}: {show(worst[1]['p99'], 'seconds')}"
        )
    stale = data.get("stale_reads") or {}
    reads = {r: v for r, v in (stale.get("regions") or {}).items() if v.get("count")}
    if reads:
        worst = max(reads.items(), key=lambda kv: kv[1].get("p99", 0.0))
        out.append(
            f"stale reads: {sum(v.get('stale', 0) for v in reads.values())} of "
            f"{sum(v['count'] for v in reads.values())} reads more than "
            f"{show(stale['bound_s'], 'seconds')} stale; worst region {worst[0]}: p99 staleness "
            f"{show(worst[1].get('p99', 0.0), 'seconds')}"
        )
    failed = data["totals"].get("failed_by_error") or {}
    if failed:
        reasons = ", ".join(f"{error} {n}" for error, n in failed.items())
        out.append(f"failed writes: {data['totals']['writes_failed']} ({escape(reasons)})")
    out.extend(cost_lines(data))
    lost_workers = (data.get("workers") or {}).get("lost") or []
    if lost_workers:
        out.append(f"[yellow]lost workers[/]: {', '.join(lost_workers)} (see verdict.json)")
    if data.get("truth_mismatch"):
        t = data["truth"]
        out.append(
            f"[bold red]TRUTH MISMATCH[/]: emulator says conflicts={t['conflicts']} "
            f"lost_updates={t['lost_updates']}; the verdict says conflicts="
            f"{data['totals']['conflicts']} lost_updates={data['totals']['lost_updates']}"
        )
    return out + _witness_lines(data)


def _witness_lines(data: dict[str, Any]) -> list[str]:
    """The store's own account (pglogical's conflict log) beside the verdict's."""
    witness = data.get("witness")
    if not witness:
        return []
    out = [
        f"store's witness (conflict log): {witness['resolved_conflicts']} resolved conflicts, "
        f"{witness['discarded_versions']} discarded versions; "
        f"{witness['lost_on_discarded_branch']} of {witness['lost_updates']} lost updates on a "
        f"discarded branch ({witness['lost_found_discarded']} discarded themselves)"
    ]
    if data.get("witness_mismatch"):
        out.append(
            f"[bold red]WITNESS MISMATCH[/]: {witness['lost_not_in_log']} lost updates are on no "
            f"branch the conflict log shows discarded (e.g. {witness['examples'][:3]})"
        )
    return out


def cost_lines(data: dict[str, Any]) -> list[str]:
    """The projection's one-line answer, and the line saying transfer is not priced."""
    cost = data.get("cost") or {}
    lines = [f"cost: {cost['answer']}"] if cost.get("answer") else []
    if cost.get("transfer_note"):
        lines.append(f"cost: {cost['transfer_note']}")
    return lines
