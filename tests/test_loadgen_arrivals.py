"""The open model's arrival schedule (loadgen.arrivals): seeded, Poisson at the profile's rate,
the same however many processes share it. Imports nothing of Locust."""

from __future__ import annotations

import math
import random

import pytest

from loadgen.arrivals import ArrivalCounter, RateProfile, schedule

WEIGHTS = [3.0, 1.0]


def arrivals(profile: RateProfile, seed: int = 7, region: str = "us-east-1") -> list:
    return list(schedule(profile, seed, region, WEIGHTS))


def test_a_replay_sends_the_same_schedule_and_regions_differ() -> None:
    profile = RateProfile.constant(200.0, 10.0)
    first, again = arrivals(profile), arrivals(profile)
    assert first == again
    assert [a.t for a in arrivals(profile, region="eu-west-1")] != [a.t for a in first]
    assert [a.t for a in arrivals(profile, seed=8)] != [a.t for a in first]


def test_a_constant_rate_is_a_poisson_process_at_that_rate() -> None:
    """2,000 expected arrivals: the count within 5 sigma, inter-arrival gaps exponential
    (their coefficient of variation near 1; a metronome's is 0), workloads by weight."""
    got = arrivals(RateProfile.constant(200.0, 10.0))
    assert abs(len(got) - 2000) < 5 * math.sqrt(2000)
    assert all(0 <= a.t < 10.0 for a in got) and [a.index for a in got] == list(range(len(got)))
    gaps = [b.t - a.t for a, b in zip(got, got[1:], strict=False)]
    mean = sum(gaps) / len(gaps)
    sd = math.sqrt(sum((g - mean) ** 2 for g in gaps) / len(gaps))
    assert mean == pytest.approx(1 / 200, rel=0.1) and sd / mean == pytest.approx(1.0, abs=0.1)
    share = sum(a.workload == 0 for a in got) / len(got)
    assert share == pytest.approx(0.75, abs=0.04)


def test_stages_ramp_linearly_like_k6() -> None:
    """0 -> 400/s over 10 s, then a step down to 100/s for 10 s: 2,000 + 1,000 expected,
    and the first half of the ramp holds a quarter of its arrivals."""
    profile = RateProfile.staged(0.0, [(10.0, 400.0), (0.0, 100.0), (10.0, 100.0)])
    assert profile.expected(10.0) == pytest.approx(2000.0)
    assert profile.expected(20.0) == pytest.approx(3000.0)
    got = arrivals(profile)
    ramp = [a for a in got if a.t < 10.0]
    assert abs(len(ramp) - 2000) < 5 * math.sqrt(2000)
    assert abs(len(got) - len(ramp) - 1000) < 5 * math.sqrt(1000)
    early = sum(a.t < 5.0 for a in ramp)
    assert early / len(ramp) == pytest.approx(0.25, abs=0.04)


def test_time_of_inverts_the_expected_count() -> None:
    profile = RateProfile.staged(50.0, [(3.0, 300.0), (4.0, 10.0), (0.0, 80.0), (2.0, 80.0)])
    rng = random.Random(1)
    for _ in range(200):
        t = rng.uniform(0.0, profile.duration)
        assert profile.time_of(profile.expected(t)) == pytest.approx(t, abs=1e-9)
    assert profile.time_of(profile.expected(profile.duration) + 1e-6) is None


def test_shares_split_the_schedule_without_loss_or_overlap() -> None:
    """Arrival i runs on the worker whose share is i mod n: the workers' arrivals together
    are the one-process schedule, each once."""
    whole = arrivals(RateProfile.constant(100.0, 5.0))
    shares = [[a for a in whole if a.index % 3 == k] for k in range(3)]
    assert sorted((a for s in shares for a in s), key=lambda a: a.index) == whole
    assert all(abs(len(s) - len(whole) / 3) <= len(whole) * 0.1 for s in shares)


def test_the_counter_counts_what_came_due() -> None:
    profile = RateProfile.constant(100.0, 5.0)
    whole = arrivals(profile)
    counter = ArrivalCounter(schedule(profile, 7, "us-east-1", WEIGHTS), len(WEIGHTS))
    counter.advance(2.5)
    due = [a for a in whole if a.t < 2.5]
    assert sum(counter.due) == len(due)
    assert counter.due[1] == sum(a.workload == 1 for a in due)
    counter.advance(99.0)
    assert sum(counter.due) == len(whole)
