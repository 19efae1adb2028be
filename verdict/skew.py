"""Skew-inverted wins: at a conflict, the discarded write was invoked after the winner had
completed (harness clock), so last-writer-wins picked the older write, as clock skew does.

The sibling that survived is not always what displaced the loser: a later write on the
winning branch, concurrent with the loser (written before the loser could replicate to its
region), beats it legitimately — that is a plain lost update, not an inversion. So a loss
counts as inverted only when no write on the winning branch after the winner can explain it:
none overlaps the loser or follows it within the link's observed maximum replication lag.
"""

from __future__ import annotations

from verdict.graph import VersionStore
from verdict.lost import KeyJudgement

#: when probes measured nothing on a link, how long a write is assumed to take to replicate
DEFAULT_HORIZON_S = 1.0


def replication_horizons(store: VersionStore) -> dict[tuple[int, int], float]:
    """(source, target) -> the maximum lag the probes observed on that link."""
    return {link: max(lags) for link, lags in store.lags.items() if len(lags)}


def skew_inversions(
    store: VersionStore,
    j: KeyJudgement,
    horizons: dict[tuple[int, int], float] | None = None,
) -> list[tuple[int, int]]:
    """(discarded write, winning write) pairs of one key."""
    if not j.conflicts or not j.lost:
        return []
    horizons = horizons or {}
    fallback = max(horizons.values(), default=DEFAULT_HORIZON_S)
    tinv, tcomp, region = store.w_tinv, store.w_tcomp, store.w_region
    lost = set(j.lost)
    out = []
    for group in j.conflicts:
        winners = [w for w in group if w not in lost]
        for loser in group:
            if loser not in lost:
                continue
            t = tinv[loser]
            beaten = [w for w in winners if tcomp[w] < t]
            if not beaten:
                continue
            winner = min(beaten, key=tcomp.__getitem__)
            later = [x for x in j.kept if tinv[x] > tinv[winner] and x != winner]

            def explains(x: int, loser: int = loser) -> bool:
                horizon = horizons.get((region[loser], region[x]), fallback)
                return tcomp[x] > tinv[loser] and tinv[x] < tcomp[loser] + horizon

            if not any(explains(x) for x in later):
                out.append((loser, winner))
    return out
