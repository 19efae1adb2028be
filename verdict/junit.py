"""junit.xml: one test case per budget, so CI systems show the release gate natively."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from verdict.history import format_duration


def show(value: float | None, unit: str) -> str:
    """A figure as an SRE reads it: 3.2s, 0.0125, 17."""
    if value is None:
        return "no data"
    if unit == "seconds":
        return format_duration(value)
    if unit == "usd":
        return f"${value:,.2f}"
    if unit == "rate":
        return f"{value:.6g}"
    return f"{value:g}"


def junit_xml(data: dict[str, Any]) -> bytes:
    budgets = data["budgets"]
    failures = sum(not b["passed"] for b in budgets)
    suite = ET.Element(
        "testsuite",
        name=f"hothot verdict: {data.get('name', '')}",
        tests=str(len(budgets)),
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
    suites = ET.Element("testsuites", tests=str(len(budgets)), failures=str(failures))
    suites.append(suite)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)
