"""Runs whose budgets cannot be trusted fail the gate with exit 2 (verdict.trust): a fault the
target refused (the run did not test it), a fault that failed to heal (it may still be
applied), a complete run whose figures disagree with the emulator's ground truth, a partial
history, keys left unjudged, a load that fell short of its rate, writes that mostly failed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from tests.verdict_fixtures import HistoryBuilder
from verdict.analyze import Verdict, analyze
from verdict.history import LATE_HEAL
from verdict.report_dir import JUNIT_FILE


def conflicted(h: HistoryBuilder) -> str:
    """One conflict and one lost update on profile#1, written inside [1, 2]."""
    v0 = h.write("a", "profile#1", None, 0.0)
    lose = h.write("b", "profile#1", v0, 1.2)
    win = h.write("a", "profile#1", v0, 1.3)
    h.final("profile#1", {"a": win, "b": win})
    return lose


def failures_in_junit(root: Path) -> dict[str, str]:
    """Test case name -> the message of its failure or error."""
    tree = ET.parse(root / JUNIT_FILE)
    return {
        case.get("name", ""): bad.get("message", "")
        for case in tree.iter("testcase")
        for bad in [*case.iter("failure"), *case.iter("error")]
    }


def codes(v: Verdict) -> list[str]:
    return [r["code"] for r in v.data["untrusted"]]


TRUSTED = "the run can be trusted"


def test_a_refused_fault_is_no_window_and_fails_the_gate(history: HistoryBuilder) -> None:
    conflicted(history)
    history.fault("f1", "partition", "a<->b", 1.0, 2.0)
    history.chaos.append(
        {"event": "start", "id": "f2", "fault": "clock_skew", "target": "c", "t": 1.1,
         "error": "unknown region c"}
    )  # fmt: skip
    history.chaos.append({"event": "heal", "id": "f2", "t": 1.1})
    v = analyze(history.save())
    windows = [w["id"] for w in v.data["faults"]]
    assert windows == ["f1", "outside"]
    assert v.data["faults"][0]["anomalies"] == {"conflicts": 1, "lost_updates": 1}
    assert v.data["fault_failures"] == [
        {"id": "f2", "fault": "clock_skew", "target": "c", "phase": "apply",
         "error": "unknown region c", "t": 1.1}
    ]  # fmt: skip
    assert v.passed is False and v.exit_code == 2 and codes(v) == ["fault_failed"]
    assert v.data["trusted"] is False
    message = failures_in_junit(history.root)[TRUSTED]
    assert "clock_skew on c was never applied" in message and "unknown region c" in message
    case = next(ET.parse(history.root / JUNIT_FILE).iter("testsuite"))
    assert case.get("errors") == "1" and case.get("failures") == "0"


def test_a_fault_that_failed_to_heal_fails_the_gate(history: HistoryBuilder) -> None:
    conflicted(history)
    history.fault("f1", "partition", "a<->b", 1.0, None)
    history.chaos.append(
        {"event": "heal", "id": "f1", "t": 2.0, "error": "emulator: connection refused"}
    )
    v = analyze(history.save())
    assert [w["id"] for w in v.data["faults"]] == ["f1", "outside"]  # it did act
    assert [f["phase"] for f in v.data["fault_failures"]] == ["heal"]
    assert v.exit_code == 2 and codes(v) == ["fault_failed"]
    assert "hothot heal" in failures_in_junit(history.root)[TRUSTED]


def test_clean_faults_leave_the_gate_to_the_budgets(history: HistoryBuilder) -> None:
    conflicted(history)
    history.fault("f1", "partition", "a<->b", 1.0, 2.0)
    v = analyze(history.save())
    assert v.data["fault_failures"] == []
    assert v.passed is True and v.exit_code == 0  # no budgets: nothing exceeded
    assert failures_in_junit(history.root) == {}


def truth(lost: int) -> dict:
    return {"totals": {"writes": 3, "conflicts": 1, "lost_updates": lost}, "keys": {}}


def test_a_truth_mismatch_fails_a_complete_run(history: HistoryBuilder) -> None:
    conflicted(history)
    history.truth = truth(lost=0)
    v = analyze(history.save())
    assert v.data["truth_mismatch"] is True
    assert v.passed is False and v.exit_code == 2 and codes(v) == ["truth_mismatch"]
    assert "emulator 1 / 0" in failures_in_junit(history.root)[TRUSTED]


def test_a_truth_match_and_a_partial_mismatch_leave_the_gate_to_the_budgets(
    history: HistoryBuilder,
) -> None:
    conflicted(history)
    history.truth = truth(lost=1)
    v = analyze(history.save())
    assert v.data["truth_mismatch"] is False and v.exit_code == 0
    history.truth = truth(lost=0)
    root = history.save(terminated=False)  # a killed run: the emulator may know more
    v = analyze(root, accept_partial=True)
    assert v.data["partial"] is True and v.data["truth_mismatch"] is True
    assert v.passed is True and v.exit_code == 0 and v.data["untrusted"] == []
    assert failures_in_junit(history.root) == {}
    v = analyze(root)  # without --accept-partial the partial history is reason enough
    assert codes(v) == ["partial_history"] and v.exit_code == 2


def test_exit_code_reads_only_the_saved_figures() -> None:
    """`hothot analyze` and `run` exit from verdict.json's content alone."""
    base = {"passed": True, "partial": False, "trusted": True, "untrusted": []}
    assert Verdict(base).exit_code == 0
    assert Verdict({**base, "passed": False}).exit_code == 1
    reason = [{"code": "truth_mismatch", "message": "…"}]
    assert Verdict({**base, "passed": False, "trusted": False, "untrusted": reason}).exit_code == 2


def test_report_and_summary_say_why_the_gate_failed(history: HistoryBuilder) -> None:
    import io

    from rich.console import Console

    from verdict.report_dir import REPORT_FILE
    from verdict.summary import print_summary

    conflicted(history)
    history.chaos.append(
        {"event": "start", "id": "f2", "fault": "clock_skew", "target": "c", "t": 1.1,
         "error": "unknown region c"}
    )  # fmt: skip
    history.chaos.append({"event": "heal", "id": "f2", "t": 1.1})
    root = history.save()
    v = analyze(root)
    page = (root / REPORT_FILE).read_text()
    assert '<div class="banner untrusted">UNTRUSTED' in page and "banner pass" not in page
    assert "<li>clock_skew on c was never applied" in page
    out = io.StringIO()
    print_summary(v, root, Console(file=out, width=200))
    text = out.getvalue()
    assert "UNTRUSTED: clock_skew on c was never applied" in text
    assert text.splitlines()[-1].startswith("UNTRUSTED  report:"), text
    assert "PASSED" not in text


def test_a_late_heal_by_hothot_heal_is_no_failure(history: HistoryBuilder) -> None:
    """A killed run's faults undone afterwards by `hothot heal`: healed, not failed (older
    versions wrote the same note as `error`)."""
    conflicted(history)
    history.fault("f1", "partition", "a<->b", 1.0, None)
    history.chaos.append({"event": "heal", "id": "f1", "t": 9.0, "note": LATE_HEAL})
    history.fault("f2", "partition", "a<->c", 1.0, None)
    history.chaos.append({"event": "heal", "id": "f2", "t": 9.0, "error": LATE_HEAL})
    v = analyze(history.save())
    assert v.data["fault_failures"] == [] and v.exit_code == 0
    assert [w["heal"] for w in v.data["faults"][:2]] == [9.0, 9.0]
