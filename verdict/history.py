"""What a run records: history records and chaos-log events.

`loadgen` writes history shards, `chaos` writes `chaos.jsonl`, `verdict` reads both; this module
is the one place their shape is defined (docs/architecture.md). It imports nothing of ours,
so `loadgen` and `chaos` can import it without pulling in the checker; the units of the
campaign file are in the leaf package `units`.

A history shard is a JSON-lines file `history/<worker>.jsonl.zst`: zstd frames, one per flush
of the recorder, concatenated (`zstdcat` reads it), or an uncompressed `<worker>.jsonl`. Its
first line is a header `{"schema": "hothot-history/1", "worker": ..., "started": <unix s>}`;
every other line is one `Record` (a plain dict, see `FIELDS`). A torn last line or frame (a
killed run) is tolerated by readers: they read as far as it goes.
"""

from __future__ import annotations

import io
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO, NotRequired, TypedDict

import orjson

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
    FAIL = "fail"  # the store said no, or the request never left: it certainly did not happen
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


#: a shard's file name ends so: compressed as written, or plain JSON lines
SHARD_SUFFIXES = (".jsonl.zst", ".jsonl")
#: the zstd level shards are written with (fast; ~5-8x smaller than the JSON lines)
ZSTD_LEVEL = 3


def shard_files(history_dir: Path) -> list[Path]:
    """The shards of a history directory, by name."""
    return sorted(p for p in history_dir.iterdir() if p.name.endswith(SHARD_SUFFIXES))


def shard_name(path: Path) -> str:
    """The worker's name a shard file holds (`w1.jsonl.zst` -> `w1`)."""
    for suffix in SHARD_SUFFIXES:
        if path.name.endswith(suffix):
            return path.name[: -len(suffix)]
    return path.stem


def open_shard(path: Path) -> BinaryIO:
    """A shard's bytes as JSON lines, decompressed when it is compressed. A torn last frame
    reads as far as it decodes (its last line then is torn, and skipped as such); a frame
    that does not decode at all ends the shard there (it has no trailer: a partial run), or,
    as the shard's first, raises ValueError."""
    raw = path.open("rb")
    if not path.name.endswith(".zst"):
        return raw
    return io.BufferedReader(_Frames(raw, path), buffer_size=1 << 20)


class _Frames(io.RawIOBase):
    """zstd frames read one after another, up to the first that does not decode."""

    def __init__(self, raw: BinaryIO, path: Path) -> None:
        import zstandard  # only histories written compressed need it

        self._error = zstandard.ZstdError
        self._raw, self._path, self._read = raw, path, 0
        self._stream = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            n = self._stream.readinto(buffer)
        except self._error as e:
            if not self._read:
                raise ValueError(f"{self._path}: not zstd-compressed history ({e})") from None
            return 0
        self._read += n
        return n

    def close(self) -> None:
        self._stream.close()
        self._raw.close()
        super().close()


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
    t: float  # harness wall clock: when it happened (an apply or heal returned)
    requested: float  # when the schedule asked for it (absent: a stop, a late heal)
    error: str  # start: the apply failed (a heal follows at once); heal: healing failed
    note: str  # heal: LATE_HEAL when `hothot heal` undid it after the run


class FaultWindow(TypedDict):
    id: str
    fault: str
    target: str
    params: dict[str, Any]
    start: float
    heal: float | None
    #: when the schedule asked for the start and the heal (None: not recorded)
    requested_start: NotRequired[float | None]
    requested_heal: NotRequired[float | None]


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


def fault_events(lines: list[bytes] | list[str]) -> list[dict[str, Any]]:
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
        for ev in fault_events(lines)
        if ev.get("error") and ev.get("event") in ("start", "heal") and ev["error"] != LATE_HEAL
    ]


def _time_or_none(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def fault_windows(lines: list[bytes] | list[str]) -> list[FaultWindow]:
    """Pair start/heal events into windows, ordered by start. Bad lines are skipped, and so
    is a fault whose apply failed: it never acted, so nothing is attributed to it (it is in
    `fault_failures`)."""
    windows: dict[str, FaultWindow] = {}
    for ev in fault_events(lines):
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
                requested_start=_time_or_none(ev.get("requested")),
                requested_heal=None,
            )
        elif ev.get("event") == "heal" and ev["id"] in windows:
            windows[ev["id"]]["heal"] = float(ev.get("t", 0.0))
            windows[ev["id"]]["requested_heal"] = _time_or_none(ev.get("requested"))
    return sorted(windows.values(), key=lambda w: w["start"])
