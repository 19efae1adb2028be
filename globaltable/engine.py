"""The global table itself: regions, their replicas, clocks and replication links, the write
path (MREC and MRSC), fault effects and ground truth. Protocol-free: `api` speaks DynamoDB,
`control_api` speaks the control API, both on top of this."""

from __future__ import annotations

import asyncio
import random
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from itertools import count
from typing import Any

from globaltable.clock import RegionClock
from globaltable.errors import unavailable, validation
from globaltable.faults import Fault, FaultEffects, FaultError, parse_fault
from globaltable.metrics import LAG_BUCKETS, Stats
from globaltable.replication import Delivery, Queued, ReplicationLink
from globaltable.store import Entry, Key, Replica, divergent_keys, stored_image
from globaltable.strong import strong_write
from globaltable.table import Table
from globaltable.truth import VID, WriteNode, has_attr_vid, node_for

MODES = ("eventual", "strong")
#: a local write's timestamp is at least this much above the version it replaces, so a region
#: whose clock stepped back still orders its own successive writes (and regions converge)
TS_STEP = 1e-6
#: replication applies due images in batches at most this often (bounds timer wakeups)
DRAIN_EVERY_S = 0.005


@dataclass(slots=True)
class Prepared:
    """What a write operation decided, before it is committed."""

    item: dict[str, Any] | None  # the new image; None deletes
    size: int
    response: dict[str, Any]
    old_item: dict[str, Any] | None = None  # the replaced image, when the operation parsed it
    delete_vid: str | None = None
    origin: str = "local"  # "ttl" for the expiry sweeper's deletes (streams tell them apart)


class GlobalTable:
    def __init__(
        self,
        regions: list[str],
        mode: str = "eventual",
        delay_s: float = 0.8,
        jitter_s: float = 0.4,
        seed: int | None = None,
        ttl_sweep_s: float = 1.0,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if len(set(regions)) != len(regions) or not regions:
            raise ValueError(f"regions must be distinct and non-empty, got {regions}")
        if mode == "strong" and len(regions) != 3:
            raise ValueError(f"mode strong (MRSC) needs exactly 3 regions, got {len(regions)}")
        self.regions = list(regions)
        self.mode = mode
        self.strong = mode == "strong"
        self.rng = random.Random(seed)
        self.clocks = {r: RegionClock() for r in regions}
        self.links = {
            (a, b): ReplicationLink(a, b, delay_s, jitter_s, self.rng)
            for a in regions
            for b in regions
            if a != b
        }
        self.out_links = {a: [lk for (s, _), lk in self.links.items() if s == a] for a in regions}
        self.stats = Stats()
        self.stats.lag = {pair: link.lag for pair, link in self.links.items()}
        self.tables: dict[str, Table] = {}
        self.faults: dict[str, Fault] = {}
        self.outages: set[str] = set()
        self.latency: dict[str, float] = {}
        self.inflight: dict[tuple[str, Key], tuple[str, asyncio.Future[None]]] = {}
        self._fault_ids = count(1)
        #: names this emulator process in /state: fault ids (f1, f2, ...) restart with it, so a
        #: late heal checks it is still talking to the emulator that applied the fault
        self.instance = f"{random.getrandbits(64):016x}"
        self._delete_ids = count(1)
        self._drain_handle: asyncio.TimerHandle | None = None
        self._drain_at = float("inf")
        #: tables with TTL enabled, swept every `ttl_sweep_s` (globaltable.ttl); 0: never
        self.ttl_tables: set[Table] = set()
        self.ttl_sweep_s = ttl_sweep_s
        self.sweeper: asyncio.TimerHandle | None = None  # globaltable.ttl schedules it
        #: (region, ClientRequestToken) -> (request fingerprint, time, answer) of successful
        #: TransactWriteItems, for DynamoDB's 10-minute idempotency (globaltable.transactions)
        self.client_tokens: dict[tuple[str, str], tuple[bytes, float, dict[str, Any]]] = {}
        self.ttl_ids = count(1)  # synthetic vids of TTL deletes (globaltable.ttl)

    # ---------------------------------------------------------------- writes

    def write(
        self, table: Table, region: str, key: Key, prepare: Callable[[Entry | None], Prepared]
    ) -> dict[str, Any] | Awaitable[dict[str, Any]]:
        """Run one write: `prepare(current version)` decides (and may raise), then commit."""
        if self.strong:
            return strong_write(self, table, region, key, prepare)
        old = table.replicas[region].get(key)
        prepared = prepare(old)
        self.commit(table, region, key, old, prepared, ())
        return prepared.response

    def transact(
        self,
        region: str,
        targets: list[tuple[Table, Key]],
        decide: Callable[[list[Entry | None]], list[Prepared | None]],
    ) -> None:
        """A TransactWriteItems (MREC): `decide(current versions)` judges every item (and
        raises to cancel, nothing written); then all commit at once. Atomic in this region
        only: each item replicates on its own, as AWS says (other regions may show a part)."""
        if self.strong:
            raise validation(
                "TransactWriteItems is not supported on multi-Region strongly consistent (MRSC) global tables"
            )
        olds = [table.replicas[region].get(key) for table, key in targets]
        for (table, key), old, prepared in zip(targets, olds, decide(olds), strict=True):
            if prepared is not None:
                self.commit(table, region, key, old, prepared, ())

    def commit(
        self,
        table: Table,
        region: str,
        key: Key,
        old: Entry | None,
        prepared: Prepared,
        synced: tuple[str, ...] | list[str],
    ) -> None:
        item = prepared.item
        ts = self.clocks[region].now()
        if old is not None and ts <= old.ts:
            ts = old.ts + TS_STEP
        if item is None:
            vid = prepared.delete_vid
            if vid is None and old is not None and old.vid is not None:
                vid = f"delete:{region}:{next(self._delete_ids)}"
            entry = Entry(None, 0, ts, region, vid)
        else:
            vid_attr = item.get(VID)
            vid = vid_attr.get("S") if isinstance(vid_attr, dict) else None
            entry = Entry(stored_image(item), prepared.size, ts, region, vid)
        replica = table.replicas[region]
        if table.observed:
            table.observe(region, key, replica.get(key), entry, item, prepared.origin)
        replica.put(key, entry)
        self._record_truth(table, key, old, prepared, entry)
        ack = time.monotonic()
        ident = (table, key)
        for link in self.out_links[region]:
            if synced and link.target in synced:
                self._apply(table, link.target, key, entry)
                link.lag.observe(0.0)
            elif link.push(ident, entry, ack) < self._drain_at - 0.002 and not link.paused:
                self._schedule_drain()

    def _record_truth(
        self, table: Table, key: Key, old: Entry | None, prepared: Prepared, entry: Entry
    ) -> None:
        item = prepared.item
        pred = old.vid if old is not None else None  # a write over a tombstone follows the delete
        if item is not None and not has_attr_vid(item):
            # an item-level write: `node_for` without its attribute bookkeeping (the hot path)
            vid = entry.vid
            if vid is None or (vid == pred and prepared.old_item is not None):
                return
            if table.truth.record(table.schema.label(key), key, WriteNode(vid, pred, None, None)):
                self._compact_truth(table)
            return
        if entry.vid is None and item is None:
            return
        old_item = prepared.old_item
        if old_item is None and old is not None and old.image is not None and item is not None:
            old_item = old.item()
        node = node_for(old_item, item, pred, entry.vid if item is None else None)
        if node is not None and table.truth.record(table.schema.label(key), key, node):
            self._compact_truth(table)

    def _compact_truth(self, table: Table) -> None:
        """Let ground truth decide what the versions alive now decide (`KeyTruth.compact`),
        so it grows with keys and lost writes, not with every write. Eventual mode only: an
        MRSC write may be applied in a region before the truth sees it."""
        if self.strong:
            return
        queued: dict[Key, set[str | None]] = {}
        for link in self.links.values():
            for (t, key), entry in link.queued():
                if t is table:
                    queued.setdefault(key, set()).add(entry.vid)
        replicas = list(table.replicas.values())

        def live(key: Key) -> set[str | None]:
            out = set(queued.get(key, ()))
            for replica in replicas:
                entry = replica.get(key)
                out.add(None if entry is None else entry.vid)
            return out

        table.truth.compact(live)

    def _apply(self, table: Table, region: str, key: Key, entry: Entry) -> bool:
        """Last-writer-wins: the incoming image replaces the stored one only if it is newer."""
        replica = table.replicas.get(region)
        if replica is None:
            return False  # no replica there (removed by ReplicaUpdates)
        prev = replica.get(key) if table.observed else None
        stored = replica.offer(key, entry)
        if stored is None:
            if table.observed:
                table.observe(region, key, prev, entry, None, "replicated")
            return True
        if stored is not entry:
            self.stats.lww_overwrite(region)
        return False

    # ---------------------------------------------------------------- replication

    def _schedule_drain(self) -> None:
        due = min(
            (d for lk in self.links.values() if (d := lk.next_due()) is not None), default=None
        )
        if due is None:
            return
        if self._drain_handle is not None:
            if due >= self._drain_at - 0.002:
                return
            self._drain_handle.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._drain_at = due
        wait = max(DRAIN_EVERY_S, due - time.monotonic())
        self._drain_handle = loop.call_later(wait, self._drain)

    def _drain(self) -> None:
        self._drain_handle = None
        self._drain_at = float("inf")
        now = time.monotonic()
        for link in self.links.values():
            due = link.take_due(now)
            if due:
                self._deliver_all(link, due, now)
        self._schedule_drain()

    def _deliver_all(self, link: ReplicationLink, due: list[Queued], now: float) -> None:
        """Apply a link's due images in its target (one tight loop: this runs per write)."""
        tables, target, counts = self.tables, link.target, link.lag.counts
        waited = 0.0
        for (table, key), entry, ack in due:
            if tables.get(table.name) is not table:
                continue  # deleted (perhaps re-created) since: its images are gone with it
            if table.observed:
                self._apply(table, target, key, entry)
            else:
                replica = table.replicas.get(target)
                stored = None if replica is None else replica.offer(key, entry)
                if stored is not None and stored is not entry:
                    self.stats.lww_overwrite(target)
            counts[bisect_left(LAG_BUCKETS, now - ack)] += 1
            waited += now - ack
        link.lag.total += waited

    def _deliver(self, link: ReplicationLink, delivery: Delivery, now: float) -> None:
        """Deliver one image (the `ReplicationLink.drain` callback)."""
        table, key, entry, ack = delivery
        self._deliver_all(link, [((table, key), entry, ack)], now)

    def backlog(self) -> int:
        return sum(lk.backlog for lk in self.links.values())

    async def quiesce(self, timeout_s: float) -> dict[str, Any]:
        """Wait until nothing is queued or in flight, then check that every region holds the
        same version of every item: "converged" is never said of regions that differ."""
        start = time.monotonic()
        while self.backlog() or self.inflight:
            if time.monotonic() - start >= timeout_s:
                return {"converged": False, "waited_s": time.monotonic() - start}
            self._schedule_drain()
            await asyncio.sleep(0.01)
        divergent = divergent_keys(self.tables.values())
        answer: dict[str, Any] = {"converged": not divergent, "waited_s": 0.0}
        if divergent:
            answer["divergent_keys"] = len(divergent)
            answer["examples"] = divergent[:10]
        answer["waited_s"] = time.monotonic() - start
        return answer

    # ---------------------------------------------------------------- reads and reachability

    def reachable(self, region: str) -> list[str]:
        """Regions this one can complete a synchronous round trip with."""
        if region in self.outages:
            return []
        return [
            p
            for p in self.regions
            if p != region
            and not self.links[(region, p)].paused
            and not self.links[(p, region)].paused
        ]

    def isolated(self, region: str) -> Exception:
        return unavailable(
            f"region {region} reaches no other region; MRSC serves only eventually consistent reads"
        )

    def latest(self, table: Table, region: str, key: Key) -> Entry | None:
        """The newest version among this region and those it reaches (MRSC's strong view)."""
        best = table.replicas[region].get(key)
        for peer in self.reachable(region):
            other = table.replicas[peer].get(key)
            if other is not None and (best is None or other.order() > best.order()):
                best = other
        return best

    def read(self, table: Table, region: str, key: Key, consistent: bool) -> Entry | None:
        if self.strong and consistent:
            if not self.reachable(region):
                raise self.isolated(region)
            return self.latest(table, region, key)
        return table.replicas[region].get(key)

    def _read_replicas(self, table: Table, region: str, consistent: bool) -> list[Replica]:
        """The replicas a read merges: its own, plus under MRSC (strongly consistent) those it
        reaches, so a Query/Scan sees the latest write from any region as GetItem does."""
        if not (self.strong and consistent):
            return [table.replicas[region]]
        peers = self.reachable(region)
        if not peers:
            raise self.isolated(region)
        return [table.replicas[r] for r in (region, *peers)]

    def read_partition(
        self, table: Table, region: str, hash_value: Any, consistent: bool
    ) -> list[tuple[Any, Entry]]:
        """One partition's (range value, entry) in range-key order, as `region` reads it."""
        replicas = self._read_replicas(table, region, consistent)
        if len(replicas) == 1:
            return replicas[0].partition(hash_value)
        return _newest(rep.partition(hash_value) for rep in replicas)

    def read_all(self, table: Table, region: str, consistent: bool) -> list[tuple[Key, Entry]]:
        """Every (key, entry), tombstones included, in key order (Scan's), as `region` reads it."""
        replicas = self._read_replicas(table, region, consistent)
        if len(replicas) == 1:
            return replicas[0].ordered()
        return _newest(rep.entries() for rep in replicas)

    # ---------------------------------------------------------------- faults

    def apply_fault(self, body: Any) -> str:
        fault = parse_fault(body, self.regions)
        fault_id = f"f{next(self._fault_ids)}"
        self.faults[fault_id] = fault
        self._recompute()
        return fault_id

    def heal(self, fault_id: str) -> None:
        if self.faults.pop(fault_id, None) is None:
            raise FaultError(f"no active fault with id {fault_id!r}; active: {sorted(self.faults)}")
        self._recompute()

    def heal_all(self) -> None:
        self.faults.clear()
        self._recompute()

    def _recompute(self) -> None:
        fx = FaultEffects(self.regions)
        for fault in self.faults.values():
            fault.impose(fx)
        for region, clock in self.clocks.items():
            wanted = fx.clocks.get(region, (0.0, 0.0, 0.0))
            if (clock.offset_s, clock.drift_ppm, clock.strobe_period_s) != wanted:
                clock.set(*wanted)
        now = time.monotonic()
        for pair, link in self.links.items():
            before = link.delay_s + link.jitter_s
            link.delay_s, link.jitter_s = fx.delays.get(pair, link.default)
            link.paused = pair in fx.paused
            if link.delay_s + link.jitter_s < before:
                link.retime(now)
        self.outages = fx.outages
        self.latency = fx.latency
        self._schedule_drain()

    def state(self) -> dict[str, Any]:
        return {
            "regions": self.regions,
            "mode": self.mode,
            "instance": self.instance,
            "clocks": {r: c.current_offset() for r, c in self.clocks.items()},
            "links": {lk.name: lk.state() for lk in self.links.values()},
            "outages": sorted(self.outages),
            "latency": dict(self.latency),
            "faults": {
                fid: {"fault": f.name, "target": f.target(), **f.model_dump(by_alias=True)}
                for fid, f in self.faults.items()
            },
            "tables": sorted(self.tables),
            # MRSC writes waiting for their round trip, by writing region: what a concurrent
            # write from another region conflicts with
            "in_flight": dict(Counter(region for region, _ in self.inflight.values())),
        }

    # ---------------------------------------------------------------- truth

    def truth(self, table: Table) -> dict[str, Any]:
        finals = {}
        for label, key in ((label, t.key) for label, t in table.truth.keys.items()):
            best: Entry | None = None
            for replica in table.replicas.values():
                e = replica.get(key)
                if e is not None and (best is None or e.order() > best.order()):
                    best = e
            finals[label] = (None, None) if best is None else (best.vid, best.item())
        return table.truth.report(finals)


def _newest(sources: Iterable[Iterable[tuple[Any, Entry]]]) -> list[tuple[Any, Entry]]:
    """Merge (key, entry) lists: the newest version of each key wins; in key order."""
    merged: dict[Any, Entry] = {}
    for pairs in sources:
        for k, entry in pairs:
            best = merged.get(k)
            if best is None or entry.order() > best.order():
                merged[k] = entry
    return sorted(merged.items(), key=lambda kv: kv[0])
