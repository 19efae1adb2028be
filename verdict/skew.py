"""Skew-inverted wins: at a conflict, the discarded write was invoked after the winner had
completed (harness clock), so last-writer-wins picked the older write, as clock skew does."""

from __future__ import annotations

from verdict.graph import VersionStore
from verdict.lost import KeyJudgement


def skew_inversions(store: VersionStore, j: KeyJudgement) -> list[tuple[int, int]]:
    """(discarded write, winning write) pairs of one key."""
    if not j.conflicts or not j.lost:
        return []
    lost = set(j.lost)
    out = []
    for group in j.conflicts:
        winners = [w for w in group if w not in lost]
        for loser in group:
            if loser not in lost:
                continue
            t = store.w_tinv[loser]
            beaten = [w for w in winners if store.w_tcomp[w] < t]
            if beaten:
                out.append((loser, min(beaten, key=store.w_tcomp.__getitem__)))
    return out
