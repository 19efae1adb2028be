"""The native scanner (`verdict._scan`) against its contract: every line it accepts means
exactly what msgspec's `Row` decode + `verdict.bulk.ColumnIngester` make of it (codes, flags,
names numbered in first-seen order, floats to the bit), and it refuses the rest.

Refusing is always safe (the Python readers take over), so the differential tests only fail
when the scanner accepts a line and reads it otherwise, or accepts what msgspec or
`verdict.bulk` would refuse."""

from __future__ import annotations

import math
import struct
from typing import Any

import msgspec
import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from verdict_fixtures import HistoryBuilder, history_fixture  # noqa: F401

from verdict import scanned
from verdict.bulk import OPS, OUTCOMES
from verdict.columns import Row

if scanned._scan is None:
    pytest.skip("verdict._scan is not built (no C compiler at install)", allow_module_level=True)

_scan = scanned._scan
REGION, WORKLOAD, KEY, VID = scanned.REGION, scanned.WORKLOAD, scanned.KEY, scanned.VID
UNSET = msgspec.UNSET
B = {"final": 1, "vid": 2, "pred": 4, "consistent": 8, "value": 16, "error": 32,
     "blocked": 64, "harness": 128, "key": 256, "lag": 512, "target": 1024,
     "attrs": 2048}  # fmt: skip
NO_TARGET = 0xFFFF
#: what the scanner reads: a Row with attribute-level versions (verdict.scanned)
decode_row = msgspec.json.Decoder(scanned.ScannedRow).decode


class IdOnly(msgspec.Struct):
    """The `id` a write without vid is named by (verdict.columns.row_of)."""

    id: Any = None


decode_id = msgspec.json.Decoder(IdOnly).decode

# ---------- the reference: a Row as the scanner's columns ----------


def substitute_id(row: Row, line: bytes) -> Row:
    """A non-failed write without vid is named by its string `id` (verdict.columns.row_of)."""
    if row.op not in ("get", "probe") and row.outcome != "fail" and not row.vid:
        given_id = decode_id(line).id
        if isinstance(given_id, str):
            row.vid = given_id
    return row


def kinds(row: Row) -> dict[str, bool]:
    """verdict.bulk's masks for one row."""
    is_write, ok = row.op in ("put", "update", "delete"), row.outcome == "ok"
    get = row.op == "get" and ok
    return {
        "is_write": is_write,
        "fin": get and bool(row.final),
        "read": get and not row.final and bool(row.vid),
        "write": is_write and row.outcome != "fail",
        "probe": row.op == "probe" and ok and row.lag is not None and bool(row.target),
    }


def writes_attributes(row: Row) -> bool:
    return row.op in ("put", "update", "delete") and bool(row.attrs)


def refused_by_bulk(row: Row) -> bool:
    """`ColumnIngester.ingest`'s checks before any state changes."""
    k = kinds(row)
    keyed = k["fin"] or k["read"] or k["write"]
    return (
        (keyed and row.key is UNSET)
        or ((k["read"] or k["is_write"] or k["probe"]) and row.t_invoke is None)
        or (k["is_write"] and row.t_complete is UNSET)
        or (k["write"] and not row.vid)
    )


def expected_columns(row: Row, size: int) -> dict[str, Any]:
    """The columns (and the tables) a fresh scanner must give for this one row."""
    k = kinds(row)
    keyed = k["fin"] or k["read"] or k["write"]
    bits = sum(
        B[name]
        for name, on in (
            ("final", bool(row.final)), ("vid", bool(row.vid)), ("pred", bool(row.pred)),
            ("consistent", bool(row.consistent)), ("value", row.value is not UNSET),
            ("error", row.error is not None), ("blocked", row.blocked_by is not None),
            ("harness", row.key is not UNSET and row.key.startswith("hh#")),
            ("key", row.key is not UNSET), ("lag", row.lag is not None),
            ("target", bool(row.target)), ("attrs", bool(row.attrs)),
        )
        if on
    )  # fmt: skip
    regions = [row.region]
    if k["probe"] and row.target not in regions:
        regions.append(row.target)
    vids: list[str] = []
    seen: dict[str, int] = {}

    def met(name: str, observed: int) -> int:
        """A vid numbered where the per-record ingester meets it (graph.py's order)."""
        if name not in vids:
            vids.append(name)
            seen[name] = 0
        seen[name] |= observed
        return vids.index(name)

    if k["is_write"] and row.attrs:  # VersionStore._attrs: own versions, then their preds
        for version in row.attrs.values():
            met(version, 0)
        for name in row.attrs:
            if (row.attr_preds or {}).get(name):
                met(row.attr_preds[name], 1)
    vid = pred = -1
    if (k["fin"] and row.vid) or k["read"] or k["write"]:
        vid = met(row.vid, 0 if k["write"] else 1)
    if k["write"] and row.pred:
        pred = met(row.pred, 1)
    if row.op == "get" and row.outcome == "ok" and row.attrs:  # the versions a read saw
        for version in row.attrs.values():
            if version:
                met(version, 1)
    vid_write = [0 if k["write"] and i == vid else -1 for i in range(len(vids))]
    nan = math.nan
    return {
        "op": OPS[row.op], "outcome": OUTCOMES[row.outcome], "bits": bits, "region": 0,
        "target": regions.index(row.target) if k["probe"] else NO_TARGET,
        "workload": 0, "key": 0 if keyed else -1, "vid": vid, "pred": pred,
        "t_inv": nan if row.t_invoke is None else row.t_invoke,
        "t_comp": nan if row.t_complete is UNSET else row.t_complete,
        "lag": nan if row.lag is None else row.lag,
        "capacity": row.capacity or nan,  # `x or nan`: 0 is no figure
        "item_bytes": row.item_bytes or 0, "old_bytes": row.old_bytes or 0,
        "line": [0, size],
        "names": {REGION: regions, WORKLOAD: [] if row.op == "probe" else [row.workload or ""],
                  KEY: [row.key] if keyed else [], VID: vids},
        "vids": (vid_write, [seen[v] for v in vids]),
    }  # fmt: skip


def same_float(a: float, b: float) -> bool:
    """Bit-identical, NaN matching NaN."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return struct.pack("<d", a) == struct.pack("<d", b)


def scanned_columns(columns: tuple[bytes, ...]) -> dict[str, np.ndarray]:
    return {name: np.frombuffer(col, kind) for (name, kind), col in
            zip(scanned.COLUMNS, columns, strict=True)}  # fmt: skip


def check_line(line: bytes) -> str:
    """One line against msgspec + Row + the bulk rules; returns what happened."""
    if not line:  # no line at all: an empty block
        assert scanned_columns(_scan.Scanner().scan(line))["line"].tolist() == [0]
        return "empty"
    try:
        row = decode_row(line)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        row = None
    if row is not None:
        row = substitute_id(row, line)
    scanner = _scan.Scanner()
    try:
        got = scanned_columns(scanner.scan(line))
    except _scan.Refused as e:
        assert not isinstance(e, _scan.Spoiled), f"{line!r}: spoiled a fresh scanner: {e}"
        assert all(scanner.count(t) == 0 for t in range(4)), f"{line!r}: refused, tables changed"
        return "refused"
    assert row is not None, f"{line!r}: accepted, but msgspec rejects it"
    assert not refused_by_bulk(row), f"{line!r}: accepted, but verdict.bulk refuses it"
    for members in (row.attrs, row.attr_preds):
        assert members is None or (
            isinstance(members, dict)
            and all(isinstance(v, str) or v is None for v in members.values())
        ), f"{line!r}: accepted attributes the per-record ingester would not read as names"
    if writes_attributes(row):
        assert all(isinstance(v, str) for v in row.attrs.values()), f"{line!r}: a null version"
    want = expected_columns(row, len(line))
    for name, _kind in scanned.COLUMNS:
        col = got[name]
        if name == "line":
            assert col.tolist() == want["line"], f"{line!r}: line offsets {col.tolist()}"
            continue
        assert len(col) == 1, f"{line!r}: {len(col)} rows in column {name}"
        if col.dtype.kind == "f":
            assert same_float(float(col[0]), want[name]), (
                f"{line!r}: {name} is {float(col[0])!r}, msgspec says {want[name]!r}"
            )
        else:
            assert int(col[0]) == want[name], f"{line!r}: {name} is {int(col[0])}, not {want[name]}"
    for table, names in want["names"].items():
        assert scanner.names(table) == names, f"{line!r}: table {table} is {scanner.names(table)}"
    vid_write, seen = scanner.vids()
    assert (np.frombuffer(vid_write, np.int32).tolist(), list(seen)) == want["vids"], line
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
#: field names spelt with escapes (the same key to msgspec)
ESCAPED_NAMES = {"key": '"k\\u0065y"', "op": '"o\\u0070"', "vid": '"v\\u0069d"'}


@st.composite
def token_lines(draw: Any) -> bytes:
    """A history-like object spelt by hand: every Row field with right and wrong types,
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
def test_a_line_the_scanner_accepts_means_what_msgspec_reads(line: bytes) -> None:
    if b"\n" in line.rstrip(b"\n"):  # two lines: the block test's business
        line = line.replace(b"\n", b" ").rstrip() + b"\n"
    event(check_line(line))


@pytest.mark.parametrize(
    "line",
    [
        b'{"op":"put","region":"r","outcome":"ok","key":"k","vid":"v","t_invoke":-0,'
        b'"t_complete":-0,"lag":-0}',  # an integer -0 is msgspec's 0.0, not -0.0
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
    """Lines the differential test found the scanner reading otherwise than msgspec."""
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
    ):
        assert check_line(line) == "accepted", line


@pytest.mark.parametrize("number", [b"1" * 19, b"-" + b"9" * 19, b"9" * 400])
@pytest.mark.parametrize("field", [b"value", b"zz"])
def test_integers_beyond_64_bits_are_refused(field: bytes, number: bytes) -> None:
    """msgspec reads them as ints, orjson as floats (past ~309 digits not at all): the
    per-record reader would keep another value or skip the line, so the scanner leaves them
    to the Python readers."""
    line = b'{"op":"get","region":"r","outcome":"ok","%s":%s}\n' % (field, number)
    with pytest.raises(_scan.Refused):
        _scan.Scanner().scan(line)
    _scan.Scanner().scan(line.replace(number, number[:18]))  # 18 digits: every reader agrees
