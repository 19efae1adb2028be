"""The conflict-log witness on log lines as pglogical 2.4 writes them (jsonlog), and its
check against the verdict's lost updates."""

from __future__ import annotations

import json
from pathlib import Path

from tests.verdict_fixtures import HistoryBuilder
from verdict.analyze import analyze
from verdict.witness import Witness, read_witness

LOCAL = "existing local tuple {{pk[text]:{pk} hh_vid[text]:{vid} hh_prev[text]:{prev} doc[jsonb]:{{}}}} xid=741,origin=0,timestamp=2026-12-06 08:56:17.212368+00"
REMOTE = 'remote tuple {{pk[text]:{pk} hh_vid[text]:{vid} hh_prev[text]:{prev} doc[jsonb]:{{"x": {{"S": "a b}}"}}}}}} in xact origin=1,timestamp=2026-12-06 08:56:17.210966+00,commit_lsn=0/1554C90'


def entry(
    action: str, resolution: str, local: tuple[str, str, str] | None, remote: tuple[str, str, str]
) -> tuple[str, str]:
    if local is None:
        message = f"CONFLICT: remote {action} on relation public.items replica identity index items_pkey (tuple not found). Resolution: {resolution}."
        detail = REMOTE.format(pk=remote[0], vid=remote[1], prev=remote[2])
    else:
        message = f"CONFLICT: remote {action} on relation public.items (local index items_pkey). Resolution: {resolution}."
        detail = (
            LOCAL.format(pk=local[0], vid=local[1], prev=local[2])
            + "; "
            + REMOTE.format(pk=remote[0], vid=remote[1], prev=remote[2])
        )
    return message, detail


def test_a_concurrent_pair_is_one_conflict_however_many_nodes_log_it() -> None:
    w = Witness()
    # b1 (node 1) and b2 (node 2) both created key b; node 1 keeps b1, node 2 applies b1,
    # node 3 had b1 and keeps it against b2
    w.add(*entry("INSERT", "keep_local", ("b", "b1", "(null)"), ("b", "b2", "(null)")))
    w.add(*entry("INSERT", "apply_remote", ("b", "b2", "(null)"), ("b", "b1", "(null)")))
    w.add(*entry("INSERT", "keep_local", ("b", "b1", "(null)"), ("b", "b2", "(null)")))
    assert (w.entries, len(w.pairs), w.discarded, w.causal) == (3, 1, {"b2"}, 0)


def test_a_sequential_overwrite_from_another_origin_is_causal_not_a_conflict() -> None:
    w = Witness()
    w.add(*entry("UPDATE", "apply_remote", ("a", "v1", "(null)"), ("a", "v2", "v1")))
    assert (w.entries, w.causal, len(w.pairs), w.discarded) == (1, 1, 0, set())


def test_a_causal_overwrite_kept_out_by_a_clock_ahead_is_discarded() -> None:
    """The local row's commit timestamp is ahead (skew): the later write that had seen it
    loses last-update-wins, a conflict the log shows with remote.prev == local.vid."""
    w = Witness()
    w.add(*entry("UPDATE", "keep_local", ("a", "eu:1", "(null)"), ("a", "east:1", "eu:1")))
    assert (w.causal, w.discarded, len(w.pairs)) == (0, {"east:1"}, 1)


def test_an_update_that_found_no_row_discards_the_remote_version() -> None:
    w = Witness()
    w.add(*entry("UPDATE", "skip", None, ("c", "c2", "c1")))
    assert (w.skipped, w.discarded) == (1, {"c2"})


def test_marker_and_heartbeat_rows_and_other_lines_are_ignored() -> None:
    w = Witness()
    w.add(
        *entry(
            "UPDATE",
            "apply_remote",
            ("hh#hb#x", "(null)", "(null)"),
            ("hh#hb#x", "(null)", "(null)"),
        )
    )
    w.add("logical decoding found consistent point at 0/1554820", "")
    assert (w.entries, w.pairs, w.discarded) == (1, set(), set())


def test_read_witness_reads_each_regions_file(tmp_path: Path) -> None:
    folder = tmp_path / "pglogical"
    folder.mkdir()
    message, detail = entry("UPDATE", "keep_local", ("k", "x2", "x0"), ("k", "x1", "x0"))
    line = json.dumps({"error_severity": "LOG", "message": message, "detail": detail})
    (folder / "eu-west-1.conflicts.jsonl").write_text(line + "\nnot json\n")
    (folder / "us-east-1.conflicts.jsonl").write_text("")
    witness = read_witness(tmp_path)
    assert witness is not None
    assert witness.regions == ["eu-west-1", "us-east-1"]
    assert (witness.entries, witness.discarded, witness.unparsed) == (1, {"x1"}, 1)
    assert read_witness(tmp_path / "nothing") is None


def _log(root: Path, region: str, *entries: tuple[str, str]) -> None:
    folder = root / "pglogical"
    folder.mkdir(exist_ok=True)
    lines = [json.dumps({"message": m, "detail": d}) for m, d in entries]
    (folder / f"{region}.conflicts.jsonl").write_text("".join(ln + "\n" for ln in lines))


def test_the_verdict_reports_the_witness_and_its_agreement(history: HistoryBuilder) -> None:
    history.lost_update("p#1", 1.0)  # eu-west-1's sibling of v0 is lost
    root = history.save()
    lost = "w-eu-west-1:3"
    v0, win = "w-us-east-1:1", "w-us-east-1:2"
    _log(root, "us-east-1", entry("UPDATE", "keep_local", ("p#1", win, v0), ("p#1", lost, v0)))
    _log(root, "eu-west-1", entry("UPDATE", "apply_remote", ("p#1", lost, v0), ("p#1", win, v0)))
    verdict = analyze(root)
    w = verdict.data["witness"]
    assert (w["lost_updates"], w["lost_found_discarded"], w["resolved_conflicts"]) == (1, 1, 1)
    assert verdict.data["witness_mismatch"] is False and verdict.exit_code == 0
    assert "conflict log" in (root / "report.html").read_text()


def test_a_lost_update_the_log_does_not_show_fails_the_gate(history: HistoryBuilder) -> None:
    history.lost_update("p#1", 1.0)
    root = history.save()
    _log(root, "us-east-1")  # the log saw nothing
    verdict = analyze(root)
    assert verdict.data["witness_mismatch"] is True
    assert verdict.data["witness"]["examples"] == ["w-eu-west-1:3"]
    assert verdict.exit_code == 2
    junit = (root / "junit.xml").read_text()
    assert 'classname="hothot.trust"' in junit and "witness_mismatch: " in junit
    assert "WITNESS MISMATCH" in (root / "report.html").read_text()


def test_a_lost_write_under_a_discarded_descendant_is_on_a_discarded_branch(
    history: HistoryBuilder,
) -> None:
    """eu-west-1 builds y on x; only y meets the winner and is logged discarded: x went with
    it, which the check finds through the versions each write replaced."""
    v0 = history.write("us-east-1", "p#2", None, 1.0)
    win = history.write("us-east-1", "p#2", v0, 1.5)
    x = history.write("eu-west-1", "p#2", v0, 1.501)
    y = history.write("eu-west-1", "p#2", x, 1.6)
    history.final("p#2", {"us-east-1": win, "eu-west-1": win}, t=200.0)
    root = history.save()
    _log(root, "eu-west-1", entry("UPDATE", "apply_remote", ("p#2", y, x), ("p#2", win, v0)))
    w = analyze(root).data["witness"]
    assert (w["lost_updates"], w["lost_found_discarded"], w["lost_on_discarded_branch"]) == (
        2,
        1,
        2,
    )
