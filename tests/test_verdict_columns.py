"""The columnar reader (`verdict.columns` + `verdict.bulk`) against the per-record reader:
the same verdict.json on generated and hand-made histories, odd lines included."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_verdict_property import plans, simulate
from verdict_fixtures import HistoryBuilder, history_fixture  # noqa: F401

from verdict import scanned
from verdict.analyze import analyze
from verdict.ingest import READERS

CAMPAIGN = {
    "name": "cols",
    "duration": "10s",
    "workloads": [{"name": "profile", "kind": "profile"}, {"name": "clicks", "kind": "counter"}],
    "verdict": {"examples": 1000, "staleness_bound": "50ms"},
}


def both(root: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the default reader's verdict, the per-record reader's), each reader's compared."""
    got = {}
    for reader in READERS:
        data = analyze(root, write=False, reader=reader).data
        data.pop("analysis_s")
        data["history"].pop("reader")
        data["history"].pop("reader_refusals")
        got[reader] = data
    assert got["columns"] == got["records"]
    return got["native"], got["records"]


#: the reader a regular history is read by: the native one wherever it is built
FASTEST = "native" if scanned.available() else "columns"


#: attribute-level versions: read natively, else only per record (the columns refuse them)
NATIVE_OR_RECORDS = "native" if scanned.available() else "records"


def reader_of(root: Path) -> str:
    """The reader that took the whole history (the others refused it)."""
    return analyze(root, write=False).data["history"]["reader"]


def columnar(root: Path) -> bool:
    """True when the fastest reader took the whole history (no fallback)."""
    return reader_of(root) == FASTEST


extras = st.lists(
    st.tuples(
        st.sampled_from(["fail", "cond", "delete", "counter", "get", "harness", "probe"]),
        st.integers(0, 5),
        st.integers(0, 2),
    ),
    max_size=25,
)


def add_extras(h: HistoryBuilder, extra: list[tuple[str, int, int]]) -> None:
    """Records of every other kind: failed writes, deletes, counters with values, plain and
    consistent reads with sizes and capacity, harness keys, probes."""
    regions = ("r1", "r2", "r3")
    for i, (kind, key, r) in enumerate(extra):
        region, t = regions[r], 50.0 + i * 0.01
        if kind == "fail":
            h.write(region, f"profile#{key}", None, t, outcome="fail", error="Throttled")
        elif kind == "cond":
            h.write(region, f"profile#{key}", None, t, outcome="fail",
                    error="ConditionalCheckFailedException", item_bytes=900)  # fmt: skip
        elif kind == "delete":
            h.write(region, f"gone#{key}", None, t, op="delete", workload="profile")
        elif kind == "counter":
            v = h.write(region, f"clicks#{key}", None, t, op="update", value=key + 1,
                        item_bytes=1500, old_bytes=1400, capacity=2.0)  # fmt: skip
            h.final(f"clicks#{key}", {region: v}, value=key + 1)
        elif kind == "get":
            h.read(region, f"profile#{key}", None, t, consistent=bool(key % 2), item_bytes=5000)
        elif kind == "harness":
            h.write(region, f"hh#hb#{key}", None, t, workload="")
        else:
            h.probe(region, regions[(r + 1) % 3], t, 0.001 * (key + 1))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=plans, extra=extras)
def test_columns_and_records_give_the_same_verdict(
    tmp_path_factory: Any, plan: list[Any], extra: list[tuple[str, int, int]]
) -> None:
    root = Path(tmp_path_factory.mktemp("cols"))
    h = HistoryBuilder(root, dict(CAMPAIGN))
    simulate(h, plan)
    for i, (key, r, *_rest) in enumerate(plan):  # reads, some stale
        h.read(("r1", "r2", "r3")[r], f"profile#{key}", h.shards[f"w-r{r + 1}"][0]["id"], i)
    add_extras(h, extra)
    h.save()
    assert columnar(root)
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
          b'"t_invoke":9.0,"t_complete":9.1,"outcome":"ok"}\n'], "columns"),  # escapes, a duplicate key
        ([b'{"id":"w-r1:905","worker":"w-r1","region":"r1","workload":"profile","key":'
          b'"profile#2","op":"update","vid":"w-r1:905","attrs":{"a":"w-r1:905"},'
          b'"t_invoke":9.0,"t_complete":9.1,"outcome":"ok"}\n'], NATIVE_OR_RECORDS),  # attribute-level
    ],
)  # fmt: skip
def test_odd_lines_are_read_as_the_per_record_reader_reads_them(
    history: HistoryBuilder, lines: list[bytes], reader: str
) -> None:
    """Each odd line is read as the per-record reader reads it, by the fastest reader that
    can (the native scanner refuses escapes; the columns refuse what they cannot hold)."""
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
    """The decoder types regions and workloads as the names met so far: a shard naming new
    ones (and rows without a workload) must still be read as the per-record reader reads it."""
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
    assert columnar(root)
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
    assert columnar(root)
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
    assert columnar(root)
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
    assert scanned.available(), scanned.unavailable()


def test_without_the_native_reader_the_columns_read_and_say_why(
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
        "columns", ["native: switched off by HOTHOT_NATIVE=0"])  # fmt: skip
    monkeypatch.delenv("HOTHOT_NATIVE")
    if scanned.available():
        data = analyze(root, write=False).data["history"]
        assert (data["reader"], data["reader_refusals"]) == ("native", [])


def test_a_refused_history_names_the_line_the_native_reader_refused(
    history: HistoryBuilder,
) -> None:
    """The native scanner leaves an escape-spelt name to msgspec; verdict.json says so."""
    if not scanned.available():
        pytest.skip(scanned.unavailable())
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
    assert data["reader"] == "columns"
    assert len(data["reader_refusals"]) == 1
    assert data["reader_refusals"] == ["native: w-r1.jsonl:5: a \\u escape"]
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
    per-record reader does (the msgspec columns refuse them)."""
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
    assert reader_of(root) == NATIVE_OR_RECORDS
    fast, slow = both(root)
    assert fast == slow
    assert fast["totals"]["writes_ok"] == len(plan)
