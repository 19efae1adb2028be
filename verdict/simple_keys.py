"""`judge_key`'s counts for many keys at once, with array operations.

Most keys that are not clean are still simple: acknowledged item-level writes only, and final
reads agreeing on one of the key's own writes. For them the version graph is the preds
alone, so sibling groups come from a sort on (key, pred), the final chain from walking preds
back from the final write (all keys in step), and skew-inverted wins from pairing each
candidate loser with its key's chain. Their conflicts, lost updates and inversions are
counted per (workload, region), time bucket and fault window here. Keys holding one of the
earliest anomalies of a kind (the ones the report quotes) are handed back to be judged one by
one, so the quoted examples, their order and evidence are exactly the per-key path's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from verdict.exposure import Exposure
from verdict.graph import VersionStore
from verdict.skew import DEFAULT_HORIZON_S

#: below this many chains still being walked, the rest are walked in Python
_NARROW = 64
#: loser x chain-write pairs examined at once, at most, for skew inversions
_PAIRS = 1 << 22


@dataclass
class BulkCounts:
    """Anomalies of the keys judged in bulk: write numbers and times, per kind."""

    conflicts: np.ndarray
    lost: np.ndarray
    skew: np.ndarray
    #: per lost write, when its exposure ended (`verdict.exposure`)
    lost_until: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: keys to judge one by one after all (they hold a quoted example)
    exact: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def simple_keys(store: VersionStore, candidates: np.ndarray) -> np.ndarray:
    """Of `candidates` (key numbers), those whose judgement follows from preds alone."""
    writes = len(store.w_vid)
    if not len(candidates) or not writes:
        return candidates[:0]
    w_key = np.frombuffer(store.w_key, dtype=np.int32)
    flags = np.frombuffer(bytes(store.w_flags), dtype=np.uint8)
    bad = np.zeros(len(store.key_head), dtype=bool)
    bad[w_key[flags != 0]] = True
    final = np.frombuffer(store.key_final, dtype=np.int32)[candidates]
    vid_write = np.frombuffer(store.vid_write, dtype=np.int32)
    last = np.where(final >= 0, vid_write[np.maximum(final, 0)], -1)
    ok = (last >= 0) & ~bad[candidates]
    ok[ok] = w_key[last[ok]] == candidates[ok]
    return candidates[ok]


def _kept(store: VersionStore, keys: np.ndarray) -> np.ndarray:
    """Per write: on the chain from its key's final write (keys in `keys` only)."""
    w_key = np.frombuffer(store.w_key, dtype=np.int32)
    pred = np.frombuffer(store.w_pred, dtype=np.int32)
    vid_write = np.frombuffer(store.vid_write, dtype=np.int32)
    kept = np.zeros(len(w_key), dtype=bool)
    cur = vid_write[np.frombuffer(store.key_final, dtype=np.int32)[keys]]
    while len(cur) > _NARROW:
        kept[cur] = True
        p = pred[cur]
        nxt = np.where(p >= 0, vid_write[np.maximum(p, 0)], -1)
        go = nxt >= 0
        go[go] = (w_key[nxt[go]] == w_key[cur[go]]) & ~kept[nxt[go]]
        cur = nxt[go]
    for w in cur.tolist():  # the few long chains left
        k = w_key[w]
        while w >= 0 and w_key[w] == k and not kept[w]:
            kept[w] = True
            p = pred[w]
            w = vid_write[p] if p >= 0 else -1
    return kept


def bulk_judge(
    store: VersionStore,
    keys: np.ndarray,
    horizons: dict[tuple[int, int], float],
    limit: int,
    spans: list[tuple[float, float]] | None = None,
    per_span: int = 0,
    exposure: Exposure | None = None,
) -> BulkCounts:
    """Conflicts, lost updates and skew inversions of `keys` (all simple). Keys holding an
    anomaly the report may quote (the `limit` earliest of a kind, or the `per_span` earliest
    inside a fault window; a lost update's window is any its exposure overlaps) are listed in
    `exact`, to be judged one by one. `exposure` dates the end of each lost write's exposure
    (`verdict.exposure`; None: the end of the run)."""
    empty = np.zeros(0, dtype=np.int64)
    key_of = np.frombuffer(store.w_key, dtype=np.int32)
    mine = np.zeros(len(store.key_head), dtype=bool)
    mine[keys] = True
    w = np.flatnonzero(mine[key_of]) if len(key_of) else empty
    if not len(w):
        return BulkCounts(empty, empty, empty)
    tinv = np.frombuffer(store.w_tinv, dtype=np.float64)
    pred = np.frombuffer(store.w_pred, dtype=np.int32)
    # sibling groups: same key and pred; each sorted by invocation, ties in write order
    order = w[np.lexsort((w, tinv[w], pred[w], key_of[w]))]
    k_o, p_o = key_of[order], pred[order]
    same = np.r_[False, (k_o[1:] == k_o[:-1]) & (p_o[1:] == p_o[:-1])]
    conflicts = order[same]  # every member but the first of its group
    group = np.cumsum(~same) - 1  # group number of each sorted write
    kept = _kept(store, keys)
    lost_mask = np.zeros(len(key_of), dtype=bool)
    lost_mask[w] = ~kept[w]
    lost = np.flatnonzero(lost_mask)
    skew = _inversions(store, order, group, kept, lost_mask, horizons)
    counts = BulkCounts(
        conflicts, lost, skew, _exposed_until(store, exposure, order, group, kept, lost)
    )
    # the first example of a conflict is dated by the group's second write
    starts = np.flatnonzero(~same)
    sizes = np.diff(np.r_[starts, len(order)])
    seconds = order[starts[sizes > 1] + 1]
    quoted = []
    for writes, until in ((seconds, None), (lost, counts.lost_until), (skew, None)):
        quoted.append(_earliest(tinv, writes, limit))
        t = tinv[writes]
        last = t if until is None else until
        for start, stop in (spans or []) if per_span else []:
            quoted.append(_earliest(tinv, writes[(last >= start) & (t <= stop)], per_span))
    counts.exact = np.unique(key_of[np.concatenate(quoted)]).astype(np.int64)
    return counts


def _exposed_until(
    store: VersionStore,
    exposure: Exposure | None,
    order: np.ndarray,
    group: np.ndarray,
    kept: np.ndarray,
    lost: np.ndarray,
) -> np.ndarray:
    """When each lost write stopped being exposed; its sibling that beat it is its sibling
    group's member on the final chain."""
    exposure = exposure or Exposure(store, float("inf"))
    winner_of = np.full(int(group.max()) + 1 if len(group) else 0, -1, dtype=np.int64)
    on_chain = kept[order]
    winner_of[group[on_chain]] = order[on_chain]
    sibling = np.full(len(kept), -1, dtype=np.int64)
    sibling[order] = winner_of[group]
    return exposure.ends(lost, np.flatnonzero(kept), sibling[lost])


def _earliest(t: np.ndarray, writes: np.ndarray, limit: int) -> np.ndarray:
    """The writes dated no later than the limit-th earliest (ties included)."""
    if len(writes) <= limit:
        return writes
    cut = np.partition(t[writes], limit - 1)[limit - 1]
    return writes[t[writes] <= cut]


def _inversions(
    store: VersionStore,
    order: np.ndarray,
    group: np.ndarray,
    kept: np.ndarray,
    lost: np.ndarray,
    horizons: dict[tuple[int, int], float],
) -> np.ndarray:
    """Lost siblings the kept sibling had completed before, that no later write on the
    final chain explains (see verdict.skew)."""
    tinv = np.frombuffer(store.w_tinv, dtype=np.float64)
    tcomp = np.frombuffer(store.w_tcomp, dtype=np.float64)
    region = np.frombuffer(store.w_region, dtype=np.uint16)
    key_of = np.frombuffer(store.w_key, dtype=np.int32)
    sizes = np.bincount(group)
    in_conflict = sizes[group] > 1
    winner_of = np.full(len(sizes), -1, dtype=np.int64)
    k = kept[order] & in_conflict
    winner_of[group[k]] = order[k]
    cand = lost[order] & in_conflict & (winner_of[group] >= 0)
    losers = order[cand]
    winners = winner_of[group[cand]]
    beaten = tcomp[winners] < tinv[losers]
    losers, winners = losers[beaten], winners[beaten]
    if not len(losers):
        return losers
    fallback = max(horizons.values(), default=DEFAULT_HORIZON_S)
    nreg = len(store.regions.names)
    horizon = np.full((nreg, nreg), fallback)
    for (a, b), h in horizons.items():
        horizon[a, b] = h
    # each loser against every write on its key's final chain
    chain = np.flatnonzero(kept)
    chain = chain[np.argsort(key_of[chain], kind="stable")]
    first = np.searchsorted(key_of[chain], key_of[losers], side="left")
    many = np.searchsorted(key_of[chain], key_of[losers], side="right") - first
    explained = np.zeros(len(losers), dtype=bool)
    for lo, hi in _slices(many):
        n = many[lo:hi]
        who = np.repeat(np.arange(lo, hi), n)
        offset = np.arange(len(who)) - np.repeat(np.cumsum(n) - n, n)
        x = chain[first[who] + offset]
        lw, ww = losers[who], winners[who]
        explains = (tinv[x] > tinv[ww]) & (x != ww) & (tcomp[x] > tinv[lw])
        explains &= tinv[x] < tcomp[lw] + horizon[region[lw], region[x]]
        explained[who[explains]] = True
    return losers[~explained]


def _slices(many: np.ndarray) -> list[tuple[int, int]]:
    """Runs of losers whose pairs stay under _PAIRS together (one loser may exceed it)."""
    out, lo, total = [], 0, 0
    for i, n in enumerate(many.tolist()):
        if total and total + n > _PAIRS:
            out.append((lo, i))
            lo, total = i, 0
        total += n
    out.append((lo, len(many)))
    return out
