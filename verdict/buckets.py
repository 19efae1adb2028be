"""The verdict of a history too large for memory: split by key hash into buckets, each judged
in its own process, the findings merged exactly.

The version graph of a key depends on that key's records alone, so:
1. one routing pass reads every shard with the native scanner in its routing mode: regions
   and workloads are numbered for the whole history, the bill and the lag probes are taken in
   record order, and every record naming a key is written, with its position in the history,
   to the bucket of its key's hash (records of no key to bucket 0);
2. each bucket is read into a store of its own (regions and workloads numbered as the whole
   history numbers them) and judged against the whole history's frame (time span, fault
   windows, lag horizons) in one of `jobs` processes, one bucket at a time per process;
3. the buckets' findings add up (verdict.findings): counts are summed, every read's staleness
   kept, the earliest examples chosen by a total order (time, then record order).
Lag quantiles are exact because every probe is kept by the routing pass (a few per second).

A history whose records tie keys together — a write naming as its pred a vid another bucket
wrote, the same vid written in two buckets — is judged in memory instead: each bucket reports
the 64-bit hashes of the vids it wrote and of those it names without writing, and any
overlap between buckets sends the history to `verdict.native_reader.read_history`.
"""

from __future__ import annotations

import math
import multiprocessing
import multiprocessing.connection
import os
import tempfile
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from verdict.check import Checker, Positions
from verdict.cost_campaign import CostAccumulator
from verdict.findings import Frame, KeyFindings
from verdict.graph import VersionStore
from verdict.native_reader import (
    NativeReader,
    Unscannable,
    Where,
    _scan,
    columns,
    read_native,
    refusal,
    row_reader,
)
from verdict.record_reader import Irregular, judge_record
from verdict.shards import ReadStats, blocks, paused_gc, require_records
from verdict.store_builder import (
    ROLE_FAILED,
    ROLE_FINAL,
    ROLE_READ,
    ROLE_WRITE,
    add_latency,
    add_probes,
    charge,
    conditions,
)

#: uncompressed shard bytes per bucket by default (about a million operations, ~200 MB of
#: memory while judged)
BUCKET_BYTES = 256 << 20


@dataclass
class Routed:
    """What the routing pass keeps of the whole history beside the buckets' lines."""

    store: VersionStore  # regions, workloads and probes of the whole history
    cost: CostAccumulator
    stats: ReadStats
    buckets: int
    t_min: float = math.inf
    t_max: float = -math.inf
    t_complete_max: float = -math.inf  # of a recorded write
    #: a failed write naming its blocker but no key: its blocker may be in any bucket
    keyless_rejection: bool = False


class Router:
    """The routing pass's block taker (read_native's `whole`/`kept`)."""

    def __init__(self, routed: Routed, directory: Path) -> None:
        self.r, self.scanner, self.records = routed, _scan.Scanner(), 0
        self.lines = [(directory / f"{b}.jsonl").open("wb") for b in range(routed.buckets)]
        self.positions = [(directory / f"{b}.pos").open("wb") for b in range(routed.buckets)]

    def whole(self, body: bytes, where: Where) -> int | None:
        try:
            return self._take(body)
        except _scan.Refused as e:
            if isinstance(e, _scan.Spoiled):
                raise Unscannable(refusal(e, where)) from None
            return None

    def kept(self, lines: list[bytes], where: Where) -> None:
        if lines:
            try:
                self._take(b"\n".join(lines) + b"\n")
            except _scan.Refused as e:
                raise Unscannable(refusal(e, where)) from None

    def _take(self, body: bytes) -> int:
        if not body.endswith(b"\n"):  # a shard's last line: every bucket line ends one
            body += b"\n"
        c = columns(self.scanner.route(body, self.r.buckets))
        s, role, rows = self.r.store, c["role"], len(c["role"])
        for interned, table in ((s.regions, _scan.T_REGION), (s.workloads, _scan.T_WORKLOAD)):
            for name in self.scanner.names(table, len(interned.names)):
                interned(name)
        row = row_reader(body, c["line"])
        self._note_keyless_rejections(c, row)
        charge(self.r.cost, s.regions.names, c, conditions(c, row))
        add_latency(s, c)
        add_probes(s, c)
        self._times(c)
        keyed = (role == ROLE_WRITE) | (role == ROLE_FAILED) | (role == ROLE_READ)
        dest = np.where(keyed | (role == ROLE_FINAL), np.maximum(c["bucket"], 0), -1)
        dest = dest.astype(np.int32)
        parts = _scan.split(body, c["line"].tobytes(), dest.tobytes(), self.r.buckets)
        pos = np.arange(self.records, self.records + rows, dtype=np.int64)
        for b, part in enumerate(parts):
            if part:
                self.lines[b].write(part)
                self.positions[b].write(pos[dest == b].tobytes())
        self.records += rows
        return rows

    def _times(self, c: dict[str, np.ndarray]) -> None:
        """The span of the writes' (failed ones too) and kept reads' invocations, and the
        latest completion of a recorded write, as a store of the whole history has them."""
        role = c["role"]
        write = role == ROLE_WRITE
        kept = (role == ROLE_READ) & ((c["bits"] & _scan.B_VID) > 0)
        timed = write | kept | (role == ROLE_FAILED)
        if timed.any():
            t = c["t_inv"][timed]
            self.r.t_min = min(self.r.t_min, float(t.min()))
            self.r.t_max = max(self.r.t_max, float(t.max()))
        if write.any():
            self.r.t_complete_max = max(self.r.t_complete_max, float(c["t_comp"][write].max()))

    def _note_keyless_rejections(self, c: dict[str, np.ndarray], row: Any) -> None:
        for i in np.flatnonzero((c["role"] == ROLE_FAILED) & (c["bucket"] < 0)).tolist():
            blocked_by = row(i).get("blocked_by")
            if isinstance(blocked_by, str) and blocked_by:
                self.r.keyless_rejection = True

    def close(self) -> None:
        for f in self.lines + self.positions:
            f.close()


@dataclass
class BucketTask:
    """One bucket to judge, and what it needs to know about the whole history."""

    lines: Path
    positions: Path
    kinds: dict[str, str]
    regions: list[str]
    workloads: list[str]
    frame: Frame
    #: the whole history's lag probes: (source, target) -> (lags, probe times)
    probes: dict[tuple[int, int], tuple[array, array]]


@dataclass
class BucketResult:
    findings: KeyFindings
    tally: dict[int, int]
    failed_errors: dict[tuple[int, int, str], int]
    keys: int
    #: hashes of the vids this bucket wrote, and of those it named without writing
    written: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    named: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    cpu_s: float = 0.0  # what judging it cost


def judge_bucket(task: BucketTask) -> BucketResult:
    """Read one bucket into a store of its own and judge it (in a worker process)."""
    started = time.process_time()
    store = VersionStore(value_kinds=task.kinds)
    reader = NativeReader(store, None, task.regions, task.workloads)
    with paused_gc(), task.lines.open("rb") as f, task.positions.open("rb") as p:
        _read_bucket(reader, f, p)
    reader.finish()
    for link, (lags, times) in task.probes.items():  # exposure dates arrivals by probes
        store.lags[link], store.probe_t[link] = lags, times
    b = reader.builder
    key_pos = b.key_pos.a[: len(store.keys.names)]
    read_pos = np.concatenate(b.r_pos) if b.r_pos else np.zeros(0, dtype=np.int64)
    positions = Positions(key_pos.item, b.rejection_pos.__getitem__, read_pos.item)
    found = Checker(store, task.frame, positions=positions).judge()
    hashes = np.frombuffer(reader.scanner.hashes(_scan.T_VID), dtype=np.uint64)
    writes = np.frombuffer(store.vid_write, dtype=np.int32) >= 0
    unfound = {r.blocked_by for r in store.rejections} - set(store.vid_numbers(
        {r.blocked_by for r in store.rejections}))  # fmt: skip
    blockers = np.array([_scan.hash(v) for v in unfound], dtype=np.uint64)
    named = np.concatenate([hashes[~writes], blockers])
    return BucketResult(found, dict(store.tally), dict(store.failed_errors),
                        len(store.keys.names), np.sort(hashes[writes]), named,
                        time.process_time() - started)  # fmt: skip


def _read_bucket(reader: NativeReader, lines: BinaryIO, positions: BinaryIO) -> None:
    for data in blocks(lines):
        n = data.count(b"\n")
        pos = np.frombuffer(positions.read(8 * n), dtype=np.int64)
        try:
            reader._take(data, lambda i: f"bucket line {i}", pos)
        except _scan.Refused as e:  # the routing pass read these very lines
            raise RuntimeError(f"a bucket's lines refused: {e}") from None


def bucket_count(paths: list[Path], bucket_bytes: int) -> int:
    """How many buckets the history needs (1: judge it in memory), by its JSON lines' size:
    a compressed shard's is estimated from how much its first 8 MB of lines shrank."""
    size = 0
    for p in paths:
        size += p.stat().st_size * (_expansion(p) if p.name.endswith(".zst") else 1)
    return max(1, math.ceil(size / bucket_bytes))


def _expansion(path: Path) -> float:
    import zstandard

    with path.open("rb") as raw:
        stream = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        try:
            produced = len(stream.read(8 << 20))
        except zstandard.ZstdError:  # not zstd at all: the reader will say so
            return 1.0
        return max(produced / max(raw.tell(), 1), 1.0)


def route(report_dir: Path, buckets: int, directory: Path, kinds: dict[str, str]) -> Routed:
    """The routing pass over every shard."""
    routed = Routed(VersionStore(value_kinds=kinds), CostAccumulator(), ReadStats(), buckets)
    router = Router(routed, directory)
    try:
        with paused_gc():
            read_native(report_dir, router, routed.stats, judge_record(kinds))
    finally:
        router.close()
    require_records(report_dir, routed.stats)
    routed.stats.reader = "native"
    return routed


def judge_in_buckets(
    report_dir: Path, kinds: dict[str, str], frame_of: Any, buckets: int, jobs: int
) -> tuple[VersionStore, ReadStats, CostAccumulator, KeyFindings, Frame, int] | str:
    """Route, judge the buckets in `jobs` processes, merge: (the routed store with the
    buckets' counts, the reading's stats, the bill, the merged findings, the frame, keys).
    `frame_of(store, t_min, t_max, t_complete_max)` makes the whole history's frame. Returns why the history
    must be judged in memory instead, when it must."""
    with tempfile.TemporaryDirectory(prefix="hothot-buckets-") as tmp:
        directory = Path(tmp)
        try:
            routed = route(report_dir, buckets, directory, kinds)
        except Irregular as e:
            return f"buckets: {e}"
        if routed.keyless_rejection:
            return "buckets: a rejected write names its blocker but no key"
        frame = frame_of(routed.store, routed.t_min, routed.t_max, routed.t_complete_max)
        tasks = [_task(directory, b, kinds, routed, frame) for b in range(buckets)]
        results = _run(tasks, jobs)
    if _tied(results):
        return "buckets: records name vids written in another bucket (or twice)"
    s = routed.store
    for r in results:
        for code, n in r.tally.items():
            s.tally[code] += n
        for key, n in r.failed_errors.items():
            s.failed_errors[key] += n
    merged = KeyFindings.merge([r.findings for r in results])
    routed.stats.worker_cpu_s = sum(r.cpu_s for r in results)
    return s, routed.stats, routed.cost, merged, frame, sum(r.keys for r in results)


def _task(
    directory: Path, b: int, kinds: dict[str, str], routed: Routed, frame: Frame
) -> BucketTask:
    truth = frame.truth
    if truth is not None:  # only this bucket's keys
        truth = {k: v for k, v in truth.items() if _scan.hash(k) % routed.buckets == b}
    part = Frame(frame.windows, frame.staleness_bound, frame.examples, truth, frame.horizons,
                 frame.t_min, frame.t_max, frame.t_complete_max)  # fmt: skip
    s = routed.store
    probes = {link: (s.lags[link], s.probe_t[link]) for link in s.lags}
    return BucketTask(directory / f"{b}.jsonl", directory / f"{b}.pos", kinds,
                      list(s.regions.names), list(s.workloads.names), part, probes)  # fmt: skip


def _run(tasks: list[BucketTask], jobs: int) -> list[BucketResult]:
    """Each bucket judged in a fresh process (its memory returned when it ends), forked
    from a clean server process: `hothot run` analyses in a process with gevent's hub and
    Locust's threads, which a fork of it would inherit mid-flight. No multiprocessing.Pool:
    under gevent its helper threads are greenlets, and the one blocked reading results kept
    the others from handing out tasks (a soak's run hung after its first two buckets); this
    waits on the processes' pipes from the calling thread alone."""
    if jobs <= 1:
        return [judge_bucket(t) for t in tasks]
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["verdict.buckets"])
    results: list[BucketResult | None] = [None] * len(tasks)
    waiting = list(enumerate(tasks))[::-1]
    running: dict[Any, tuple[int, Any]] = {}  # result pipe -> (task number, its process)
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                number, task = waiting.pop()
                reader, writer = context.Pipe(duplex=False)
                process = context.Process(target=_judge_into, args=(task, writer), daemon=True)
                process.start()
                writer.close()
                running[reader] = (number, process)
            for reader in multiprocessing.connection.wait(list(running)):
                number, process = running.pop(reader)
                results[number] = _answer(reader, process, number)
    finally:
        for reader, (_, process) in running.items():
            process.kill()
            reader.close()
    return [r for r in results if r is not None]


def _judge_into(task: BucketTask, out: Any) -> None:
    """In a bucket's process: its findings, or what went wrong, sent back."""
    try:
        answer: Any = judge_bucket(task)
    except BaseException as exc:  # the analysing process raises it
        answer = exc
    try:
        out.send(answer)
    except Exception as exc:  # an exception that does not pickle
        out.send(RuntimeError(f"{type(answer).__name__}: {answer} ({exc})"))


def _answer(reader: Any, process: Any, number: int) -> BucketResult:
    try:
        answer = reader.recv()
    except EOFError:
        answer = RuntimeError(f"bucket {number}'s process ended without an answer")
    finally:
        reader.close()
        process.join()
    if isinstance(answer, BaseException):
        raise answer
    return answer  # type: ignore[no-any-return]


def _tied(results: list[BucketResult]) -> bool:
    """Some vid written in two buckets, or named in one and written in another."""
    written = np.sort(np.concatenate([r.written for r in results]))
    if len(written) > 1 and (written[1:] == written[:-1]).any():
        return True
    named = np.concatenate([r.named for r in results])
    return bool(len(named) and np.isin(named, written).any())


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
