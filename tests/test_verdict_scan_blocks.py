"""The native scanner (`verdict._scan`) block by block: one scanner over several blocks
numbers names and vids as `verdict.bulk` does, spoils on a repeated write, and every reader
gives the same verdict on odd lines (the per-line contract: test_verdict_scan.py)."""

from __future__ import annotations

import msgspec
import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_verdict_columns import CAMPAIGN, FASTEST, both, reader_of, write_lines
from test_verdict_scan import KEY, NO_TARGET, REGION, VID, WORKLOAD, _scan, scanned_columns
from verdict_fixtures import HistoryBuilder, history_fixture  # noqa: F401

from verdict.bulk import ColumnIngester
from verdict.columns import Irregular, Row
from verdict.cost_campaign import CostAccumulator
from verdict.graph import VersionStore
from verdict.row_columns import Block


class CapturingIngester(ColumnIngester):
    """verdict.bulk's own ingester, keeping the blocks it applies."""

    def __init__(self) -> None:
        super().__init__(VersionStore(), CostAccumulator())
        self.blocks: list[Block] = []

    def apply(self, b: Block) -> None:
        self.blocks.append(b)
        super().apply(b)


small_names = st.sampled_from(["a", "b", "c", "d"])
block_records = st.fixed_dictionaries(
    {"op": st.sampled_from(["put", "update", "delete", "get", "get", "probe"]),
     "region": st.sampled_from(["r1", "r2", "r3", "r4"]),
     "outcome": st.sampled_from(["ok", "ok", "ok", "fail", "unknown"]),
     "t_invoke": st.floats(0, 100), "t_complete": st.floats(0, 100)},
    optional={"workload": st.sampled_from(["profile", "clicks", "", None, "late"]),
              "key": st.sampled_from(["k1", "k2", "k3", "hh#1"]),
              "vid": small_names, "pred": st.one_of(st.none(), small_names),
              "final": st.booleans(), "target": st.sampled_from(["r1", "r5", "r6", ""]),
              "lag": st.floats(0, 1), "value": st.integers(0, 3)},
)  # fmt: skip


def vid_ranks(ingester: ColumnIngester) -> dict[int, int]:
    """verdict.bulk's vid positions -> their numbers 0, 1, ... in first-met order."""
    return {pos: i for i, pos in enumerate(sorted(ingester.s.vids.values()))}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks=st.lists(st.lists(block_records, min_size=1, max_size=12), min_size=1, max_size=4))
def test_blocks_are_numbered_as_verdict_bulk_numbers_them(blocks: list[list[dict]]) -> None:
    """Names in first-seen order per table (regions then a probe's target; non-probe
    workloads; keys; vids then preds), the same columns and vid tables as verdict.bulk,
    a refusal leaving the tables as they were, a repeated write vid spoiling the scan."""
    oracle, scanner = CapturingIngester(), _scan.Scanner()
    for recs in blocks:
        body = b"".join(orjson.dumps(r) + b"\n" for r in recs)
        before = [scanner.count(t) for t in range(4)]
        try:
            took = oracle.ingest(msgspec.json.Decoder(Row).decode_lines(body))
        except Irregular:
            with pytest.raises(_scan.Spoiled):
                scanner.scan(body)
            return
        if not took:
            with pytest.raises(_scan.Refused) as refused:
                scanner.scan(body)
            assert refused.type is _scan.Refused
            assert [scanner.count(t) for t in range(4)] == before
            continue
        got = scanned_columns(scanner.scan(body))  # plain lines: it must take them
        b = oracle.blocks[-1]
        for name in ("op", "outcome", "region", "workload", "key"):
            assert got[name].tolist() == getattr(b, name).tolist(), name
        assert ((got["bits"] & 1) > 0).tolist() == b.final.tolist()
        assert ((got["bits"] & 128) > 0).tolist() == b.harness.tolist()
        assert (got["target"] != NO_TARGET).tolist() == b.probe.tolist()
        assert got["target"][b.probe].tolist() == b.target[b.probe].tolist()
        assert got["line"].tolist()[-1] == len(body)
        for name, ours in (("t_inv", "t_inv"), ("t_comp", "t_comp")):
            want = getattr(b, ours)
            mine = np.where(np.isnan(got[name]), 0.0, got[name]) if name == "t_comp" else got[name]
            assert np.array_equal(mine, want, equal_nan=True), name
        rank = vid_ranks(oracle)
        for name in ("vid", "pred"):
            want = [rank[int(p)] if p >= 0 else -1 for p in getattr(b, name).tolist()]
            assert got[name].tolist() == want, name
        s = oracle.s
        assert scanner.names(REGION) == s.regions.names
        assert scanner.names(WORKLOAD) == s.workloads.names
        assert scanner.names(KEY) == s.keys.names
    oracle.finish()
    assert scanner.names(VID) == list(oracle.s.vid_list)
    vid_write, seen = scanner.vids()
    assert np.frombuffer(vid_write, np.int32).tolist() == list(oracle.s.vid_write)
    assert list(seen) == list(oracle.s.seen)


def test_a_write_repeating_a_recorded_vid_spoils_the_scan() -> None:
    scanner = _scan.Scanner()
    write = b'{"op":"put","region":"r","outcome":"ok","key":"k","vid":"v","t_invoke":1,"t_complete":2}\n'
    scanner.scan(write)
    with pytest.raises(_scan.Spoiled):
        scanner.scan(write)
    with pytest.raises(_scan.Spoiled):
        _scan.Scanner().scan(write + write)


def test_a_probe_workload_is_the_one_a_block_named_or_zero() -> None:
    """A probe's workload is looked up after the block's own rows were interned, never
    interned itself (verdict.bulk._workloads)."""
    scanner = _scan.Scanner()
    body = (
        b'{"op":"probe","region":"r","outcome":"ok","workload":"w2","target":"s","lag":1,'
        b'"t_invoke":1}\n'
        b'{"op":"get","region":"r","outcome":"ok","workload":"w1"}\n'
        b'{"op":"get","region":"r","outcome":"ok","workload":"w2"}\n'
        b'{"op":"probe","region":"r","outcome":"ok","workload":"w3","target":"s","lag":1,'
        b'"t_invoke":1}\n'
    )
    got = scanned_columns(scanner.scan(body))
    assert got["workload"].tolist() == [1, 0, 1, 0]
    assert scanner.names(WORKLOAD) == ["w1", "w2"]
    assert scanner.names(REGION) == ["r", "s"]


# ---------- end to end: the three readers agree on histories with odd lines ----------

ODD_LINES = [
    # a write at time -0 (an integer): msgspec and orjson read 0.0
    b'{"id":"w-r1:900","worker":"w-r1","region":"r1","workload":"profile","key":"profile#1",'
    b'"op":"put","vid":"w-r1:900","pred":"w-r2:2","t_invoke":-0,"t_complete":0.5,'
    b'"outcome":"ok"}\r\n',
    # a failed write whose error holds a number out of range: no reader can decode it
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
    """Odd lines after a regular history: native, columns and records give the same
    verdict.json, and the report names the reader that took it."""
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
    # the native reader takes every one of them: exactly, or the lines the per-line rules keep
    assert reader_of(root) == FASTEST
