"""The history of a report directory into a VersionStore and a CostAccumulator: in columns
when every record fits them, per record otherwise (the same figures either way)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from verdict import scanned
from verdict.bulk import ColumnIngester
from verdict.columns import Irregular, RowTaker, read_rows
from verdict.cost_campaign import CostAccumulator
from verdict.graph import VersionStore
from verdict.reader import REJECTS, ReadStats, paused_gc, read_history, require_records


def judge_record(kinds: dict[str, str]) -> Any:
    """What the per-record reader does with one decoded line, on scratch state: raises as
    its sink would (the line is skipped), or Irregular when the per-record reader would
    keep part of a line it skips (the columns cannot)."""

    def judge(rec: dict[str, Any]) -> None:
        store = VersionStore(value_kinds=kinds)
        try:
            store.ingester()(rec)
        except REJECTS:
            touched = store.regions.names or store.workloads.names or store.keys.names
            if touched or len(store.vid_write) or store.lags:
                raise Irregular("a skipped line that names a region, key or vid") from None
            raise
        try:
            CostAccumulator().observe(rec)
        except REJECTS as e:
            raise Irregular(f"a record the cost model refuses: {e}") from None

    return judge


#: the readers, fastest first: each reads what the one before it refused
READERS = ("native", "columns", "records")


def ingest_history(
    report_dir: Path, kinds: dict[str, str], *, reader: str = "native"
) -> tuple[VersionStore, ReadStats, CostAccumulator]:
    """Read every shard with `reader` or, when it refuses the history, the next of READERS
    (the same figures from each; tests compare them)."""
    if reader not in READERS:
        raise ValueError(f"reader: one of {', '.join(READERS)}, not {reader!r}")
    refusals: list[str] = []
    for name in READERS[READERS.index(reader) : -1]:
        if name == "native" and not scanned.available():
            refusals.append(f"native: {scanned.unavailable()}")
            continue
        store, stats, cost = VersionStore(value_kinds=kinds), ReadStats(), CostAccumulator()
        if name == "native":
            ingest = taker = scanned.ScannedIngester(store, cost)
        else:
            ingest = ColumnIngester(store, cost)
            taker = RowTaker(ingest)
        try:
            with paused_gc():
                read_rows(report_dir, stats, taker, judge_record(kinds))
        except Irregular as e:
            refusals.append(f"{name}: {e}")
            continue
        require_records(report_dir, stats)
        ingest.finish()
        stats.reader, stats.refusals = name, refusals
        return store, stats, cost
    store, stats, cost = VersionStore(value_kinds=kinds), ReadStats(), CostAccumulator()
    add, observe = store.ingester(), cost.observe

    def sink(record: dict[str, Any]) -> None:
        add(record)
        observe(record)

    read_history(report_dir, stats, sink)
    stats.refusals = refusals
    return store, stats, cost
