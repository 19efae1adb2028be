"""junit.xml: one test case per budget, so CI systems show the release gate natively."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from units import show_duration, show_percent
from verdict.figures import untrusted_truth


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
    budgets = data["budgets"]
    faulty = data.get("fault_failures") or []
    untrusted = untrusted_truth(data)
    failures = sum(not b["passed"] for b in budgets) + bool(faulty) + untrusted
    tests = len(budgets) + bool(faulty) + untrusted
    suite = ET.Element(
        "testsuite",
        name=f"hothot verdict: {data.get('name', '')}",
        tests=str(tests),
        failures=str(failures),
        errors="0",
        time=str(data.get("analysis_s", 0)),
    )
    for b in budgets:
        case = ET.SubElement(suite, "testcase", classname="hothot.budgets", name=b["label"])
        observed, limit = show(b["observed"], b["unit"]), show(b["max"], b["unit"])
        if not b["passed"]:
            message = (
                f"no data for {b['metric']} (fail_on_no_data)"
                if b["no_data"]
                else f"observed {observed} > limit {limit}"
            )
            ET.SubElement(case, "failure", message=message, type="BudgetExceeded").text = message
        else:
            ET.SubElement(case, "system-out").text = f"observed {observed} <= limit {limit}"
    if faulty:  # the run did not test what was asked, or left a fault behind
        case = ET.SubElement(
            suite, "testcase", classname="hothot.chaos", name="faults applied and healed"
        )
        message = "; ".join(fault_failure_text(f) for f in faulty)
        ET.SubElement(case, "failure", message=message, type="FaultFailed").text = message
    if untrusted and data.get("witness_mismatch"):
        w = data["witness"]
        message = (
            f"{w['lost_not_in_log']} of the verdict's {w['lost_updates']} lost updates are on no "
            f"branch the store's conflict log shows discarded (e.g. {w['examples'][:3]})"
        )
        case = ET.SubElement(
            suite, "testcase", classname="hothot.witness", name="conflict log shows every loss"
        )
        ET.SubElement(case, "failure", message=message, type="WitnessMismatch").text = message
    elif untrusted:
        diff = data.get("truth_diff", {})
        ours, theirs = diff.get("verdict", {}), diff.get("truth", {})
        message = (
            f"verdict {ours.get('conflicts')} conflicts / {ours.get('lost_updates')} lost updates,"
            f" emulator {theirs.get('conflicts')} / {theirs.get('lost_updates')}: a bug in hothot"
            " or a table that held other writes"
        )
        case = ET.SubElement(
            suite, "testcase", classname="hothot.truth", name="verdict agrees with the emulator"
        )
        ET.SubElement(case, "failure", message=message, type="TruthMismatch").text = message
    suites = ET.Element("testsuites", tests=str(tests), failures=str(failures))
    suites.append(suite)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)
