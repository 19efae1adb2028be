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
