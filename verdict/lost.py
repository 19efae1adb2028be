"""Conflicts and lost updates of one key, from its version graph (docs/architecture.md).

A conflict is a version replaced by k > 1 counted writes (k - 1 conflicts). A write is lost
when it is neither the final version nor an ancestor of it; attribute-level writes are
judged on each attribute's own chain. Because a write's graph edge comes from what *its*
region replaced, a write that lost last-writer-wins in one region while a descendant won
elsewhere is an ancestor of the final version, hence not lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from verdict.graph import ATTR_LEVEL, DELETE, PRED_UNKNOWN, VersionStore

ABSENT = -1


@dataclass
class KeyJudgement:
    """The verdict on one key; write numbers index the store's per-write arrays."""

    key: int
    counted: list[int]
    unresolved: list[int]  # unknown outcome, never observed: kept apart, never lost
    conflicts: list[list[int]]  # sibling groups: counted writes replacing the same version
    lost: list[int]
    final_vids: set[int]  # the final reads' vids (ABSENT: no item); empty: no final read
    divergent: bool
    kept: set[int] = field(default_factory=set)  # writes on the final chain(s)
    flagged: bool = False  # some write is a delete, attribute-level or of unknown outcome
    #: a write of unknown outcome that happened, whose predecessor no answer told, could
    #: have replaced another counted write (`_undetermined`): nothing is counted lost
    #: (`lost` stays empty), its conflicts leave that write out, the key is reported apart
    undetermined: bool = False

    @property
    def judged(self) -> bool:
        return bool(self.final_vids)

    @property
    def conflict_count(self) -> int:
        return sum(len(g) - 1 for g in self.conflicts)


def _parents(store: VersionStore, counted: list[int]) -> dict[int, int]:
    """Each counted write's parent vid. A write that found the item absent after a delete
    is attached to that delete (the latest one acknowledged before it was invoked, same
    region first), since the client cannot read a tombstone's vid."""
    parent = {w: store.w_pred[w] for w in counted}
    deletes = [w for w in counted if store.w_flags[w] & DELETE]
    if not deletes:
        return parent
    for w in counted:
        if parent[w] != ABSENT or store.w_flags[w] & (DELETE | PRED_UNKNOWN):
            continue
        before = [d for d in deletes if store.w_tcomp[d] <= store.w_tinv[w]]
        same = [d for d in before if store.w_region[d] == store.w_region[w]]
        pick = same or before
        if pick:
            parent[w] = store.w_vid[max(pick, key=store.w_tcomp.__getitem__)]
    return parent


def pred_unknown(store: VersionStore, w: int) -> bool:
    """A write of unknown outcome (a timeout) whose record names no pred: no answer said what
    it replaced, so its pred -1 is not "the item was absent"."""
    return bool(store.w_flags[w] & PRED_UNKNOWN)


def _undetermined(
    store: VersionStore, counted: list[int], parent: dict[int, int], unknown: list[int]
) -> bool:
    """Whether a write whose predecessor is unknown leaves the key's figures undecided: it
    could have replaced any counted write that is not its own descendant (that write would
    then be its ancestor, not lost; and it could be its sibling). Decided when every other
    counted write descends from it (by the preds the answers told): then it replaced nothing
    recorded and has no sibling."""
    if len(unknown) > 1:  # neither can descend from the other
        return True
    if len(counted) == 1:
        return False
    root, vid_write = unknown[0], store.vid_write
    children: dict[int, list[int]] = {}
    for w in counted:
        p = parent[w]
        pw = vid_write[p] if p >= 0 else -1
        if pw >= 0:
            children.setdefault(pw, []).append(w)
    below, todo = {root}, [root]
    while todo:
        for c in children.get(todo.pop(), ()):
            if c not in below:
                below.add(c)
                todo.append(c)
    return len(below) < len(counted)


def _chain(store: VersionStore, k: int, vid: int, parent: dict[int, int], kept: set[int]) -> None:
    vid_write, w_key, w_pred = store.vid_write, store.w_key, store.w_pred
    w = vid_write[vid] if vid >= 0 else -1
    while w >= 0 and w_key[w] == k and w not in kept:
        kept.add(w)
        pv = parent[w] if w in parent else w_pred[w]
        w = vid_write[pv] if pv >= 0 else -1


def _attr_kept(
    store: VersionStore, k: int, finals_attrs: set[tuple[str, int]]
) -> set[tuple[str, int]]:
    """(attribute, write) pairs on each attribute's final chain."""
    kept: set[tuple[str, int]] = set()
    for a, vid in finals_attrs:
        w = store.vid_write[vid]
        while w >= 0 and store.w_key[w] == k and (a, w) not in kept:
            own_preds = store.w_attrs.get(w)
            if own_preds is None or a not in own_preds[0]:
                break
            kept.add((a, w))
            pv = own_preds[1][a]
            w = store.vid_write[pv] if pv >= 0 else -1
    return kept


def judge_key(store: VersionStore, k: int) -> KeyJudgement:
    writes = store.writes_of(k)
    flags, w_pred = store.w_flags, store.w_pred
    flagged = any(flags[w] for w in writes)
    if flagged:
        counted = [w for w in writes if store.counted(w)]
        unresolved = [w for w in writes if not store.counted(w)]
        parent = _parents(store, counted)
    else:  # the common case: acknowledged item-level writes only; parents are the preds
        counted, unresolved, parent = writes, [], {}
    preds = list(parent.values()) if parent else [w_pred[w] for w in writes]
    unknown = [w for w in counted if pred_unknown(store, w)] if flagged else []
    conflicts: list[list[int]] = []
    if len(set(preds)) < len(counted):
        siblings: dict[int, list[int]] = {}
        for w, p in zip(counted, preds, strict=True):
            if not (unknown and w in unknown):  # what it replaced is not known
                siblings.setdefault(p, []).append(w)
        conflicts = [g for g in siblings.values() if len(g) > 1]
    finals = store.finals.get(k, [])
    final_vids = {f.vid for f in finals}
    divergent = any(f.vid != finals[0].vid or f.attrs != finals[0].attrs for f in finals)
    judgement = KeyJudgement(k, counted, unresolved, conflicts, [], final_vids, divergent)
    judgement.flagged = flagged
    if not finals:
        return judgement
    kept = judgement.kept
    for vid in final_vids:
        if vid != ABSENT:
            _chain(store, k, vid, parent, kept)
    if ABSENT in final_vids:
        has_child = set(preds)
        leaves = [w for w in counted if flags[w] & DELETE and store.w_vid[w] not in has_child]
        if leaves:
            last = max(leaves, key=store.w_tcomp.__getitem__)
            _chain(store, k, store.w_vid[last], parent, kept)
    if unknown and _undetermined(store, counted, parent, unknown):
        judgement.undetermined = True  # nothing counted lost: any could be an ancestor
        return judgement
    lost = judgement.lost
    if not any(f.attrs for f in finals) and not store.w_attrs:
        lost.extend(w for w in counted if w not in kept)
        return judgement
    attr_kept = _attr_kept(store, k, {a for f in finals for a in f.attrs})
    for w in counted:
        if flags[w] & ATTR_LEVEL:
            if any((a, w) not in attr_kept for a in store.w_attrs[w][0]):
                lost.append(w)
        elif w not in kept:
            lost.append(w)
    return judgement


def clean_keys(store: VersionStore) -> np.ndarray:
    """Per key: True when `judge_key` would find nothing to report, decided for all keys at
    once with array operations, so only the rest are judged one by one.

    A clean key has only acknowledged item-level writes, final reads that all agree on one
    of its writes, no two writes replacing the same version, and one chain of preds from
    that final write through every write of the key. Every link must go back in time
    (invocation), which rules out cycles, so the chain covers all n writes exactly when
    there are n - 1 links and the final write replaces nothing newer."""
    keys, writes = len(store.key_head), len(store.w_vid)
    if writes == 0 or keys == 0:
        return np.zeros(keys, dtype=bool)
    w_key = np.frombuffer(store.w_key, dtype=np.int32).copy()
    pred = np.frombuffer(store.w_pred, dtype=np.int32).copy()
    tinv = np.frombuffer(store.w_tinv, dtype=np.float64).copy()
    vid_write = np.frombuffer(store.vid_write, dtype=np.int32).copy()
    final = np.frombuffer(store.key_final, dtype=np.int32).copy()
    bad = np.zeros(keys, dtype=bool)
    bad[w_key[np.frombuffer(bytes(store.w_flags), dtype=np.uint8) != 0]] = True
    # siblings: two writes of a key with the same pred (the absent item included)
    pairs = np.sort(w_key.astype(np.int64) * (len(vid_write) + 1) + (pred + 1))
    dup = pairs[1:] == pairs[:-1]
    bad[(pairs[1:][dup] // (len(vid_write) + 1)).astype(np.intp)] = True
    # links: a write's pred is a write of the same key
    parent = np.where(pred >= 0, vid_write[np.maximum(pred, 0)], -1)
    link = parent >= 0
    link[link] = w_key[parent[link]] == w_key[link]
    bad[w_key[link & (tinv[np.maximum(parent, 0)] >= tinv)]] = True
    n = np.bincount(w_key, minlength=keys)
    links = np.bincount(w_key[link], minlength=keys)
    has_child = np.zeros(writes, dtype=bool)
    has_child[parent[link]] = True
    # the final write: every final read agrees on it, and it is one of the key's writes
    last = np.where(final >= 0, vid_write[np.maximum(final, 0)], -1)
    ok = (last >= 0) & ~bad & (n >= 1) & (links == n - 1)
    ok[ok] = (w_key[last[ok]] == np.flatnonzero(ok)) & ~has_child[last[ok]]
    return ok
