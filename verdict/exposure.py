"""How long a lost update was exposed: from its invocation until it was overwritten.

Last-writer-wins discards a write when a version of another branch replaces it; a fault
matters to that write whenever it holds the two apart, which is often after the write was
invoked (a write made just before a partition or an outage is discarded after the heal). So a
lost update is attributed to every fault window that overlaps its exposure, which ends at the
earliest of:

- the completion of the first write on the final chain made in the lost write's region and
  invoked after it completed: that region then held the winning branch (observed);
- the arrival in its region of the sibling that beat it: the sibling's completion plus the
  lag of the first probe on that link written after it (estimated; per-item order on a link
  and the held queue of a cut link make that the sibling's own fate too). Without probes on
  the link, the run's largest observed lag stands in (1 s when no probe measured anything);
- the end of the run, when neither is known.

`Exposure.ends` takes many lost writes at once; the checker's per-key and bulk paths both call
it, so they give the same figures.
"""

from __future__ import annotations

import numpy as np

from verdict.graph import VersionStore
from verdict.skew import DEFAULT_HORIZON_S


class Exposure:
    """The exposure ends of lost writes in one history; `end`: the last thing it records
    (the latest invocation given, a write's completion or a probe's arrival)."""

    def __init__(
        self, store: VersionStore, end: float, t_complete_max: float | None = None
    ) -> None:
        """`t_complete_max`: the latest completion of any write of the history (None: of
        the store's; a key bucket's store holds only some)."""
        self.store = store
        self.region = np.frombuffer(store.w_region, dtype=np.uint16).astype(np.int64)
        self.key = np.frombuffer(store.w_key, dtype=np.int32).astype(np.int64)
        self.tinv = np.frombuffer(store.w_tinv, dtype=np.float64)
        self.tcomp = np.frombuffer(store.w_tcomp, dtype=np.float64)
        lags = [max(lag) for lag in store.lags.values() if len(lag)]
        self.fallback = max(lags, default=DEFAULT_HORIZON_S)
        #: link -> probe write times (sorted), earliest arrival of a probe written at or after
        self.links: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        if t_complete_max is None:
            t_complete_max = float(self.tcomp.max()) if len(self.tcomp) else end
        last = [end, t_complete_max]
        for link, times in store.probe_t.items():
            t = np.frombuffer(times, dtype=np.float64)
            order = np.argsort(t, kind="stable")
            arrival = (t + np.frombuffer(store.lags[link], dtype=np.float64))[order]
            self.links[link] = (t[order], np.minimum.accumulate(arrival[::-1])[::-1])
            last.append(float(arrival.max()) if len(arrival) else end)
        self.end = max(last)

    def ends(self, lost: np.ndarray, chain: np.ndarray, siblings: np.ndarray) -> np.ndarray:
        """Per write in `lost`: when its exposure ended. `chain`: final-chain writes of the
        same keys; `siblings[i]`: the kept sibling that beat `lost[i]`, or -1."""
        if not len(lost):
            return np.zeros(0)
        done = np.minimum(self._region_moved_on(lost, chain), self._sibling_arrived(lost, siblings))
        return np.maximum(done, self.tcomp[lost])

    def _region_moved_on(self, lost: np.ndarray, chain: np.ndarray) -> np.ndarray:
        """The completion of the first final-chain write of the same key and region invoked
        after each lost write completed; the end of the run when there is none."""
        nreg = max(len(self.store.regions.names), 1)
        code = np.concatenate([self.key[chain] * nreg + self.region[chain],
                               self.key[lost] * nreg + self.region[lost]])  # fmt: skip
        t = np.concatenate([self.tinv[chain], self.tcomp[lost]])
        # at one instant a chain write sorts first: it must be invoked strictly after
        is_lost = np.r_[np.zeros(len(chain), dtype=bool), np.ones(len(lost), dtype=bool)]
        tie = np.concatenate([self.tcomp[chain], np.zeros(len(lost))])
        order = np.lexsort((tie, is_lost, t, code))
        position = np.empty(len(order), dtype=np.int64)
        position[order] = np.arange(len(order))
        chain_at = np.sort(position[: len(chain)])
        nxt = np.searchsorted(chain_at, position[len(chain) :], side="right")
        out = np.full(len(lost), self.end)
        found = np.flatnonzero(nxt < len(chain_at))
        first = order[chain_at[nxt[found]]]  # a chain write's index in the concatenation
        same = code[first] == code[len(chain) + found]
        out[found[same]] = self.tcomp[chain[first[same]]]
        return out

    def _sibling_arrived(self, lost: np.ndarray, siblings: np.ndarray) -> np.ndarray:
        out = np.full(len(lost), self.end)
        has = np.flatnonzero(siblings >= 0)
        if not len(has):
            return out
        sib = siblings[has]
        sent = self.tcomp[sib]
        source, target = self.region[sib], self.region[lost[has]]
        arrived = sent + self.fallback
        for a, b in set(zip(source.tolist(), target.tolist(), strict=True)):
            probes = self.links.get((a, b))
            if probes is None:
                continue
            times, earliest = probes
            on = np.flatnonzero((source == a) & (target == b))
            i = np.searchsorted(times, sent[on], side="left")
            seen = i < len(times)
            arrived[on[seen]] = earliest[i[seen]]
        out[has] = np.minimum(arrived, self.end)
        return out
