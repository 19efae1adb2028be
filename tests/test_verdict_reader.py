"""Bad and partial input: clear errors naming file and line, torn lines skipped and counted."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.verdict_fixtures import HistoryBuilder
from verdict.analyze import analyze
from verdict.errors import HistoryError


def small(h: HistoryBuilder, *, terminated: bool = True) -> Path:
    v0 = h.write("a", "profile#1", None, 0.0)
    h.final("profile#1", {"a": v0, "b": v0})
    return h.save(terminated=terminated)


def test_missing_history_and_empty_history(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="not a report directory"):
        analyze(tmp_path / "nope")
    (tmp_path / "r").mkdir()
    with pytest.raises(HistoryError, match="no history directory"):
        analyze(tmp_path / "r")
    (tmp_path / "r" / "history").mkdir()
    with pytest.raises(HistoryError, match=r"no history shards \(\*\.jsonl\.zst, \*\.jsonl\)"):
        analyze(tmp_path / "r")
    (tmp_path / "r" / "history" / "w1.jsonl").write_bytes(b"")
    with pytest.raises(HistoryError, match="holds no records"):
        analyze(tmp_path / "r")


def test_a_shard_that_is_not_zstd_is_named(history: HistoryBuilder) -> None:
    small(history)
    (history.root / "history" / "w-z.jsonl.zst").write_bytes(b"not zstd at all\n" * 10)
    with pytest.raises(HistoryError, match=r"w-z\.jsonl\.zst: not zstd-compressed history"):
        analyze(history.root)


def test_unknown_schema_names_file_and_line(history: HistoryBuilder) -> None:
    report = small(history)
    shard = report / "history" / "w-a.jsonl"
    lines = shard.read_bytes().splitlines(keepends=True)
    shard.write_bytes(b'{"schema": "hothot-history/9", "worker": "w-a"}\n' + b"".join(lines[1:]))
    with pytest.raises(
        HistoryError, match=r"w-a\.jsonl:1: unknown history schema 'hothot-history/9'"
    ):
        analyze(report)
    shard.write_bytes(b"".join(lines[1:]))  # no header at all
    with pytest.raises(HistoryError, match=r"w-a\.jsonl:1: not a hothot history shard"):
        analyze(report)


def test_torn_and_foreign_lines_are_skipped_and_counted(history: HistoryBuilder) -> None:
    report = small(history, terminated=False)
    shard = report / "history" / "w-a.jsonl"
    with shard.open("ab") as f:
        f.write(orjson.dumps({"hello": "world"}) + b"\n")  # foreign
        f.write(b"[1, 2]\n")  # not an object
        f.write(b'{"id": "w-a:99", "worker": "w-a", "region": "a", "op": "put", "outc')  # torn
    v = analyze(report).data
    assert v["history"]["skipped_lines"] == 3
    assert any("w-a.jsonl:" in e and "torn" in e for e in v["history"]["skipped_examples"])
    assert any("not a history record" in e for e in v["history"]["skipped_examples"])
    assert v["partial"] is True  # no clean trailer: the run was killed
    assert v["totals"]["writes_ok"] == 1


def test_malformed_records_are_skipped_whole(history: HistoryBuilder) -> None:
    v0 = history.write("a", "profile#1", None, 0.0)
    history.final("profile#1", {"a": v0, "b": v0})
    history.probe("a", "b", 1.0, 0.25)
    report = history.save()
    shard = report / "history" / "w-a.jsonl"
    lines = shard.read_bytes().splitlines(keepends=True)
    common = {
        "region": "a",
        "outcome": "ok",
        "key": "profile#1",
        "t_invoke": 1.0,
        "t_complete": 1.1,
    }
    bad = [
        {**common, "id": "x:1", "op": "put", "t_invoke": "soon"},  # a time that is no number
        {**common, "id": "x:2", "op": "put", "attrs": ["address"]},  # attrs must map names to versions
        {**common, "id": "x:3", "op": "get", "vid": v0, "t_invoke": None},
        {**common, "id": "x:4", "op": "probe", "target": "b", "lag": "slow"},
        {k: v for k, v in common.items() if k != "key"} | {"id": "x:5", "op": "put"},  # no key
    ]  # fmt: skip
    shard.write_bytes(
        b"".join(lines[:-1]) + b"".join(orjson.dumps(r) + b"\n" for r in bad) + lines[-1]
    )
    v = analyze(report).data
    assert v["history"]["skipped_lines"] == 5
    assert v["totals"]["writes_ok"] == 1 and v["totals"]["reads"] == 0
    assert v["lag"]["a->b"]["count"] == 1


def test_partial_flag_from_trailers_campaign_and_argument(history: HistoryBuilder) -> None:
    report = small(history)
    assert analyze(report).data["partial"] is False
    assert analyze(report, partial=True).data["partial"] is True
    (report / "campaign.yaml").write_text("name: t\npartial: true\n")
    assert analyze(report).data["partial"] is True


def test_bad_campaign_and_truth_files(history: HistoryBuilder) -> None:
    report = small(history)
    (report / "truth.json").write_text("{not json")
    with pytest.raises(HistoryError, match=r"truth\.json: not valid JSON"):
        analyze(report)
    (report / "truth.json").unlink()
    (report / "campaign.yaml").write_text("name: [unclosed\n")
    with pytest.raises(HistoryError, match=r"campaign\.yaml: not valid YAML"):
        analyze(report)
    (report / "campaign.yaml").write_text("verdict: {staleness_bound: soon}\n")
    with pytest.raises(HistoryError, match=r"campaign\.yaml: verdict\.staleness_bound: .*duration"):
        analyze(report)
