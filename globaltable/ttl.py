"""Time to live: UpdateTimeToLive / DescribeTimeToLive and the expiry sweeper.

A table's TTL setting is global (every replica), as on global tables; the deletes happen in
one region, the *sweep region* (hothot's choice: the region UpdateTimeToLive was called in),
through the ordinary write path: the delete is committed there (stream record marked as
DynamoDB's TTL service), enters ground truth, and replicates to the other regions like any
delete, racing with whatever is written meanwhile. An expired item stays readable until the
sweep reaches it, as on DynamoDB. Expiry is read against the sweep region's clock, so a
`clock_skew` fault on that region moves TTL deletes too.

The sweep region keeps a heap of (expiry, key) fed by the images it applies (`observe`), so
a sweep touches only what is due; a key's newest expiry wins, stale heap entries are skipped.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from typing import TYPE_CHECKING, Any

from globaltable.engine import Prepared
from globaltable.errors import validation
from globaltable.request import field, table_of
from globaltable.store import Entry, Key

if TYPE_CHECKING:
    from globaltable.engine import GlobalTable
    from globaltable.table import Table

#: DynamoDB does not delete items whose expiry is more than five years in the past
MAX_AGE_S = 5 * 365 * 24 * 3600
_MISSING = object()


class TimeToLive:
    """One table's TTL: the attribute, the sweep region and its expiry heap."""

    def __init__(self, table: Table, attribute: str, region: str) -> None:
        self.table = table
        self.attribute = attribute
        self.region = region
        self.memo_key = ("ttl", attribute)
        self.expiry: dict[Key, float] = {}
        self.heap: list[tuple[float, int, Key]] = []
        self._seq = itertools.count()
        replica = table.replicas.get(region)
        for key, entry in replica.entries() if replica is not None else ():
            self._track(key, entry, None)

    def expiry_of(self, entry: Entry, item: dict[str, Any] | None) -> float | None:
        """The entry's expiry (epoch seconds) or None; memoised on the shared entry."""
        if entry.image is None:
            return None
        memo = entry.memo
        if memo is None:
            memo = entry.memo = {}
        found = memo.get(self.memo_key, _MISSING)
        if found is _MISSING:
            value = (item if item is not None else entry.item() or {}).get(self.attribute)
            found = None
            if isinstance(value, dict) and isinstance(value.get("N"), str):
                try:
                    found = float(value["N"])
                except (ValueError, OverflowError):
                    found = None
            memo[self.memo_key] = found
        return found  # type: ignore[return-value]

    def _track(self, key: Key, entry: Entry, item: dict[str, Any] | None) -> None:
        at = self.expiry_of(entry, item)
        if at is None:
            self.expiry.pop(key, None)
            return
        if self.expiry.get(key) == at:
            return
        self.expiry[key] = at
        heapq.heappush(self.heap, (at, next(self._seq), key))
        if len(self.heap) > 2 * len(self.expiry) + 1024:  # drop stale entries in bulk
            self.heap = [(t, next(self._seq), k) for k, t in self.expiry.items()]
            heapq.heapify(self.heap)

    def observe(
        self, region: str, key: Key, prev: Entry | None, new: Entry, item: Any, origin: str
    ) -> None:
        if region == self.region:
            self._track(key, new, item)

    def due(self, now: float) -> list[Key]:
        """Keys whose current expiry has passed (at most five years ago), popped."""
        out = []
        heap, expiry = self.heap, self.expiry
        while heap and heap[0][0] <= now:
            at, _, key = heapq.heappop(heap)
            if expiry.get(key) != at:
                continue  # rewritten since: a newer heap entry (or none) stands for it
            del expiry[key]
            if now - at <= MAX_AGE_S:
                out.append(key)
        return out

    def on_replica(self, region: str, added: bool) -> None:
        """A replica was added or removed: the sweep moves if its region went away."""
        if not added and region == self.region and self.table.replicas:
            self.region = next(iter(self.table.replicas))
            self.expiry.clear()
            self.heap.clear()
            for key, entry in self.table.replicas[self.region].entries():
                self._track(key, entry, None)


def ttl_of(table: Table) -> TimeToLive | None:
    return table.ttl


def update_time_to_live(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    spec = field(req, "TimeToLiveSpecification", dict, True)
    enabled = field(spec, "Enabled", bool, True)
    attribute = field(spec, "AttributeName", str, True)
    if not 1 <= len(attribute) <= 255:
        raise validation(
            "1 validation error detected: Value at 'timeToLiveSpecification.attributeName' "
            "failed to satisfy constraint: Member must have length between 1 and 255"
        )
    table = table_of(gt, req, region)
    if gt.strong:
        raise validation(
            "Time to Live is not supported on multi-Region strongly consistent (MRSC) global tables"
        )
    current = ttl_of(table)
    if enabled:
        if current is not None:
            if current.attribute != attribute:
                raise validation(
                    "TimeToLive is active on a different AttributeName: current AttributeName "
                    f"is {current.attribute}"
                )
            raise validation("TimeToLive is already enabled")
        state = table.ttl = TimeToLive(table, attribute, region)
        table.observers["ttl"] = state.observe
        table.region_hooks["ttl"] = state.on_replica
        gt.ttl_tables.add(table)
        start_sweeper(gt)
    else:
        if current is None:
            raise validation("TimeToLive is already disabled")
        if current.attribute != attribute:
            raise validation(
                "TimeToLive is active on a different AttributeName: current AttributeName is "
                f"{current.attribute}"
            )
        del table.observers["ttl"]
        del table.region_hooks["ttl"]
        table.ttl = None
        gt.ttl_tables.discard(table)
    table.refresh()
    return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attribute}}


def describe_time_to_live(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    table = table_of(gt, req, region)
    current = ttl_of(table)
    if current is None:
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
    return {
        "TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": current.attribute}
    }


def sweep(gt: GlobalTable, now: float | None = None) -> int:
    """Delete every expired item of every TTL table in its sweep region; returns how many."""
    deleted = 0
    for table in list(gt.ttl_tables):
        state = ttl_of(table)
        if state is None or gt.tables.get(table.name) is not table:
            gt.ttl_tables.discard(table)
            continue
        region = state.region
        if region in gt.outages:
            continue  # a region in outage deletes nothing; its sweep resumes after healing
        clock = gt.clocks[region].now() if now is None else now
        for key in state.due(clock):
            if expire(gt, table, region, key):
                deleted += 1
    return deleted


def expire(gt: GlobalTable, table: Table, region: str, key: Key) -> bool:
    """The sweeper's delete of an expired item in `region`: an ordinary local delete (it
    replicates, enters ground truth) marked as DynamoDB's TTL service's."""
    old = table.replicas[region].get(key)
    if old is None or old.image is None:
        return False
    vid = f"ttl:{region}:{next(gt.ttl_ids)}" if old.vid is not None else None
    gt.commit(table, region, key, old, Prepared(None, 0, {}, None, vid, "ttl"), ())
    gt.stats.ttl_delete(region)
    return True


def start_sweeper(gt: GlobalTable) -> None:
    """Sweep every `gt.ttl_sweep_s` seconds while some table has TTL enabled (0: never; the
    control API's `POST /ttl/sweep` still sweeps on demand)."""
    if gt.sweeper is not None or gt.ttl_sweep_s <= 0:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return

    def tick() -> None:
        gt.sweeper = None
        sweep(gt)
        if gt.ttl_tables:
            start_sweeper(gt)

    gt.sweeper = loop.call_later(gt.ttl_sweep_s, tick)
