"""The open model's arrival schedule: when each operation starts, drawn from the campaign seed.

k6's constant- and ramping-arrival-rate executors are the model: `writers.rate` operations
start per second in each region whatever the target answers, and `writers.stages` move the
rate linearly to each stage's `rate` over its `for` (starting from `writers.rate`, else 0).
Arrivals form a Poisson process with that rate (independent clients, not a metronome:
conflicts depend on how writes cluster), drawn by inverting the cumulative rate Λ(t) at
unit-rate exponential steps, from a generator seeded by (seed, region). Each arrival also
draws its workload by weight, so the same campaign replays the same schedule, in one process
or split over workers (arrival i runs on the worker whose share is i mod n).

The schedule is a generator: nothing is stored ahead, whatever the rate and duration.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Arrival:
    index: int  # the n-th arrival of its region, from 0
    t: float  # seconds after the load started
    workload: int  # index into the workload mix


class RateProfile:
    """Operations per second over the load's duration: piecewise linear through `points`,
    (t, rate) pairs with t from 0 to the duration (a repeated t is a step)."""

    def __init__(self, points: Sequence[tuple[float, float]]) -> None:
        if len(points) < 2 or points[0][0] != 0.0:
            raise ValueError("a rate profile needs points from t=0 to its end")
        self.points = list(points)
        self.duration = self.points[-1][0]
        # expected arrivals at each point: the integral of the rate up to it
        self._cumulative = [0.0]
        for (a, ra), (b, rb) in itertools.pairwise(self.points):
            self._cumulative.append(self._cumulative[-1] + (b - a) * (ra + rb) / 2)

    @classmethod
    def constant(cls, rate: float, duration: float) -> RateProfile:
        return cls([(0.0, rate), (duration, rate)])

    @classmethod
    def staged(cls, start: float, stages: Sequence[tuple[float, float]]) -> RateProfile:
        """k6's stages: each (for, rate) ramps linearly from the previous rate to `rate`."""
        points, t = [(0.0, start)], 0.0
        for length, rate in stages:
            t += length
            points.append((t, rate))
        return cls(points)

    def expected(self, t: float) -> float:
        """Λ(t): arrivals expected by `t` seconds."""
        t = min(max(t, 0.0), self.duration)
        i = max(0, bisect.bisect_right([p[0] for p in self.points], t) - 1)
        if i >= len(self.points) - 1:
            return self._cumulative[-1]
        (a, ra), (b, rb) = self.points[i], self.points[i + 1]
        dt = t - a
        slope = (rb - ra) / (b - a) if b > a else 0.0
        return self._cumulative[i] + ra * dt + slope * dt * dt / 2

    def time_of(self, expected: float) -> float | None:
        """The t at which Λ(t) reaches `expected`; None past the end."""
        i = bisect.bisect_right(self._cumulative, expected) - 1
        if i >= len(self.points) - 1 or expected > self._cumulative[-1]:
            return None
        (a, ra), (b, rb) = self.points[i], self.points[i + 1]
        if b <= a:  # a step: no time passes on it
            return a
        need = expected - self._cumulative[i]
        slope = (rb - ra) / (b - a)
        # a*dt^2/2 + ra*dt = need, in the form that stays exact when the slope is ~0
        root = math.sqrt(max(ra * ra + 2 * slope * need, 0.0))
        dt = 2 * need / (ra + root) if ra + root > 0 else 0.0
        return min(a + dt, b)

    @property
    def peak(self) -> float:
        return max(rate for _, rate in self.points)


def arrival_rng(seed: int, region: str) -> random.Random:
    return random.Random(f"hothot:{seed}:{region}:arrivals")


def operation_rng(seed: int, region: str, index: int) -> random.Random:
    """The generator of one arrival's operation (its key and parameters): the same whichever
    process runs it and whatever ran before it."""
    return random.Random(f"hothot:{seed}:{region}:op:{index}")


def schedule(
    profile: RateProfile, seed: int, region: str, weights: Sequence[float]
) -> Iterator[Arrival]:
    """Every arrival of `region`, in time order (see the module docstring)."""
    rng = arrival_rng(seed, region)
    cumulative = list(itertools.accumulate(weights))
    total = cumulative[-1]
    expected = 0.0
    for index in itertools.count():
        expected += rng.expovariate(1.0)
        t = profile.time_of(expected)
        draw = rng.random() * total
        if t is None:
            return
        yield Arrival(index, t, min(bisect.bisect_right(cumulative, draw), len(weights) - 1))


class ArrivalCounter:
    """Arrivals that came due, per workload, as time passes: what was *requested* of one
    region however many processes ran it (the distributed master keeps one per region)."""

    def __init__(self, arrivals: Iterator[Arrival], workloads: int) -> None:
        self._arrivals = arrivals
        self._next: Arrival | None = next(arrivals, None)
        self.due = [0] * workloads

    def advance(self, elapsed: float) -> None:
        while self._next is not None and self._next.t < elapsed:
            self.due[self._next.workload] += 1
            self._next = next(self._arrivals, None)
