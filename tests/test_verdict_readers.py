"""The two history readers give the same verdict.json: the native reader (verdict._scan +
verdict.store_builder) against the per-record reader, on generated and hand-made histories,
odd lines included, and each history is read by the reader expected to read it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.verdict_fixtures import (
    FASTEST,
    HistoryBuilder,
    add_extras,
    both,
    extras,
    plans,
    reader_of,
    simulate,
)
from verdict import native_reader
from verdict.analyze import analyze

CAMPAIGN = {
    "name": "readers",
    "duration": "10s",
    "workloads": [{"name": "profile", "kind": "profile"}, {"name": "clicks", "kind": "counter"}],
    "verdict": {"examples": 1000, "staleness_bound": "50ms"},
}


def native(root: Path) -> bool:
    """True when the fastest reader took the whole history (no fallback)."""
    return reader_of(root) == FASTEST


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=plans, extra=extras)
def test_both_readers_give_the_same_verdict(
    tmp_path_factory: Any, plan: list[Any], extra: list[tuple[str, int, int]]
) -> None:
    root = Path(tmp_path_factory.mktemp("cols"))
    h = HistoryBuilder(root, dict(CAMPAIGN))
    simulate(h, plan)
    for i, (key, r, *_rest) in enumerate(plan):  # reads, some stale
        h.read(("r1", "r2", "r3")[r], f"profile#{key}", h.shards[f"w-r{r + 1}"][0]["id"], i)
    add_extras(h, extra)
    h.save()
    assert native(root)
    fast, slow = both(root)
    assert fast == slow


def write_lines(root: Path, shard: str, lines: list[bytes]) -> None:
    path = root / "history" / f"{shard}.jsonl"
    path.write_bytes(path.read_bytes() + b"".join(lines))


@pytest.mark.parametrize(
    ("lines", "reader"),
    [
        ([b'{"id":"x:1","worker":"x","region":"r1","op":"put","key"\n'], FASTEST),  # torn
        ([b"\n", b"   \n"], FASTEST),  # blank lines
        ([b'{"op":"put","region":"r1"}\n'], "records"),  # foreign: names a region, then rejected
        ([b'[1, 2]\n', b'"text"\n', b"17\n"], FASTEST),  # JSON, not records
        ([b'{"end": true, "records": 1}\n'], FASTEST),  # a trailer in mid-shard
        ([b'{"id":"w-r1:900","worker":"w-r1","region":"r1","workload":"profile","key":'
          b'"profile#1","op":"put","pred":null,"t_invoke":9.0,"t_complete":9.1,'
          b'"outcome":"ok"}\n'], FASTEST),  # a write without vid: its id is the vid
        ([b'{"id":"w-r1:901","worker":"w-r1","region":"r1","workload":"profile","key":'
          b'"profile#1","op":"put","vid":"w-r1:1","t_invoke":9.0,"t_complete":9.1,'
          b'"outcome":"ok"}\n'], "records"),  # a duplicate write: read per record
        ([b'{"id":"w-r1:902","worker":"w-r1","region":"r1","workload":"profile","key":'
          b'"profile#1","op":"put","vid":"w-r1:902","t_invoke":true,"t_complete":9.1,'
          b'"outcome":"ok"}\n'], "records"),  # a bool time: the per-record reader adds it
        ([b'{"id":"w-r1:903","worker":"w-r1","region":"r1","workload":"profile","key":'
          b'"profile#1","op":"get","vid":"w-r1:1","t_invoke":9.0,"outcome":"ok"}'
          b'{"id":"w-r1:904","worker":"w-r1","region":"r1","workload":"profile","key":'
          b'"profile#1","op":"get","vid":"w-r1:1","t_invoke":9.0,"outcome":"ok"}\n'], FASTEST),
        ([b'{"id":"w-r1:906","worker":"w-r1","region":"r1","workload":"profile","key":'
          b'"profile#1","op":"get","vid":"w-r1:1","t_invoke":9.0,"outcome":"ok"}'
          b'{"id":"w-r1:907","worker":"w-r1","region":"r1","workload":"profile","key":'
          b'"profile#1","op":"get","vid":"w-r1:1","t_invoke":9.0,"outcome":"ok"}\n',
          b" \n"], FASTEST),  # two objects on a line, a blank line making the count even
        ([b'{"id":"w-r1:908","worker":"w-r1","region":"r1","workload":"profile","k\\u0065y":'
          b'"profile#\\u0031","op":"get","op":"put","vid":"w-r1:908","pred":"w-r1:1",'
          b'"t_invoke":9.0,"t_complete":9.1,"outcome":"ok"}\n'], "records"),  # escapes, a duplicate key
        ([b'{"id":"w-r1:905","worker":"w-r1","region":"r1","workload":"profile","key":'
          b'"profile#2","op":"update","vid":"w-r1:905","attrs":{"a":"w-r1:905"},'
          b'"t_invoke":9.0,"t_complete":9.1,"outcome":"ok"}\n'], FASTEST),  # attribute-level
    ],
)  # fmt: skip
def test_odd_lines_are_read_as_the_per_record_reader_reads_them(
    history: HistoryBuilder, lines: list[bytes], reader: str
) -> None:
    """Each odd line is read as the per-record reader reads it, natively when the scanner can
    (it leaves a torn or foreign line to the per-line rules, an escape or a duplicate write to
    the per-record reader)."""
    h = history
    h.campaign = dict(CAMPAIGN)
    a = h.write("r1", "profile#1", None, 1.0)
    b = h.write("r2", "profile#1", a, 2.0)
    h.write("r3", "profile#1", a, 2.5)
    h.final("profile#1", {"r1": b, "r2": b, "r3": b})
    root = h.save(terminated=False)
    write_lines(root, "w-r1", lines)
    assert reader_of(root) == reader
    fast, slow = both(root)
    assert fast == slow
    assert fast["history"]["skipped_lines"] == slow["history"]["skipped_lines"]


def test_names_met_in_later_blocks_are_learnt(history: HistoryBuilder) -> None:
    """Regions and workloads first named in a later block (and rows without a workload) are
    numbered as the per-record reader numbers them."""
    h = history
    h.campaign = dict(CAMPAIGN)
    a = h.write("r1", "profile#1", None, 1.0)
    b = h.write("r9", "profile#1", a, 2.0, workload="late")
    h.final("profile#1", {"r1": b, "r9": b})
    h.probe("r9", "r10", 3.0, 0.2)
    root = h.save()
    write_lines(root, "w-r9", [
        b'{"id":"w-r9:50","worker":"w-r9","region":"r11","key":"k#2","op":"get",'
        b'"vid":null,"t_invoke":4.0,"t_complete":4.1,"outcome":"ok"}\n'
    ])  # fmt: skip
    assert native(root)
    fast, slow = both(root)
    assert fast == slow
    assert fast["campaign"]["regions"] == ["r1", "r9", "r10", "r11"]


def test_a_key_belongs_to_its_writers_workload_even_when_a_reader_came_first(
    history: HistoryBuilder,
) -> None:
    """A reader workload's get can be the first record naming a key (in its shard, or in a
    shard read earlier): the key's conflicts, lost updates and value check still belong to
    the workload that writes it, in both readers."""
    h = history
    v0 = h.write("b", "profile#1", None, 1.0)
    lose = h.write("b", "profile#1", v0, 2.0)
    win = h.write("c", "profile#1", v0, 2.5)
    h.final("profile#1", {"b": win, "c": win})
    c0 = h.write("b", "counter#1", None, 1.0, op="update", value=1)
    c1 = h.write("c", "counter#1", c0, 2.0, op="update", value=2)
    h.write("b", "counter#1", c0, 2.1, op="update", value=2)
    h.final("counter#1", {"b": c1, "c": c1}, value=2)
    for key, seen in (("counter#1", c0), ("profile#1", v0)):  # shard w-a is read first
        h.read("a", key, seen, 2.2, workload="reader")
    h.campaign = {"name": "t", "workloads": [{"kind": "counter"}, {"kind": "profile"}]}
    root = h.save()
    assert native(root)
    fast, slow = both(root)
    assert fast == slow
    work = fast["workloads"]
    assert (work["profile"]["conflicts"], work["profile"]["lost_updates"]) == (1, 1)
    assert work["counter"]["lost_updates"] == 1
    assert work["counter"]["value_check"]["keys_checked"] == 1
    assert lose in str(fast["examples"])
    assert all(work.get("reader", {}).get(k, 0) == 0 for k in ("conflicts", "lost_updates"))


def test_failed_writes_are_counted_by_the_error_the_target_gave(history: HistoryBuilder) -> None:
    """MRSC's whole point is writes that fail loudly: the verdict says with which error."""
    h = history
    h.campaign = dict(CAMPAIGN)
    v0 = h.write("r1", "profile#1", None, 1.0)
    h.final("profile#1", {"r1": v0})
    for i, error in enumerate(["ReplicatedWriteConflictException"] * 3 + ["Throttled", None]):
        h.write("r2", "profile#1", v0, 2.0 + i, outcome="fail", error=error)
    h.write("r3", "profile#1", v0, 9.0, outcome="fail", error={"code": 7})
    root = h.save()
    assert native(root)
    fast, slow = both(root)
    assert fast == slow
    assert fast["totals"]["failed_by_error"] == {
        "ReplicatedWriteConflictException": 3, "(no error given)": 1, "Throttled": 1,
        "{'code': 7}": 1,
    }  # fmt: skip
    assert fast["workloads"]["profile"]["failed_by_error"] == fast["totals"]["failed_by_error"]


def test_the_native_reader_is_built() -> None:
    """`pip install` builds verdict._scan wherever a C compiler is (CI's machine has gcc); a
    build that silently fell back would keep every figure and lose the speed. Set
    HOTHOT_NATIVE=0 to run the suite as on a machine without a compiler."""
    if os.environ.get("HOTHOT_NATIVE") == "0":
        pytest.skip("HOTHOT_NATIVE=0: the Python readers only")
    assert native_reader.available(), native_reader.unavailable()


def test_without_the_native_reader_the_records_read_and_say_why(
    history: HistoryBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = history
    h.campaign = dict(CAMPAIGN)
    a = h.write("r1", "profile#1", None, 1.0)
    h.write("r2", "profile#1", a, 2.0)
    h.final("profile#1", {"r1": a, "r2": a})
    root = h.save()
    monkeypatch.setenv("HOTHOT_NATIVE", "0")
    data = analyze(root, write=False).data["history"]
    assert (data["reader"], data["reader_refusals"]) == (
        "records", ["native: switched off by HOTHOT_NATIVE=0"])  # fmt: skip
    monkeypatch.delenv("HOTHOT_NATIVE")
    if native_reader.available():
        data = analyze(root, write=False).data["history"]
        assert (data["reader"], data["reader_refusals"]) == ("native", [])


def test_a_refused_history_names_the_line_the_native_reader_refused(
    history: HistoryBuilder,
) -> None:
    """The native scanner leaves an escape-spelt name to the per-record reader, and
    verdict.json says which line made it."""
    if not native_reader.available():
        pytest.skip(native_reader.unavailable())
    h = history
    h.campaign = dict(CAMPAIGN)
    a = h.write("r1", "caf\u00e9#1", None, 1.0)
    h.final("caf\u00e9#1", {"r1": a})
    root = h.save()
    assert reader_of(root) == "native"  # plain UTF-8 is read natively
    write_lines(root, "w-r1", [
        b'{"id":"w-r1:77","worker":"w-r1","region":"r1","workload":"profile","key":'
        b'"caf\\u00e9#1","op":"get","vid":null,"t_invoke":4.0,"outcome":"ok"}\n'
    ])  # fmt: skip
    data = analyze(root, write=False).data["history"]
    assert data["reader"] == "records"
    assert len(data["reader_refusals"]) == 1
    assert data["reader_refusals"] == ["native: w-r1.jsonl:5: an escape in a name"]
    fast, slow = both(root)
    assert fast == slow


attribute_plans = st.lists(
    st.tuples(
        st.integers(0, 2), st.sampled_from(["address", "phone"]), st.integers(0, 2), st.booleans()
    ),  # fmt: skip
    min_size=1,
    max_size=30,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=attribute_plans, failed=st.integers(0, 3))
def test_attribute_level_histories_read_natively_give_the_per_record_verdict(
    tmp_path_factory: Any, plan: list[tuple[int, str, int, bool]], failed: int
) -> None:
    """split_attributes writes name a version per attribute (`attrs`, `attr_preds`) and its
    final reads one per attribute: the native reader numbers and keeps them as the
    per-record reader does."""
    root = Path(tmp_path_factory.mktemp("attrs"))
    h = HistoryBuilder(root, {"name": "attrs", "workloads": [{"kind": "split_attributes"}]})
    regions = ("r1", "r2", "r3")
    latest: dict[tuple[int, str], str | None] = {}
    for i, (key, attr, r, stale) in enumerate(plan):
        k = f"split_attributes#{key}"
        pred = None if stale else latest.get((key, attr))
        v = h.write(regions[r], k, None, 1.0 + i * 0.01, op="update", attrs=[attr],
                    attr_preds={attr: pred})  # fmt: skip
        latest[(key, attr)] = v
        if i % 4 == 1:  # a plain read that saw the attribute versions so far
            seen = {a: latest.get((key, a)) for a in ("address", "phone")}
            h.read(regions[(r + 1) % 3], k, v, 1.005 + i * 0.01, attrs=seen)
    for i in range(failed):
        h.write("r1", "split_attributes#0", None, 5.0 + i, op="update", outcome="fail",
                attrs=["phone"], error="ConditionalCheckFailedException")  # fmt: skip
    for key in sorted({key for key, *_ in plan}):
        versions = {a: latest.get((key, a)) for a in ("address", "phone")}
        newest = max((x for x in versions.values() if x), key=lambda x: int(x.split(":")[1]))
        h.final(f"split_attributes#{key}", dict.fromkeys(regions, newest), attrs=versions)
    h.save()
    assert reader_of(root) == FASTEST
    fast, slow = both(root)
    assert fast == slow
    assert fast["totals"]["writes_ok"] == len(plan)


# ---------- odd lines the scanner's tests found ----------

ODD_LINES = [
    # a write at time -0 (an integer): orjson reads 0, the time 0.0
    b'{"id":"w-r1:900","worker":"w-r1","region":"r1","workload":"profile","key":"profile#1",'
    b'"op":"put","vid":"w-r1:900","pred":"w-r2:2","t_invoke":-0,"t_complete":0.5,'
    b'"outcome":"ok"}\r\n',
    # a failed write whose error holds a number out of range: orjson refuses the line
    b'{"id":"w-r1:901","worker":"w-r1","region":"r1","workload":"profile","key":"profile#1",'
    b'"op":"put","vid":"w-r1:901","t_invoke":3.0,"t_complete":3.1,"outcome":"fail",'
    b'"error":{"after":1e400}}\n',
    # names and values with non-ASCII, escapes in values, unknown nested fields
    b'{"id":"w-r1:902","worker":"w-r1","region":"r1","workload":"profile","key":"profile#\xc3\xa9",'
    b'"op":"put","vid":"w-r1:902","t_invoke":3.0000000000000004,"t_complete":3.12345678901234567,'
    b'"outcome":"unknown","value":"a\\n\\"b\\\\","extra":{"deep":[1,{"x":null}],"n":-0.0},'
    b'"capacity":0,"item_bytes":12}\n',
    # a write without vid: its id names it
    b'{"id":"w-r1:903","worker":"w-r1","region":"r1","workload":"profile","key":"profile#1",'
    b'"op":"update","pred":null,"t_invoke":4,"t_complete":4.5E0,"outcome":"ok"}\n',
    # a torn line, a line with a control character in a string, invalid UTF-8
    b'{"id":"w-r1:904","worker":"w-r1","region":"r1","op":"get","key":"profile#1"\n',
    b'{"id":"w-r1:905","worker":"w-r1","region":"r1","op":"get","key":"a\x01","outcome":"ok"}\n',
    b'{"id":"w-r1:906","worker":"w-r1","region":"r\xff","op":"get","outcome":"ok"}\n',
]


ODD_CASES = [
    *[pytest.param([line], id=f"odd{i}") for i, line in enumerate(ODD_LINES)],
    pytest.param(ODD_LINES, id="all"),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("lines", ODD_CASES)
def test_every_reader_gives_the_same_verdict_on_odd_lines(
    history: HistoryBuilder, lines: list[bytes]
) -> None:
    """Odd lines after a regular history: both readers give the same verdict.json, and the
    native reader takes every one of them (exactly, or the lines the per-line rules keep)."""
    h = history
    h.campaign = dict(CAMPAIGN)
    a = h.write("r1", "profile#1", None, 1.0, value=1)
    b = h.write("r2", "profile#1", a, 2.0)
    h.write("r3", "profile#1", a, 2.5, error=None)
    h.probe("r1", "r2", 2.6, 0.05)
    h.final("profile#1", {"r1": b, "r2": b, "r3": b})
    root = h.save(terminated=False)
    write_lines(root, "w-r1", lines)
    fast, slow = both(root)
    assert fast == slow
    assert reader_of(root) == FASTEST
