"""Columns out of lists of decoded rows (`verdict.columns.Row`), and the containers the
columnar store is built in. Every helper keeps the per-record reader's meaning of a value
(`if x` truthiness; None or UNSET for absent)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple

import msgspec
import numpy as np

from verdict.columns import Row
from verdict.graph import FinalRead

UNSET = msgspec.UNSET


class Growable:
    """A numpy column that grows by doubling, new slots set to `fill`."""

    def __init__(self, dtype: Any, fill: int) -> None:
        self.a = np.full(1024, fill, dtype=dtype)
        self.n = 0
        self.fill = fill

    def grow_to(self, n: int) -> None:
        if n > len(self.a):
            bigger = np.full(max(n, 2 * len(self.a)), self.fill, dtype=self.a.dtype)
            bigger[: self.n] = self.a[: self.n]
            self.a = bigger
        self.n = max(self.n, n)

    @property
    def view(self) -> np.ndarray:
        return self.a[: self.n]


def pick(values: list[Any], idx: np.ndarray) -> list[Any]:
    if len(idx) == len(values):
        return values
    if len(idx) == 0:
        return []
    if len(idx) == 1:
        return [values[int(idx[0])]]
    return list(itemgetter(*idx.tolist())(values))


def first_index(names: list[Any]) -> dict[Any, int]:
    """name -> its first position in `names` (C-level: later duplicates are overwritten by
    earlier ones when walking backwards)."""
    return dict(zip(reversed(names), range(len(names) - 1, -1, -1), strict=True))


def column(rows: list[Row], name: str) -> list[Any]:
    return list(map(attrgetter(name), rows))


def truthy(values: list[Any]) -> np.ndarray:
    """Per value: truthy (the per-record reader's `if x`), with the all-set case short."""
    if None not in values and "" not in values and False not in values:
        return np.ones(len(values), dtype=bool)
    return np.array(values, dtype=object).astype(bool)


def given(values: list[Any]) -> bool:
    """Some row carries the field (None: absent or null)."""
    return values.count(None) != len(values)


def floats(values: list[Any], missing: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """A float64 column; `missing` entries (None or UNSET) become NaN and are flagged."""
    if missing not in values:
        return np.array(values, dtype=np.float64), None
    absent = np.fromiter((v is missing for v in values), bool, len(values))
    obj = np.array(values, dtype=object)
    obj[absent] = np.nan
    return obj.astype(np.float64), absent


class FinalReads(Mapping[int, list[FinalRead]]):
    """The final reads in columns; one key's list is built when asked (only keys judged one
    by one ask)."""

    def __init__(
        self, keys: int, key: np.ndarray, region: np.ndarray, vid: np.ndarray, values: dict,
        attrs: dict,
    ) -> None:  # fmt: skip
        self._order = np.argsort(key, kind="stable")
        counts = np.bincount(key, minlength=keys)
        hi = np.cumsum(counts)
        self._lo, self._hi = (hi - counts).tolist(), hi.tolist()
        self._keys = np.flatnonzero(counts).tolist()
        self._region, self._vid, self._values, self._attrs = region, vid, values, attrs

    def __getitem__(self, k: int) -> list[FinalRead]:
        lo, hi = (self._lo[k], self._hi[k]) if 0 <= k < len(self._lo) else (0, 0)
        if lo == hi:
            raise KeyError(k)
        region, vid, values, attrs = self._region, self._vid, self._values, self._attrs
        return [
            FinalRead(int(region[r]), int(vid[r]), attrs.get(r, ()), values.get(r))
            for r in self._order[lo:hi].tolist()
        ]

    def __iter__(self) -> Iterator[int]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


class Block(NamedTuple):
    """One block's columns after interning, however they were read (msgspec rows or the
    native scanner): what `ColumnIngester.apply` needs. Codes index the store's tables;
    -1 where a row has none."""

    op: np.ndarray
    outcome: np.ndarray
    final: np.ndarray  # bool: the `final` flag
    region: np.ndarray
    workload: np.ndarray
    key: np.ndarray
    vid: np.ndarray
    pred: np.ndarray
    t_inv: np.ndarray  # NaN: absent
    t_comp: np.ndarray  # 0.0: absent
    probe: np.ndarray  # bool: a probe with a lag and a target
    target: np.ndarray  # a probe's target region
    lag: np.ndarray
    harness: np.ndarray  # bool: the key is the harness's own (hh#...), never charged
    strong: np.ndarray  # bool: a strongly consistent read
    size: np.ndarray  # item bytes, 0 when absent
    old: np.ndarray  # the replaced item's bytes, 0 when absent
    capacity: np.ndarray  # consumed capacity, NaN when absent or 0
    #: row(i) -> the Row of line i, for the rare fields kept out of the columns
    row: Callable[[int], Row]


def cost_columns(rows: list[Row], keys: list[Any]) -> tuple[np.ndarray, ...]:
    """The columns the bill reads, by `CostAccumulator.observe`'s rules: (harness key,
    strong read, item bytes, old bytes, capacity or NaN)."""
    n = len(rows)
    harness = np.zeros(n, dtype=bool)
    named = [k for k in keys if k is not UNSET] if UNSET in keys else keys
    if "hh#" in "\n".join(named):  # harness keys (heartbeats) somewhere: find them
        harness = np.fromiter((k is not UNSET and k.startswith("hh#") for k in keys), bool, n)
    strong = np.zeros(n, dtype=bool)
    consistent = [r.consistent for r in rows]
    if given(consistent):
        strong = truthy(consistent)
    size = np.zeros(n, dtype=np.int64)
    sizes = [r.item_bytes for r in rows]
    if given(sizes):
        size = np.array([x or 0 for x in sizes], dtype=np.int64)
    old = np.zeros(n, dtype=np.int64)
    olds = [r.old_bytes for r in rows]
    if given(olds):
        old = np.array([x or 0 for x in olds], dtype=np.int64)
    capacity = np.full(n, np.nan)
    capacities = [r.capacity for r in rows]
    if given(capacities):
        capacity = np.array([x or np.nan for x in capacities], np.float64)
    return harness, strong, size, old, capacity
