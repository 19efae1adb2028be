"""The record formats every part shares: history records, chaos-log events, and units.

`loadgen` writes history shards, `chaos` writes `chaos.jsonl`, `verdict` reads both; this module
is the one place their shape is defined (DESIGN §4). It is deliberately dependency-light so
that `loadgen` and `chaos` can import it without pulling in the checker.

A history shard is a JSON-lines file `history/<worker>.jsonl`. Its first line is a header
`{"schema": "hothot-history/1", "worker": ..., "started": <unix s>}`; every other line is one
`Record` (a plain dict, see `FIELDS`). A torn last line (killed run) is tolerated by readers.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, TypedDict

import orjson
from pydantic import BeforeValidator

SCHEMA = "hothot-history/1"
HISTORY_DIR = "history"
CHAOS_LOG = "chaos.jsonl"
TRUTH_FILE = "truth.json"


class Op(StrEnum):
    PUT = "put"
    UPDATE = "update"
    DELETE = "delete"
    GET = "get"
    #: a replication-lag observation (heartbeat or sampled write), see `Record.lag`
    PROBE = "probe"


class Outcome(StrEnum):
    OK = "ok"
    FAIL = "fail"  # the store answered with an error: the write certainly did not happen
    UNKNOWN = "unknown"  # timeout / connection error: it may or may not have happened


class Record(TypedDict, total=False):
    """One operation. Only `id`, `worker`, `region`, `op`, `outcome`, `t_invoke`,
    `t_complete` are always present."""

    id: str  # unique across the run: "<worker>:<seq>"
    worker: str
    region: str  # the region the operation was sent to (probes: the writing region)
    workload: str  # the workload's name (its `name:` or its kind); "" for probes
    key: str  # the item's partition key value (`pk`)
    op: str  # Op
    vid: str | None  # writes: the value this write installs; gets: the hh_vid read
    pred: str | None  # writes: the hh_vid this write replaced (ALL_OLD); None = no item
    attrs: dict[str, str]  # attribute-level writes: attr -> vid installed; gets: attr -> vid read
    attr_preds: dict[str, str | None]  # attribute-level writes: attr -> vid replaced
    value: Any  # small summary: increment, appended element, read count / element ids
    t_invoke: float  # harness wall clock (time.time()) just before the call
    t_complete: float  # harness wall clock just after the answer
    outcome: str  # Outcome
    error: str  # error code / class, when outcome != ok
    final: bool  # gets: the post-quiescence read of every touched key in every region
    consistent: bool  # gets: ConsistentRead was used
    attempt: int  # guarded writes: 1 for the first try, n for the n-th after condition failures
    item_bytes: int  # writes: DynamoDB item size of the item written (after image)
    old_bytes: int  # writes: size of the item replaced (ALL_OLD), 0 if none
    capacity: float  # ConsumedCapacity.CapacityUnits when the target returned it
    client_ts: float  # client_lww: the writer's (possibly skewed) clock value written
    #: client_lww, a write its condition rejected: the hh_vid of the item that rejected it
    #: (ReturnValuesOnConditionCheckFailure=ALL_OLD); the verdict's app-level skew_inverted
    blocked_by: str
    target: str  # probes: the observing region
    lag: float  # probes: seconds from ack in `region` to first visibility in `target`
    probe: str  # probes: "heartbeat" | "sample"


FIELDS: frozenset[str] = frozenset(Record.__annotations__)


def header(worker: str, started: float) -> bytes:
    return orjson.dumps({"schema": SCHEMA, "worker": worker, "started": started}) + b"\n"


def encode(record: Record) -> bytes:
    """One JSON line (with its newline). orjson: the recorder sits on the hot path."""
    return orjson.dumps(record) + b"\n"


# ---------------------------------------------------------------------------------------
# chaos.jsonl: one event per line, {"event": "start"|"heal", "id", "fault", "target",
# "params", "t"}; a start without a heal means the run ended before the heal was logged.


class FaultEvent(TypedDict, total=False):
    event: str  # "start" | "heal"
    id: str  # unique within the run; pairs a start with its heal
    fault: str  # registered fault name, e.g. "partition"
    target: str  # human-readable target: "eu-west-1", "us-east-1<->eu-west-1", "A->B"
    params: dict[str, Any]
    t: float  # harness wall clock
    error: str  # start: the apply failed (a heal follows at once); heal: healing failed
    note: str  # heal: LATE_HEAL when `hothot heal` undid it after the run


class FaultWindow(TypedDict):
    id: str
    fault: str
    target: str
    params: dict[str, Any]
    start: float
    heal: float | None


#: the note of a heal event written by `hothot heal` (older versions wrote it as `error`)
LATE_HEAL = "healed late by hothot heal"


class FaultFailure(TypedDict):
    """A fault the target refused to apply (the run did not test it) or failed to heal (it
    may still be applied: `hothot heal`)."""

    id: str
    fault: str
    target: str
    phase: str  # "apply" | "heal"
    error: str
    t: float


def _fault_events(lines: list[bytes] | list[str]) -> list[dict[str, Any]]:
    events = []
    for line in lines:
        try:
            ev = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(ev, dict) and "id" in ev:
            events.append(ev)
    return events


def fault_failures(lines: list[bytes] | list[str]) -> list[FaultFailure]:
    """Every apply or heal that logged an error, in log order."""
    return [
        FaultFailure(
            id=str(ev["id"]),
            fault=str(ev.get("fault", "?")),
            target=str(ev.get("target", "")),
            phase="apply" if ev.get("event") == "start" else "heal",
            error=str(ev["error"]),
            t=float(ev.get("t", 0.0)),
        )
        for ev in _fault_events(lines)
        if ev.get("error") and ev.get("event") in ("start", "heal") and ev["error"] != LATE_HEAL
    ]


def fault_windows(lines: list[bytes] | list[str]) -> list[FaultWindow]:
    """Pair start/heal events into windows, ordered by start. Bad lines are skipped, and so
    is a fault whose apply failed: it never acted, so nothing is attributed to it (it is in
    `fault_failures`)."""
    windows: dict[str, FaultWindow] = {}
    for ev in _fault_events(lines):
        if ev.get("event") == "start" and ev.get("error"):
            windows.pop(ev["id"], None)
        elif ev.get("event") == "start":
            windows[ev["id"]] = FaultWindow(
                id=ev["id"],
                fault=ev.get("fault", "?"),
                target=ev.get("target", ""),
                params=ev.get("params", {}),
                start=float(ev.get("t", 0.0)),
                heal=None,
            )
        elif ev.get("event") == "heal" and ev["id"] in windows:
            windows[ev["id"]]["heal"] = float(ev.get("t", 0.0))
    return sorted(windows.values(), key=lambda w: w["start"])


# ---------------------------------------------------------------------------------------
# Units of the campaign file. Here because every part's spec needs them and every part may
# import this module (DESIGN §1).

#: what a duration may be written as (also the campaign JSON Schema's pattern)
DURATION_PATTERN = r"^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$"
_DURATION = re.compile(DURATION_PATTERN)
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


#: no duration of a campaign is longer (each field has its own, tighter bound)
MAX_DURATION_S = 366 * 24 * 3600.0


def parse_duration(value: Any) -> float:
    """'800ms' / '45s' / '2m' / 1.5 -> seconds. Bare numbers are seconds. Finite and at most
    a year either way: a larger figure is a typo (and inf or nan breaks every comparison)."""
    seconds: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = _finite(value)
    elif isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            seconds = _finite(m.group(1)) * _DURATION_UNITS[m.group(2)]
    if seconds is None:
        raise ValueError(f"expected a duration like 800ms, 45s or 2m, got {value!r}")
    if not abs(seconds) <= MAX_DURATION_S:
        raise ValueError(f"duration {_shown(value)} is beyond a year (or not a number)")
    return seconds


def _finite(value: Any) -> float:
    try:
        number = float(value)
    except OverflowError:  # an int of hundreds of digits
        number = float("inf")
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"duration {_shown(value)} is beyond a year (or not a number)")
    return number


def _shown(value: Any) -> str:
    """A value as messages quote it: long ones (a 400-digit number) cut short."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


def format_duration(seconds: float) -> str:
    if seconds != 0 and abs(seconds) < 1:
        return f"{round(seconds * 1000, 3):g}ms"
    return f"{round(seconds, 3):g}s"


#: what a size may be written as, any case (also the campaign JSON Schema's pattern)
SIZE_PATTERN = r"^\s*(\d+(?:\.\d+)?)\s*([Bb]|[KkMm][Bb]|[KkMm][Ii][Bb])?\s*$"
_SIZE = re.compile(SIZE_PATTERN)
_SIZE_UNITS = {"b": 1, "kb": 1024, "kib": 1024, "mb": 1024 * 1024, "mib": 1024 * 1024, None: 1}


def parse_size(value: Any) -> int:
    """'1KB' / '0.5KB' / '700B' / 700 -> bytes. 1 KB = 1,024 bytes, as DynamoDB counts."""
    if isinstance(value, bool):
        raise ValueError(f"expected a size like 700B or 1.5KB, got {value!r}")
    if isinstance(value, int | float):
        return int(_finite_size(value))
    if isinstance(value, str):
        m = _SIZE.match(value)
        if m:
            unit = m.group(2).lower() if m.group(2) else None
            return int(round(_finite_size(m.group(1)) * _SIZE_UNITS[unit]))
    raise ValueError(f"expected a size like 700B or 1.5KB, got {value!r}")


def _finite_size(value: Any) -> float:
    try:
        number = float(value)
    except OverflowError:
        number = float("inf")
    if not abs(number) < 2**53:  # inf, nan, or beyond what a float counts exactly
        raise ValueError(f"size {_shown(value)} is not a usable number of bytes")
    return number


#: pydantic field types: accept "800ms" or a number of seconds, store float seconds
Duration = Annotated[float, BeforeValidator(parse_duration)]
#: accept "1.5KB" or a number of bytes, store int bytes
Size = Annotated[int, BeforeValidator(parse_size)]


def link_name(source: str, target: str) -> str:
    """The one spelling of a replication link everywhere: verdict.json, budgets, metrics."""
    return f"{source}->{target}"


# ---------------------------------------------------------------------------------------
# Item size by DynamoDB's rules (capacity units are charged per 1 KB / 4 KB of it). Shared so
# that loadgen can record `item_bytes`/`old_bytes` and the cost model can price them.


def item_size(item: dict[str, Any]) -> int:
    """Bytes DynamoDB bills for a wire-format item `{"name": {"S": "x"}, ...}`.

    Sum over attributes of the UTF-8 name plus the value: S = UTF-8 bytes; N = 1 byte per two
    significant digits + 1 (+1 if negative; zero is 1); B = raw bytes (base64 text in JSON is
    decoded); NULL/BOOL = 1; L/M = 3 + per element (1 + element, map keys count their UTF-8
    name); SS/NS/BS = sum of elements (AWS leaves sets unclear; hothot's choice). A bad value
    raises ValueError naming the attribute path.
    """
    import base64
    import math
    from decimal import Decimal, InvalidOperation

    def number(text: Any, where: str) -> int:
        try:
            parsed = Decimal(str(text))
        except InvalidOperation:
            raise ValueError(f"{where}: {text!r} is not a DynamoDB number") from None
        if not parsed.is_finite():
            raise ValueError(f"{where}: {text!r} is not a DynamoDB number")
        if not parsed:
            return 1  # zero: no significant digits
        # count digits by hand: Decimal.normalize() would round to the context's 28 digits
        digits = "".join(map(str, parsed.as_tuple().digits)).strip("0")
        return math.ceil(len(digits) / 2) + 1 + (1 if parsed < 0 else 0)

    def binary(data: Any, where: str) -> int:
        if isinstance(data, bytes | bytearray | memoryview):
            return len(data)
        if isinstance(data, str):
            try:
                return len(base64.b64decode(data, validate=True))
            except ValueError:
                raise ValueError(f"{where}: binary value is not base64") from None
        raise ValueError(f"{where}: binary value must be bytes or base64 text")

    def value(typed: Any, where: str) -> int:
        if not isinstance(typed, dict) or len(typed) != 1:
            raise ValueError(f"{where}: expected one type tag like {{'S': ...}}, got {typed!r}")
        ((tag, v),) = typed.items()
        if tag == "S" and isinstance(v, str):
            return len(v.encode())
        if tag == "N":
            return number(v, where)
        if tag == "B":
            return binary(v, where)
        if tag in ("NULL", "BOOL"):
            return 1
        if tag == "SS" and isinstance(v, list):
            return sum(len(str(e).encode()) for e in v)
        if tag == "NS" and isinstance(v, list):
            return sum(number(e, where) for e in v)
        if tag == "BS" and isinstance(v, list):
            return sum(binary(e, where) for e in v)
        if tag == "L" and isinstance(v, list):
            return 3 + sum(1 + value(e, f"{where}[{i}]") for i, e in enumerate(v))
        if tag == "M" and isinstance(v, dict):
            return 3 + sum(1 + len(k.encode()) + value(e, f"{where}.{k}") for k, e in v.items())
        raise ValueError(f"{where}: unknown or malformed type {tag!r}")

    if not isinstance(item, dict):
        raise ValueError(f"an item must be a dict of attributes, got {type(item).__name__}")
    return sum(len(name.encode()) + value(typed, name) for name, typed in item.items())
