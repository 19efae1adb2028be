"""The native scanner (`verdict._scan`, filed by `verdict.store_builder`) against its contract:
every line or block it accepts leaves the store and the bill exactly as the per-record reader
(`verdict.record_reader`) leaves them — names numbered in the same order, floats to the bit —
and it refuses the rest without changing its tables.

Refusing is always safe (the per-record reader takes over), so these tests only fail when the
scanner accepts a line and reads it otherwise, or accepts what the per-record reader skips."""

from __future__ import annotations

import math
import struct
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from verdict import native_reader
from verdict.cost_campaign import CostAccumulator
from verdict.graph import VersionStore
from verdict.record_reader import RecordIngester
from verdict.shards import REJECTS

if native_reader._scan is None:
    pytest.skip("verdict._scan is not built (no C compiler at install)", allow_module_level=True)

_scan = native_reader._scan
TABLES = (_scan.T_REGION, _scan.T_WORKLOAD, _scan.T_KEY, _scan.T_VID)
#: workloads judged by value: both readers then keep every value a write or final read holds
KINDS = {"r1": "counter", "clicks": "counter", "": "cart"}

# ---------- the reference: what the per-record reader leaves ----------


def floats(values: Any) -> list[str]:
    """Floats by their bits (-0.0 is not 0.0), every NaN alike."""
    return ["nan" if math.isnan(x) else struct.pack("<d", x).hex() for x in values]


def state(store: VersionStore, cost: CostAccumulator) -> dict[str, Any]:
    """Everything a reader leaves in the store and the bill, in comparable form."""
    s = store
    finals = {k: [(f.region, f.vid, f.attrs, repr(f.value)) for f in s.finals[k]] for k in s.finals}
    return {
        "names": (s.regions.names, s.workloads.names, s.keys.names, list(s.vid_names())),
        "vids": (list(s.vid_write), bytes(s.seen)),
        "writes": [list(getattr(s, f"w_{c}")) for c in ("vid", "key", "pred", "region",
                                                         "workload", "flags", "next")],
        "times": (floats(s.w_tinv), floats(s.w_tcomp), floats(s.r_t)),
        "keys": (list(s.key_head), list(s.key_workload), list(s.key_final), finals),
        "reads": (list(s.r_key), list(s.r_vid), list(s.r_region)),
        "attrs": (s.w_attrs, {w: repr(v) for w, v in s.w_value.items()}),
        "probes": {link: (floats(s.lags[link]), floats(s.probe_t[link])) for link in s.lags},
        "counts": ({k: n for k, n in s.tally.items() if n}, dict(s.failed_errors), s.duplicates),
        "rejections": [(*r[:3], floats(r[3:5]), r.blocked_by) for r in s.rejections],
        "bill": (cost._region_ids, list(cost._region), bytes(cost._flags), list(cost._size),
                 list(cost._old), floats(cost._capacity), floats(cost._t)),
    }  # fmt: skip


def per_record(lines: list[bytes]) -> dict[str, Any] | None:
    """The store and bill the per-record reader makes of these lines; None when it would skip
    one of them (or take it for a trailer)."""
    store, cost = VersionStore(value_kinds=KINDS), CostAccumulator()
    add = RecordIngester(store).add
    for line in lines:
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            return None
        if isinstance(rec, dict) and rec.get("end", None) is True:
            return None
        try:
            add(rec)
            cost.observe(rec)
        except REJECTS:
            return None
    return state(store, cost)


def where(i: int) -> str:
    return f"block:{i}"


def table_sizes(reader: native_reader.NativeReader) -> list[int]:
    return [reader.scanner.count(t) for t in TABLES]


def scanned(blocks: list[bytes]) -> dict[str, Any]:
    """The store and bill the native reader makes of these blocks (each taken whole)."""
    store, cost = VersionStore(value_kinds=KINDS), CostAccumulator()
    reader = native_reader.NativeReader(store, cost)
    for body in blocks:
        reader._take(body, where)
    reader.finish()
    return state(store, cost)


def check_line(line: bytes) -> str:
    """One line, scanned alone and read per record; returns what the scanner did."""
    want = per_record([line]) if line else None
    reader = native_reader.NativeReader(VersionStore(), CostAccumulator())
    try:
        got = scanned([line])
    except _scan.Refused as e:
        assert not isinstance(e, _scan.Spoiled), f"{line!r}: spoiled a fresh scanner: {e}"
        reader.whole(line, where)  # refused again, by a reader whose tables we can see
        assert table_sizes(reader) == [0, 0, 0, 0], f"{line!r}: refused, tables changed"
        return "refused"
    if not line:
        return "empty"
    assert want is not None, f"{line!r}: accepted, but the per-record reader skips it"
    assert got == want, f"{line!r}: read otherwise than per record"
    return "accepted"


# ---------- lines: hand-spelt JSON tokens, orjson records, byte mutations ----------

ws = st.sampled_from(["", "", "", " ", "\t", "\r", "  \t"])
#: pieces of a string's body: raw characters (non-ASCII ones too) and escapes
raw_chars = st.sampled_from(list("abr12#:-_ x") + ["é", "€", "😀", "\u2028", "\x7f", "hh#"])
escapes = st.sampled_from(['\\n', '\\"', '\\\\', '\\/', '\\t', '\\u00e9', '\\ud83d\\ude00',
                           '\\u0041', '\\ud800'])  # fmt: skip
plain_names = st.lists(raw_chars, max_size=4).map("".join)
name_pool = st.sampled_from(["r1", "r2", "é-ü", "w#1", "hh#beat", "", "k😀", "profile#1"])


def string_token(names: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A JSON string: mostly plain, sometimes with escapes among its characters."""
    plain = names.map(lambda s: orjson.dumps(s).decode())
    escaped = st.lists(st.one_of(raw_chars, escapes), min_size=1, max_size=5).map(
        lambda parts: '"' + "".join(parts).replace('"', "") + '"'
    )
    return st.one_of(plain, plain, plain, escaped)


digits = st.text("0123456789", min_size=1, max_size=12)
number_token = st.one_of(
    st.integers(-(2**64), 2**64).map(str),
    st.integers(2**63 - 3, 2**63 + 3).map(lambda i: str(i * (-1 if i % 2 else 1))),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.builds("{}.{}".format, st.integers(1764300000, 1764399999), digits),  # timestamps
    st.builds("-{}.{}".format, st.integers(0, 99), digits),
    st.builds("{}{}{}".format, st.sampled_from(["1", "-2.5", "0", "9.999", "17643000001234567"]),
              st.sampled_from(["e", "E", "e+", "E-", "e-"]), st.integers(0, 400)),
    st.sampled_from(["-0", "-0.0", "0", "0.0", "1E5", "1e-7", "1764300000.1234567",
                     "2.4703282292062328e-324", "4.9e-324", "1.7976931348623157e308",
                     "1.7976931348623158e308", "1.7976931348623159e308", "1e400", "-1e400",
                     "1e-400", "123456789012345678901234567890", "0.30000000000000004",
                     "9007199254740993", "1" + "0" * 400, "1" + "0" * 320 + ".5"]),
)  # fmt: skip
literal_token = st.sampled_from(["true", "false", "null"])
any_token = st.recursive(
    st.one_of(string_token(plain_names), number_token, literal_token),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda xs: "[" + ",".join(xs) + "]"),
        st.lists(st.tuples(string_token(plain_names), inner), max_size=3).map(
            lambda kv: "{" + ",".join(f"{k}:{v}" for k, v in kv) + "}"
        ),
    ),
    max_leaves=6,
)
names_token = string_token(name_pool)
#: attribute-level versions: name -> version (or null), names sometimes repeated or escaped
attrs_token = st.one_of(
    st.just("null"),
    st.lists(st.tuples(string_token(st.sampled_from(["a", "b", "é"])),
                       st.one_of(names_token, st.just("null"), any_token)), max_size=3).map(
        lambda kv: "{" + ",".join(f"{k}:{v}" for k, v in kv) + "}"
    ),
)  # fmt: skip
RIGHT = {
    "op": st.sampled_from(['"put"', '"update"', '"delete"', '"get"', '"probe"', '"gets"']),
    "outcome": st.sampled_from(['"ok"', '"fail"', '"unknown"', '"OK"']),
    "region": names_token, "workload": names_token, "key": names_token, "vid": names_token,
    "pred": names_token, "target": names_token, "id": names_token,
    "t_invoke": number_token, "t_complete": number_token, "lag": number_token,
    "capacity": number_token, "item_bytes": st.integers(-(2**64), 2**64).map(str),
    "old_bytes": st.integers(-5, 5000).map(str),
    "final": literal_token, "consistent": literal_token,
    "attrs": attrs_token, "attr_preds": attrs_token, "end": st.just("null"),
    "value": any_token, "error": any_token, "blocked_by": any_token,
}  # fmt: skip
UNKNOWN = ["worker", "zz", "é", "probe", "attempt"]
#: field names spelt with escapes (the same key to orjson)
ESCAPED_NAMES = {"key": '"k\\u0065y"', "op": '"o\\u0070"', "vid": '"v\\u0069d"'}


@st.composite
def token_lines(draw: Any) -> bytes:
    """A history-like object spelt by hand: every record field with right and wrong types,
    null vs absent, unknown fields, duplicates, whitespace between tokens, odd endings."""
    fields = [f for f in ("op", "region", "outcome") if draw(st.integers(0, 9))]
    fields += draw(st.lists(st.sampled_from(sorted(RIGHT)), max_size=8, unique=True))
    fields += draw(st.lists(st.sampled_from(UNKNOWN), max_size=2))
    if draw(st.integers(0, 9)) == 0:  # a duplicate
        fields.append(draw(st.sampled_from(fields or ["op"])))
    fields = draw(st.permutations(fields))
    parts = []
    for f in fields:
        name = f'"{f}"'
        if f in ESCAPED_NAMES and draw(st.integers(0, 9)) == 0:
            name = ESCAPED_NAMES[f]
        value = draw(RIGHT[f] if f in RIGHT and draw(st.integers(0, 4)) else any_token)
        parts.append(f"{draw(ws)}{name}{draw(ws)}:{draw(ws)}{value}{draw(ws)}")
    body = "{" + draw(ws) + ",".join(parts) + "}" + draw(ws)
    return (body + draw(st.sampled_from(["", "\n", "\r\n"]))).encode()


record_values = {
    "id": st.sampled_from(["w-r1:1", "w-r2:7", "é:1"]), "worker": st.just("w-r1"),
    "op": st.sampled_from(["put", "update", "delete", "get", "probe"]),
    "region": name_pool, "outcome": st.sampled_from(["ok", "ok", "fail", "unknown"]),
    "workload": st.one_of(st.none(), name_pool), "key": name_pool,
    "vid": st.one_of(st.none(), name_pool), "pred": st.one_of(st.none(), name_pool),
    "t_invoke": st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
    "t_complete": st.floats(-1e10, 1e10), "final": st.one_of(st.none(), st.booleans()),
    "target": st.one_of(st.none(), name_pool), "lag": st.one_of(st.none(), st.floats(0, 10)),
    "consistent": st.booleans(), "capacity": st.sampled_from([None, 0, 0.0, -0.0, 0.5, 2]),
    "item_bytes": st.one_of(st.none(), st.integers(0, 2**40)), "old_bytes": st.integers(0, 9),
    "value": st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=3), st.lists(st.integers(-9, 9))),
    "error": st.sampled_from([None, "Throttled", {"code": 7}]), "blocked_by": st.none(),
}  # fmt: skip


@st.composite
def records(draw: Any) -> dict[str, Any]:
    """A plausible history record (some fields left out)."""
    rec = {"op": draw(record_values["op"]), "region": draw(record_values["region"]),
           "outcome": draw(record_values["outcome"])}  # fmt: skip
    for name in draw(st.lists(st.sampled_from(sorted(record_values)), max_size=14, unique=True)):
        rec[name] = draw(record_values[name])
    return rec


orjson_lines = records().map(lambda rec: orjson.dumps(rec) + b"\n")
INSERTS = [b'"', b"\\", b"\x01", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\r", b" ", b"}", b",", b"\x00"]  # fmt: skip


@st.composite
def mutated(draw: Any) -> bytes:
    """A line truncated, with a byte flipped, deleted, or one of INSERTS put in."""
    line = draw(st.one_of(orjson_lines, token_lines()))
    at = draw(st.integers(0, max(len(line) - 1, 0)))
    how = draw(st.sampled_from(["truncate", "flip", "delete", "insert"]))
    if how == "truncate":
        return line[:at]
    if how == "delete":
        return line[:at] + line[at + 1 :]
    if how == "insert":
        return line[:at] + draw(st.sampled_from(INSERTS)) + line[at:]
    flipped = line[at] ^ draw(st.integers(1, 255)) if line else 0
    return line[:at] + bytes([flipped]) + line[at + 1 :]


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(line=st.one_of(token_lines(), orjson_lines, mutated()))
def test_a_line_the_scanner_accepts_means_what_the_per_record_reader_reads(line: bytes) -> None:
    if b"\n" in line.rstrip(b"\n"):  # two lines: the block test's business
        line = line.replace(b"\n", b" ").rstrip() + b"\n"
    event(check_line(line))


@pytest.mark.parametrize(
    "line",
    [
        b'{"op":"put","region":"r","outcome":"ok","key":"k","vid":"v","t_invoke":-0,'
        b'"t_complete":-0,"lag":-0}',  # an integer -0 is the time 0.0, not -0.0
        b'{"op":"get","region":"r","outcome":"ok","value":1e400}',  # out of range: rejected
        b'{"op":"get","region":"r","outcome":"ok","value":[{"a":-1e309}]}',
        b'{"op":"put","region":"r","outcome":"fail","error":1.8e308,"t_invoke":1,"t_complete":2}',
        b'{"op":"put","region":"r","outcome":"fail","blocked_by":{"x":2e400},"t_invoke":1,'
        b'"t_complete":2}',
        b'{"op":"get","region":"r","outcome":"ok","t_invoke":1764300000.1234567}',
        b'{"op":"get","region":"r","outcome":"ok","t_invoke":2.4703282292062328e-324}',
        b'{"op":"get","region":"r","outcome":"ok","capacity":-0.0}',
        b'{"op":"put","region":"r","outcome":"ok","key":"k","id":"v","t_invoke":1,'
        b'"t_complete":2}',  # the id names a write without vid
        b'{"op":"put","region":"r","outcome":"ok","key":"k","id":"v\\u00e9","t_invoke":1,'
        b'"t_complete":2}',
        b'{"op":"probe","region":"r","outcome":"ok","target":"r","lag":0,"t_invoke":1}',
    ],
)
def test_lines_found_odd(line: bytes) -> None:
    """Lines the differential tests found read otherwise than the Python readers read them
    (msgspec's rows then, the per-record reader now)."""
    check_line(line)


def test_plain_lines_are_accepted() -> None:
    """The scanner is only worth having if it takes the lines a run writes."""
    for line in (
        b'{"id":"w-r1:1","worker":"w-r1","region":"r1","workload":"profile","key":"profile#1",'
        b'"op":"put","pred":null,"t_invoke":3.0000000000000004,"t_complete":3.12345678901234567,'
        b'"outcome":"ok","vid":"w-r1:1","value":{"n":[1,2.5,"x"]},"item_bytes":900}\n',
        b'{"id":"w-r1:2","worker":"w-r1","region":"r1","workload":"","op":"probe",'
        b'"target":"r2","lag":0.25,"t_invoke":5,"t_complete":5.25,"outcome":"ok"}\n',
        b'{"op":"get","region":"r1","outcome":"ok","key":"hh#1","vid":"w-r1:1","final":true}',
        # escapes in values: orjson writes a control character as \u00XX
        b'{"op":"put","region":"r1","outcome":"fail","error":"bad \\u0001 byte \\ud83d\\ude00",'
        b'"t_invoke":1,"t_complete":2,"value":["\\u0000", "\\n"]}',
    ):
        assert check_line(line) == "accepted", line


@pytest.mark.parametrize("number", [b"1" * 19, b"-" + b"9" * 19, b"9" * 400])
@pytest.mark.parametrize("field", [b"value", b"zz"])
def test_integers_beyond_64_bits_are_refused(field: bytes, number: bytes) -> None:
    """orjson reads them as floats (past ~309 digits not at all): the scanner leaves them to
    the per-record reader."""
    line = b'{"op":"get","region":"r","outcome":"ok","%s":%s}\n' % (field, number)
    with pytest.raises(_scan.Refused):
        _scan.Scanner().scan(line)
    _scan.Scanner().scan(line.replace(number, number[:18]))  # 18 digits: every reader agrees


# ---------- blocks: one scanner over several ----------

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
              "lag": st.floats(0, 1), "value": st.integers(0, 3),
              "attrs": st.dictionaries(st.sampled_from(["x", "y"]), small_names, max_size=2),
              "error": st.sampled_from(["Throttled", "ConditionalCheckFailedException"]),
              "blocked_by": small_names, "consistent": st.booleans(),
              "item_bytes": st.integers(0, 5000), "capacity": st.sampled_from([0, 0.5, 2.0])},
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks=st.lists(st.lists(block_records, min_size=1, max_size=12), min_size=1, max_size=4))
def test_blocks_are_read_as_the_per_record_reader_reads_their_lines(
    blocks: list[list[dict]],
) -> None:
    """Names numbered across blocks in first-met order, the same store and bill as the
    per-record reader; a refused block leaves the tables as they were; a write repeating a
    recorded vid spoils the scan (the per-record reader counts it a duplicate)."""
    reader = native_reader.NativeReader(VersionStore(value_kinds=KINDS), CostAccumulator())
    taken: list[bytes] = []
    for recs in blocks:
        body = b"".join(orjson.dumps(r) + b"\n" for r in recs)
        before = table_sizes(reader)
        try:
            reader._take(body, where)
        except _scan.Spoiled:
            lines = b"".join([*taken, body]).splitlines()
            store = VersionStore()
            add = RecordIngester(store).add
            for line in lines:
                add(orjson.loads(line))
            assert store.duplicates, "spoiled without a repeated write"
            return
        except _scan.Refused:
            assert table_sizes(reader) == before, "refused, tables changed"
            continue
        taken.append(body)
    lines = b"".join(taken).splitlines()
    assert scanned(taken) == per_record(lines)


def test_a_write_repeating_a_recorded_vid_spoils_the_scan() -> None:
    scanner = _scan.Scanner()
    write = b'{"op":"put","region":"r","outcome":"ok","key":"k","vid":"v","t_invoke":1,"t_complete":2}\n'
    scanner.scan(write)
    with pytest.raises(_scan.Spoiled):
        scanner.scan(write)
    with pytest.raises(_scan.Spoiled):
        _scan.Scanner().scan(write + write)


def test_columns_are_named_by_the_extension() -> None:
    """The scanner says which columns it returns and their types; the reader views them by
    name, so the two cannot drift apart."""
    columns = _scan.Scanner().scan(b'{"op":"get","region":"r","outcome":"ok"}\n')
    assert len(columns) == len(_scan.COLUMNS)
    assert {name for name, _ in _scan.COLUMNS} >= {"role", "key", "vid", "pred", "line"}
