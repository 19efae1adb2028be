"""Operation latency for latency budgets: t_complete − t_invoke of every acknowledged operation
of the workloads, by (op, region, workload).

Only acknowledged operations count (Google's SRE book, "Monitoring Distributed Systems":
the latency of failed requests is measured apart, or a fast refusal would flatter it; here a
failure counts in `failed_write_rate`). Final reads and lag probes are the harness's own
calls, not the workload's: left out. Both readers feed it: the per-record reader one record
at a time (`add`), the column readers a block at a time (`add_block`).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

import numpy as np

from verdict.stats import QUANTILES, nearest_rank

#: op names in the native scanner's code order (verdict/_scan.c: OP_PUT, ...)
OP_NAMES = ("put", "update", "delete", "get")
_CODES = {name: code for code, name in enumerate(OP_NAMES)}


class Latencies:
    def __init__(self) -> None:
        self._op, self._region, self._workload = array("b"), array("H"), array("H")
        self._seconds = array("d")
        self._blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, op: str, region: int, workload: int, t_invoke: float, t_complete: float) -> None:
        self._op.append(_CODES.get(op, -1))  # another op: in no `op` filter, in the rest
        self._region.append(region)
        self._workload.append(workload)
        self._seconds.append(t_complete - t_invoke)

    def add_block(
        self,
        op: np.ndarray,
        keep: np.ndarray,
        region: np.ndarray,
        workload: np.ndarray,
        t_invoke: np.ndarray,
        t_complete: np.ndarray,
    ) -> None:
        """The rows of a block where `keep` (acknowledged workload operations, op codes
        0-3 as OP_NAMES) and a completion time was recorded."""
        rows = np.flatnonzero(keep & (t_complete > 0))
        if len(rows):
            self._blocks.append(
                (op[rows].astype(np.int8), region[rows].astype(np.uint16),
                 workload[rows].astype(np.uint16), (t_complete - t_invoke)[rows])
            )  # fmt: skip

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        parts = [
            (np.frombuffer(self._op, np.int8), np.frombuffer(self._region, np.uint16),
             np.frombuffer(self._workload, np.uint16), np.frombuffer(self._seconds))
        ] + self._blocks  # fmt: skip
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(4))  # type: ignore[return-value]

    def select(
        self,
        op: str | None = None,
        regions: Sequence[int] | None = None,
        workloads: Sequence[int] | None = None,
    ) -> np.ndarray:
        """Sorted latencies (seconds) of the operations matching every filter given."""
        ops, region, workload, seconds = self.columns()
        mask = np.ones(len(seconds), dtype=bool)
        if op is not None:
            mask &= ops == OP_NAMES.index(op)
        if regions is not None:
            mask &= np.isin(region, regions)
        if workloads is not None:
            mask &= np.isin(workload, workloads)
        return np.sort(np.maximum(seconds[mask], 0.0))

    def by_op_region(
        self, region_names: Sequence[str]
    ) -> dict[str, dict[str, dict[str, float | int]]]:
        """verdict.json `latency`: op -> region -> {count, p50, p95, p99, max} in seconds,
        nearest-rank like every percentile of the verdict (an op outside OP_NAMES is left
        out; the region is the one the client was pinned to)."""
        op, region, _, seconds = self.columns()
        valid = (op >= 0) & (op < len(OP_NAMES))
        op, region, seconds = op[valid], region[valid], np.maximum(seconds[valid], 0.0)
        order = np.lexsort((seconds, region, op))
        op, region, seconds = op[order], region[order], seconds[order]
        out: dict[str, dict[str, dict[str, float | int]]] = {}
        if not len(op):
            return out
        edges = np.flatnonzero(np.r_[True, (op[1:] != op[:-1]) | (region[1:] != region[:-1])])
        for lo, hi in zip(edges.tolist(), [*edges[1:].tolist(), len(op)], strict=True):
            ranked = seconds[lo:hi]
            figures: dict[str, float | int] = {"count": hi - lo}
            for name, q in QUANTILES.items():
                figures[name] = round(float(nearest_rank(ranked, q)), 6)  # type: ignore[arg-type]
            figures["max"] = round(float(ranked[-1]), 6)
            out.setdefault(OP_NAMES[int(op[lo])], {})[region_names[int(region[lo])]] = figures
        return out
