"""junit.xml: one test case per budget, so CI systems show the release gate natively."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from units import show_duration, show_percent


def show(value: float | None, unit: str) -> str:
    """A figure as an SRE reads it, one format everywhere: 10.9s, 177ms, 1.25%, 17."""
    if value is None:
        return "no data"
    if unit == "seconds":
        return show_duration(value)
    if unit == "usd":
        return f"${value:,.2f}"
    if unit == "rate":
        return show_percent(value)
    return f"{value:g}"


def fault_failure_text(f: dict[str, Any]) -> str:
    """One failed apply or heal, as the summary, report and junit.xml say it."""
    if f["phase"] == "apply":
        return f"{f['fault']} on {f['target']} was never applied (the target refused: {f['error']})"
    return (
        f"{f['fault']} on {f['target']} failed to heal ({f['error']}): it may still be applied;"
        " run `hothot heal REPORT_DIR`"
    )


def junit_xml(data: dict[str, Any]) -> bytes:
    """One test case per budget, plus "the run can be trusted": an `<error>` (not a failure:
    the gate could not be judged) listing every reason when it cannot (verdict.trust)."""
    budgets = data["budgets"]
    reasons = data.get("untrusted") or []
    failures = sum(not b["passed"] for b in budgets)
    errors, tests = int(bool(reasons)), len(budgets) + 1
    suite = ET.Element(
        "testsuite",
        name=f"hothot verdict: {data.get('name', '')}",
        tests=str(tests),
        failures=str(failures),
        errors=str(errors),
        time=str(data.get("analysis_s", 0)),
    )
    for b in budgets:
        case = ET.SubElement(suite, "testcase", classname="hothot.budgets", name=b["label"])
        observed, limit = budget_figure(b), show(b["max"], b["unit"])
        if not b["passed"]:
            message = (
                f"no data for {b['metric']} (fail_on_no_data)"
                if b["no_data"]
                else f"observed {observed} > limit {limit}"
            )
            ET.SubElement(case, "failure", message=message, type="BudgetExceeded").text = message
        else:
            ET.SubElement(case, "system-out").text = f"observed {observed} <= limit {limit}"
    case = ET.SubElement(suite, "testcase", classname="hothot.trust", name="the run can be trusted")
    if reasons:
        message = "; ".join(r["message"] for r in reasons)
        ET.SubElement(case, "error", message=message, type="Untrusted").text = "\n".join(
            f"{r['code']}: {r['message']}" for r in reasons
        )
    suites = ET.Element("testsuites", tests=str(tests), failures=str(failures), errors=str(errors))
    suites.append(suite)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)


def interval_text(interval: Any, unit: str) -> str:
    """`[0.0123, 0.0168]`; an unbounded side shows as ? (too few samples)."""
    if not interval:
        return ""
    lo, hi = interval

    def bound(v: float | None) -> str:  # a rate's bounds to 3 significant digits
        if v is None:
            return "?"
        return show_percent(v, 3) if unit == "rate" else show(v, unit)

    return f"[{bound(lo)}, {bound(hi)}]"


def budget_name(b: dict[str, Any]) -> str:
    """A budget's label without its `<= max`: the limit has its own column, and a
    confidence's `@90%` shows beside the upper bound in the observed one."""
    return b["label"].split(" <= ")[0]


def budget_figure(b: dict[str, Any]) -> str:
    """The observed figure with its 95 % interval, and the upper bound a `confidence`
    budget is judged on: `0.0142 [0.0123, 0.0168], upper bound 0.0165 @90%`."""
    text = show(b["observed"], b["unit"])
    if b.get("observed_ci95"):
        text += f" {interval_text(b['observed_ci95'], b['unit'])} (95%)"
    if b.get("confidence") is not None and not b.get("no_data"):
        upper = b.get("upper_bound")
        bound = "unbounded (too few samples)" if upper is None else show(upper, b["unit"])
        text += f", upper bound {bound} @{b['confidence']:.0%}"
    return text
