"""The terminal summary printed at the end of `hothot run` and by `hothot analyze`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from verdict.junit import fault_failure_text, show


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


def _workload_row(name: str, w: dict[str, Any]) -> list[str]:
    lost = f"[red]{w['lost_updates']}[/]" if w["lost_updates"] else "0"
    return [
        name,
        str(w["writes_ok"]),
        f"[yellow]{w['writes_failed']}[/]" if w.get("writes_failed") else "0",
        str(w["writes_unknown"] - w["unknown_resolved"]),
        str(w["conflicts"]),
        f"{w['conflict_rate']:.2%}",
        lost,
        f"{w['lost_update_rate']:.2%}",
        str(w["skew_inverted"]),
        str(w["divergent_keys"]),
    ]


def _budgets(console: Console, data: dict[str, Any]) -> None:
    budgets = Table(title="Budgets", title_justify="left")
    for col in ("budget", "observed", "limit", "result"):
        budgets.add_column(col, justify="left" if col == "budget" else "right")
    for b in data["budgets"]:
        result = "[green]PASS[/]" if b["passed"] else "[bold red]FAIL[/]"
        if b["no_data"]:
            result += " [dim](no data)[/]"
        budgets.add_row(
            b["label"], show(b["observed"], b["unit"]), show(b["max"], b["unit"]), result
        )
    if data["budgets"]:
        _print_unclipped(console, budgets)


def _workloads(console: Console, data: dict[str, Any]) -> None:
    work = Table(title="Workloads", title_justify="left")
    head = (
        "workload", "writes", "failed", "unknown", "confl", "c-rate", "lost", "l-rate", "skew",
        "diverg",
    )  # fmt: skip
    for col in head:
        work.add_column(col, justify="left" if col == "workload" else "right")
    for name, w in sorted(data["workloads"].items()):
        work.add_row(*_workload_row(name or "(none)", w))
    if len(data["workloads"]) > 1:  # the budgets' unfiltered figures, to check them against
        work.add_section()
        work.add_row(*_workload_row("all", data["totals"]))
    _print_unclipped(console, work)


def _figures(data: dict[str, Any]) -> list[str]:
    """One line each: the worst link's lag, stale reads, failed writes, the bill."""
    lines = []
    if data["lag"]:
        worst = max(data["lag"].items(), key=lambda kv: kv[1]["p99"])
        lines.append(
            f"replication lag p99, worst link {worst[0]}: {show(worst[1]['p99'], 'seconds')}"
        )
    stale = data.get("stale_reads") or {}
    reads = {r: v for r, v in (stale.get("regions") or {}).items() if v.get("count")}
    if reads:
        worst = max(reads.items(), key=lambda kv: kv[1].get("p99", 0.0))
        lines.append(
            f"stale reads: {sum(v.get('stale', 0) for v in reads.values())} of "
            f"{sum(v['count'] for v in reads.values())} reads more than "
            f"{show(stale['bound_s'], 'seconds')} stale; worst region {worst[0]}: p99 staleness "
            f"{show(worst[1].get('p99', 0.0), 'seconds')}"
        )
    failed = data["totals"].get("failed_by_error") or {}
    if failed:
        reasons = ", ".join(f"{error} {n}" for error, n in failed.items())
        lines.append(f"failed writes: {data['totals']['writes_failed']} ({escape(reasons)})")
    lines += cost_lines(data)
    return lines


def _alarms(data: dict[str, Any]) -> list[str]:
    """What makes the figures above incomplete or untrustworthy."""
    lines = []
    lost_workers = (data.get("workers") or {}).get("lost") or []
    if lost_workers:
        lines.append(f"[yellow]lost workers[/]: {', '.join(lost_workers)} (see verdict.json)")
    if data.get("truth_mismatch"):
        t = data["truth"]
        lines.append(
            f"[bold red]TRUTH MISMATCH[/]: emulator says conflicts={t['conflicts']} "
            f"lost_updates={t['lost_updates']}; the verdict says conflicts={data['totals']['conflicts']} "
            f"lost_updates={data['totals']['lost_updates']}"
            + ("" if data["partial"] else ": a bug in hothot or a table that held other writes")
        )
    witness = data.get("witness")
    if witness:
        lines.append(
            f"store's witness (conflict log): {witness['resolved_conflicts']} resolved conflicts, "
            f"{witness['discarded_versions']} discarded versions; "
            f"{witness['lost_on_discarded_branch']} of {witness['lost_updates']} lost updates on a "
            f"discarded branch ({witness['lost_found_discarded']} discarded themselves)"
        )
    if data.get("witness_mismatch"):
        lines.append(
            f"[bold red]WITNESS MISMATCH[/]: {witness['lost_not_in_log']} lost updates are on no "
            f"branch the conflict log shows discarded (e.g. {witness['examples'][:3]})"
            + ("" if data["partial"] else ": a bug in hothot or a log that missed entries")
        )
    for failure in data.get("fault_failures") or []:
        lines.append(f"[bold red]FAULT FAILED[/]: {fault_failure_text(failure)}")
    if data["partial"]:
        lines.append("[yellow]partial history[/]: the run did not end cleanly")
    return lines


def print_summary(verdict: Any, report_dir: Path, console: Console | None = None) -> None:
    """Budgets first (the gate), then per-workload figures, then where the report is.
    `verdict` is a `verdict.analyze.Verdict` (or anything with its `data`)."""
    data: dict[str, Any] = verdict.data
    console = console or Console()
    _budgets(console, data)
    _workloads(console, data)
    for line in _figures(data) + _alarms(data):
        # off a terminal a line stays whole (log scrapers); on one it wraps to the screen
        console.print(line, soft_wrap=not console.is_terminal)
    verdict_line = "[bold green]PASSED[/]" if data["passed"] else "[bold red]FAILED[/]"
    # soft_wrap: the path stays on one line, whole, for copy-paste (and for log scrapers)
    console.print(f"{verdict_line}  report: {Path(report_dir) / 'report.html'}", soft_wrap=True)


def cost_lines(data: dict[str, Any]) -> list[str]:
    """The projection's one-line answer, and the line saying transfer is not priced."""
    cost = data.get("cost") or {}
    lines = [f"cost: {cost['answer']}"] if cost.get("answer") else []
    if cost.get("transfer_note"):
        lines.append(f"cost: {cost['transfer_note']}")
    return lines
