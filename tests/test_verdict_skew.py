"""Skew-inverted wins: the older write won, and nothing on the winning branch explains why."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.verdict_fixtures import HistoryBuilder
from verdict.analyze import analyze


def _skewed(tmp_path: Path, descendant_at: float | None) -> int:
    """W (region a) completes, then L (region b) writes over the same version and is lost;
    D, a later write on W's branch, is written `descendant_at` seconds in (None: never)."""
    h = HistoryBuilder(tmp_path)
    w = h.write("a", "profile#1", None, t=0.0, dur=0.1)
    h.write("b", "profile#1", None, t=0.5, dur=0.1)
    final = w
    if descendant_at is not None:
        final = h.write("a", "profile#1", w, t=descendant_at, dur=0.1)
    h.final("profile#1", {"a": final, "b": final})
    h.save()
    v = analyze(tmp_path).data
    assert v["totals"]["lost_updates"] == 1
    return int(v["totals"]["skew_inverted"])


def test_an_older_write_that_won_is_inverted(tmp_path: Path) -> None:
    assert _skewed(tmp_path, None) == 1


def test_a_concurrent_descendant_explains_the_loss(tmp_path: Path) -> None:
    # D was written before L could have reached region a: LWW legitimately let D win
    assert _skewed(tmp_path, 0.7) == 0


def test_a_descendant_long_after_does_not_excuse_the_loss(tmp_path: Path) -> None:
    # by 5 s L had replicated to region a; D still descends from W, so L lost there to W
    assert _skewed(tmp_path, 5.0) == 1


@pytest.mark.parametrize("lag", [0.2, 8.0])
def test_the_horizon_is_the_links_observed_lag(tmp_path: Path, lag: float) -> None:
    h = HistoryBuilder(tmp_path)
    w = h.write("a", "profile#1", None, t=0.0, dur=0.1)
    h.write("b", "profile#1", None, t=0.5, dur=0.1)
    d = h.write("a", "profile#1", w, t=3.0, dur=0.1)
    h.final("profile#1", {"a": d, "b": d})
    h.probe("b", "a", t=0.0, lag=lag)
    h.save()
    inverted = analyze(tmp_path).data["totals"]["skew_inverted"]
    assert inverted == (1 if lag < 2.4 else 0)  # with an 8 s lag, L had not yet arrived at 3 s
