"""The projected bill of a campaign: what the tested write pattern costs at production scale.

`CostAccumulator` sees every history record once (the verdict streams them), keeps the few
numbers a charged record's bill needs in columns, tallies the capacity units each region's own
clients consumed from those columns at once (numpy), and hands per-region unit rates scaled by
`cost.production_scale` to `verdict.cost.bill`, the same arithmetic as `hothot cost`.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from verdict.cost import (
    BOUNDARY_SLACK,
    KB,
    READ_BLOCK,
    CostSpec,
    RegionLoad,
    bill,
    price_sheet,
)
from verdict.cost_advice import boundary_advice, mode_advice, replica_advice

WRITE_OPS = frozenset({"put", "update", "delete"})
#: column flags of a charged record
_GET, _CONSISTENT, _REPLICATES = 1, 2, 4
NAN = float("nan")
#: rows per step of the column arithmetic
_CHUNK = 1 << 16


@dataclass
class RegionTally:
    """Counts at campaign scale for one region's own clients."""

    writes: int = 0
    write_units: float = 0.0
    replicated_units: float = 0.0
    replicated_bytes: int = 0
    billed_bytes: int = 0  # sum of max(before, after) over writes
    just_over: int = 0  # writes <= BOUNDARY_SLACK bytes over a 1 KB boundary
    just_over_replicated: int = 0
    reads: int = 0
    read_units: float = 0.0  # as the campaign read (ConsumedCapacity when returned)
    read_units_strong: float = 0.0
    read_units_eventual: float = 0.0
    #: writes whose store returned no ConsumedCapacity, and their units: a store's figure
    #: already holds that region's GSI writes, the others get them added (`cost.gsis`)
    plain_writes: int = 0
    plain_units: float = 0.0
    replicated_writes: int = 0

    def index_units(self, spec: CostSpec) -> tuple[float, float]:
        """(GSI units in the own region not in `write_units`, GSI units in each other
        replica) at campaign scale."""
        if not spec.gsis:
            return 0.0, 0.0
        if spec.gsi_item_bytes is None:  # ALL projection: an entry is the item
            return spec.gsis * self.plain_units, spec.gsis * self.replicated_units
        per_write = spec.index_units(spec.gsi_item_bytes)
        return per_write * self.plain_writes, per_write * self.replicated_writes


class PerSecond:
    """Units per whole second, each second's sum taken in record order: a dense array over
    the seconds seen, or a dict once they scatter (one bogus timestamp can span years)."""

    def __init__(self) -> None:
        self.lo = 0
        self.units = np.zeros(0)
        self.hit = np.zeros(0, dtype=bool)
        self.rows = 0
        self.sparse: dict[int, float] | None = None

    def add(self, sec: np.ndarray, units: np.ndarray) -> None:
        self.rows += len(sec)
        if not len(sec):
            return
        if self.sparse is None:
            lo = min(int(sec.min()), self.lo if len(self.units) else int(sec.min()))
            hi = max(int(sec.max()), self.lo + len(self.units) - 1)
            if hi - lo + 1 <= 4 * self.rows + 1024:
                if lo < self.lo or hi >= self.lo + len(self.units) or not len(self.units):
                    self._grow(lo, hi)
                np.add.at(self.units, sec - self.lo, units)  # in record order, like `+=`
                self.hit[sec - self.lo] = True
                return
            self.sparse = self.as_dict()
        sparse = self.sparse
        for second, u in zip(sec.tolist(), units.tolist(), strict=True):
            sparse[second] = sparse.get(second, 0.0) + u

    def _grow(self, lo: int, hi: int) -> None:
        units, hit = np.zeros(hi - lo + 1), np.zeros(hi - lo + 1, dtype=bool)
        if len(self.units):
            at = self.lo - lo
            units[at : at + len(self.units)] = self.units
            hit[at : at + len(self.hit)] = self.hit
        self.lo, self.units, self.hit = lo, units, hit

    def as_dict(self) -> dict[int, float]:
        if self.sparse is not None:
            return dict(self.sparse)
        seen = np.flatnonzero(self.hit)
        return dict(zip((seen + self.lo).tolist(), self.units[seen].tolist(), strict=True))


def _sum(total: float, x: np.ndarray) -> float:
    """`total` plus x, left to right (what `+=` per record gives; numpy's `sum` is pairwise)."""
    return float(np.cumsum(np.concatenate(([total], x)))[-1]) if len(x) else total


class CostAccumulator:
    """Feed it every history record with `observe`, then ask for `result`.

    `observe` only keeps the few numbers a charged record's bill needs, in columns; the
    units are computed a chunk of records at a time (numpy), because per-record arithmetic
    in the verdict's hot loop cost twice the parse of the record itself, and the chunk is
    then dropped: what stays is a tally per region and the units per second, so the bill of
    a history of any length fits in memory. Sums run in record order, chunk after chunk, so
    they are the same however the records were fed."""

    def __init__(self) -> None:
        self._region_ids: dict[str, int] = {}
        self._region = array("H")
        self._flags = bytearray()
        self._size = array("q")
        self._old = array("q")
        self._capacity = array("d")  # NaN: the store returned no ConsumedCapacity
        self._t = array("d")
        self._tallies: dict[str, RegionTally] = {}
        self._seconds = PerSecond()

        self.observe = self._observer()

    def _observer(self) -> Callable[[dict[str, Any]], None]:
        """`observe(record)`: called once per history record, so everything it touches is
        bound to a local once."""
        region_ids = self._region_ids
        add_capacity, add_size, add_old = (
            self._capacity.append,
            self._size.append,
            self._old.append,
        )
        add_t, add_region, add_flags = self._t.append, self._region.append, self._flags.append

        def observe(record: dict[str, Any]) -> None:
            get = record.get
            op = get("op")
            if op == "get":
                if get("outcome") != "ok":
                    return
                flags = _GET | _CONSISTENT if get("consistent") else _GET
                old = 0
            elif op in WRITE_OPS:
                outcome = get("outcome")
                if outcome == "ok" or outcome == "unknown":  # may have happened: upper bound
                    flags = _REPLICATES
                elif outcome == "fail" and "ConditionalCheck" in str(get("error", "")):
                    flags = 0  # a failed condition consumes write units, replicates nothing
                else:
                    return
                old = get("old_bytes")
                old = int(old) if old else 0
            else:
                return
            key = get("key", "")
            if get("final") or (key if key.__class__ is str else str(key)).startswith("hh#"):
                return  # harness traffic (final reads, heartbeats) is not the workload's
            # every conversion that may reject the record runs before any column grows
            capacity = get("capacity")
            capacity = float(capacity) if capacity else NAN
            size = get("item_bytes")
            size = int(size) if size else 0
            t = float(get("t_complete", 0.0))
            region = get("region", "?")
            r = region_ids.get(region)
            if r is None:
                region = str(region)
                r = region_ids.get(region)
                if r is None:
                    r = region_ids[region] = len(region_ids)
            add_capacity(capacity)
            add_size(size)
            add_old(old)
            add_t(t)
            add_region(r)
            add_flags(flags)

        return observe

    def observe_columns(
        self, names: list[str], region: np.ndarray, flags: np.ndarray, size: np.ndarray,
        old: np.ndarray, capacity: np.ndarray, t: np.ndarray,
    ) -> None:  # fmt: skip
        """Many charged records at once (`verdict.store_builder`), the columns `observe` keeps:
        `region` indexes `names`, `flags` as `observe` sets them, `capacity` NaN when absent."""
        if not len(region):
            return
        codes, first = np.unique(region, return_index=True)
        ids = np.zeros(int(codes[-1]) + 1, dtype=np.uint16)
        for code in codes[np.argsort(first)].tolist():  # in order of first charge
            name = names[code]
            r = self._region_ids.get(name)
            if r is None:
                r = self._region_ids[name] = len(self._region_ids)
            ids[code] = r
        self._region.frombytes(ids[region].tobytes())
        self._flags.extend(flags.astype(np.uint8).tobytes())
        self._size.frombytes(size.astype(np.int64).tobytes())
        self._old.frombytes(old.astype(np.int64).tobytes())
        self._capacity.frombytes(capacity.astype(np.float64).tobytes())
        self._t.frombytes(t.astype(np.float64).tobytes())
        if len(self._flags) >= _CHUNK:
            self._flush()

    def _flush(self) -> None:
        """The pending rows' units into the tallies and the per-second load; rows dropped."""
        n = len(self._flags)
        if not n:
            return
        for name in self._region_ids:  # in the order regions were first charged
            self._tallies.setdefault(name, RegionTally())
        t = np.frombuffer(self._t, dtype=np.float64)
        for start in range(0, n, _CHUNK):
            rows = slice(start, start + _CHUNK)
            units = self._tally_chunk(rows, self._tallies)
            self._seconds.add(np.trunc(t[rows]).astype(np.int64), units)
        del t
        for column in (self._region, self._size, self._old, self._capacity, self._t):
            del column[:]
        del self._flags[:]

    def _compute(self) -> tuple[dict[str, RegionTally], dict[int, float]]:
        """Per-region tallies and units per whole second of completion."""
        self._flush()
        return self._tallies, self._seconds.as_dict()

    def _tally_chunk(self, rows: slice, tallies: dict[str, RegionTally]) -> np.ndarray:
        """Adds the rows' units to `tallies`; returns each row's units (per-second load)."""
        flags = np.frombuffer(self._flags, dtype=np.uint8)[rows]
        region = np.frombuffer(self._region, dtype=np.uint16)[rows]
        size = np.frombuffer(self._size, dtype=np.int64)[rows]
        cap = np.frombuffer(self._capacity, dtype=np.float64)[rows]
        is_get = (flags & _GET) != 0
        consistent = (flags & _CONSISTENT) != 0
        replicates = (flags & _REPLICATES) != 0
        given = ~np.isnan(cap)
        # reads: per started 4 KB, at least 1, half if eventual; the store's figure when
        # the size is unrecorded
        strong = np.maximum(1, -(-size // READ_BLOCK)).astype(np.float64)
        from_cap = given & (size == 0)
        strong = np.where(from_cap, cap * np.where(consistent, 1.0, 2.0), strong)
        eventual = strong / 2
        read_units = np.where(given, cap, np.where(consistent, strong, eventual))
        # writes: the larger image, per started KB, at least 1
        billed = np.maximum(size, np.frombuffer(self._old, dtype=np.int64)[rows])
        w_units = np.maximum(1, -(-billed // KB)).astype(np.float64)
        over = billed % KB
        just_over = (billed > KB) & (over > 0) & (over <= BOUNDARY_SLACK)
        app_units = np.where(given, cap, w_units)
        for name, r in self._region_ids.items():
            mine = region == r
            g, w = mine & is_get, mine & ~is_get
            wr = w & replicates
            tally = tallies[name]
            tally.writes += int(w.sum())
            tally.write_units = _sum(tally.write_units, app_units[w])
            tally.replicated_units = _sum(tally.replicated_units, w_units[wr])
            plain = w & ~given
            tally.plain_writes += int(plain.sum())
            tally.plain_units = _sum(tally.plain_units, w_units[plain])
            tally.replicated_writes += int(wr.sum())
            tally.replicated_bytes += int(size[wr].sum())
            tally.billed_bytes += int(billed[w].sum())
            tally.just_over += int(just_over[w].sum())
            tally.just_over_replicated += int(just_over[wr].sum())
            tally.reads += int(g.sum())
            tally.read_units = _sum(tally.read_units, read_units[g])
            tally.read_units_strong = _sum(tally.read_units_strong, strong[g])
            tally.read_units_eventual = _sum(tally.read_units_eventual, eventual[g])
        return np.where(is_get, np.where(consistent, strong, eventual), w_units)

    @property
    def tallies(self) -> dict[str, RegionTally]:
        """Per-region counts, in the order regions were first charged."""
        return self._compute()[0]

    def peak_to_average(self) -> float | None:
        """Busiest whole second over the mean second, first and last (partial) seconds
        dropped; None when the campaign is too short to say."""
        by_second = self._compute()[1]
        if len(by_second) < 3:
            return None
        first, last = min(by_second), max(by_second)
        # idle seconds count as 0 without being listed: one wild timestamp can span years
        inner = [by_second[s] for s in sorted(by_second) if first < s < last]
        span = last - first - 1
        mean = sum(inner) / span
        peak = max(inner) if len(inner) == span else max(0.0, *inner)
        return peak / mean if mean > 0 else None

    def scales(self, duration_s: float, regions: list[str], spec: CostSpec) -> dict[str, float]:
        """Per region, what its measured traffic is multiplied by: `production_scale`, or
        `production_rate` over the operations per second the region's clients measured."""
        if spec.production_rate is None:
            return dict.fromkeys(regions, spec.production_scale)
        out = {}
        for region in regions:
            t = self.tallies.get(region, RegionTally())
            measured = (t.writes + t.reads) / duration_s
            out[region] = spec.production_rate / measured if measured else 0.0
        return out

    def loads(self, duration_s: float, regions: list[str], spec: CostSpec) -> list[RegionLoad]:
        """Per-region unit rates at production scale."""
        scales = self.scales(duration_s, regions, spec)
        out = []
        for region in regions:
            rate = scales[region] / duration_s
            t = self.tallies.get(region, RegionTally())
            reads = {
                None: t.read_units,
                "strong": t.read_units_strong,
                "eventual": t.read_units_eventual,
            }[spec.read_consistency]
            own_index, replicated_index = t.index_units(spec)
            out.append(
                RegionLoad(
                    region,
                    t.write_units * rate,
                    t.replicated_units * rate,
                    reads * rate,
                    t.replicated_bytes * rate,
                    own_index * rate,
                    replicated_index * rate,
                )
            )
        return out

    def result(self, duration_s: float, regions: list[str], spec: CostSpec) -> dict[str, Any]:
        """The projected monthly bill (`bill`'s shape) plus what was measured and advice."""
        if duration_s <= 0:
            raise ValueError(f"cost: campaign duration must be positive, got {duration_s}")
        if not regions:
            raise ValueError("cost: the campaign has no regions")
        regions = list(regions) + sorted(set(self.tallies) - set(regions))
        loads = self.loads(duration_s, regions, spec)
        result = bill(loads, spec)
        result["production_scale"] = spec.production_scale
        result["prices_taken"] = price_sheet().taken
        result["measured"] = {
            region: {
                "writes_per_s": t.writes / duration_s,
                "reads_per_s": t.reads / duration_s,
                "mean_billed_item_bytes": t.billed_bytes / t.writes if t.writes else 0.0,
                "write_units_per_write": t.write_units / t.writes if t.writes else 0.0,
                "just_over_boundary": t.just_over,
            }
            for region, t in self.tallies.items()
        }
        advice = [mode_advice(loads, spec, self.peak_to_average())]
        if (rep := replica_advice(loads, spec)) is not None:
            advice.append(rep)
        writes = sum(t.writes for t in self.tallies.values())
        just_over = sum(t.just_over for t in self.tallies.values())
        if just_over:
            scales = self.scales(duration_s, regions, spec)
            trimmed = [
                replace(
                    ld,
                    write_units=ld.write_units
                    - self.tallies[ld.region].just_over * scales[ld.region] / duration_s,
                    replicated_units=ld.replicated_units
                    - self.tallies[ld.region].just_over_replicated * scales[ld.region] / duration_s,
                )
                if ld.region in self.tallies
                else ld
                for ld in loads
            ]
            advice.append(boundary_advice(loads, trimmed, spec, just_over / writes))
        result["advice"] = advice
        result["basis"] = self.basis(duration_s, regions, spec)
        usd = result["total"]["monthly_usd"]
        share = usd["replicated_writes"] / usd["total"] if usd["total"] else 0.0
        result["answer"] = (
            f"{result['basis']} over {len(regions)} regions: ${usd['total']:,.2f}/month "
            f"{result['mode']}, {share:.0%} of it replicated writes."
        )
        return result

    def basis(self, duration_s: float, regions: list[str], spec: CostSpec) -> str:
        """What the projection prices, in words: never a production bill unless the user
        stated production's rate."""
        if spec.production_rate is None:
            return f"The rig's measured traffic × {spec.production_scale:g} (cost.production_scale)"
        ops = sum(t.writes + t.reads for r, t in self.tallies.items() if r in regions)
        measured = ops / duration_s / max(len(regions), 1)
        return (
            f"At {spec.production_rate:,.6g} operations/s per region (cost.production_rate; "
            f"the rig measured {measured:,.1f}/s per region), the same mix"
        )
