"""The last line of `hothot run` and `hothot analyze`: the exit code and why, in one sentence.

A release gate that exits 1 must say which budget failed without the reader scrolling back;
a campaign that fails on purpose (the quickstart's strict budgets) says so in its
`description`, which this line repeats.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from units import plural
from verdict.junit import show
from verdict.report_dir import VERDICT_FILE

#: budgets named on the line at most; the rest are counted
SHOWN = 3


def _judged(b: dict[str, Any]) -> str:
    """What failed the budget: the figure, or the upper bound a `confidence` asked for."""
    limit = show(b["max"], b["unit"])
    if b.get("no_data"):
        return "no data"
    if b.get("confidence") is not None:
        upper = b.get("upper_bound")
        bound = "unbounded" if upper is None else show(upper, b["unit"])
        return f"upper bound {bound} @{b['confidence']:.0%} > {limit}"
    return f"{show(b['observed'], b['unit'])} > {limit}"


def _failed_budgets(data: dict[str, Any]) -> str:
    failed = [b for b in data.get("budgets", []) if not b.get("passed", True)]
    named = [f"{b.get('label', b['metric']).split(' <= ')[0]} {_judged(b)}" for b in failed[:SHOWN]]
    more = f" and {len(failed) - SHOWN} more" if len(failed) > SHOWN else ""
    total = len(data.get("budgets", []))
    return f"{len(failed)} of {plural(total, 'budget')} failed: " + ("; ".join(named) + more)


def _untrusted(data: dict[str, Any]) -> str:
    """verdict.trust's reasons (fault failures and a truth mismatch among them)."""
    reasons = [r["message"] for r in data.get("untrusted") or []]
    return "the run cannot be trusted: " + ("; ".join(reasons) or "see above")


def exit_line(code: int, report_dir: Path | None, description: str = "") -> str:
    """`exit N: why.` plus the campaign's own description when it has one."""
    data: dict[str, Any] = {}
    if report_dir is not None and (report_dir / VERDICT_FILE).is_file():
        data = json.loads((report_dir / VERDICT_FILE).read_text(encoding="utf-8"))
    if code == 0:
        n = len(data.get("budgets", []))
        why = f"every budget held ({n} of {n})" if n else "no budget to hold"
    elif code == 1:
        why = _failed_budgets(data) if data else "a budget was exceeded"
    elif code == 130:
        why = "interrupted; the faults were healed and the history kept"
    elif data:
        why = _untrusted(data)
    else:
        why = "the campaign or its target is unusable (see above)"
    line = f"exit {code}: {why}."
    return f"{line} {description.strip()}" if description.strip() else line
