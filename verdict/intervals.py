"""Confidence intervals for the verdict's figures: Wilson score intervals for rates, and
distribution-free order-statistic intervals for percentiles.

A rate measured on few writes is uncertain: 0 lost updates in 50 writes says the true rate
is below ~7 % with 95 % confidence, not that it is 0. Wilson's interval (Wilson 1927) keeps
its coverage near the stated level even for rates near 0 or 1 and small counts, where the
textbook normal interval collapses to [0, 0]; it is the interval Brown, Cai and DasGupta
(2001, "Interval Estimation for a Binomial Proportion") recommend. A percentile's interval
is a pair of observed values whose ranks the binomial distribution bounds (Conover, Practical
Nonparametric Statistics, §3.2): exact sums up to EXACT_RANKS samples, the normal
approximation beyond. With too few samples the upper bound does not exist (None): a budget
with `confidence` on it cannot pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

#: below this many samples the ranks come from exact binomial sums
EXACT_RANKS = 20_000


def z_score(confidence: float) -> float:
    """The two-sided standard normal quantile: 1.96 for 0.95."""
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval of k successes in n trials; None when n is 0."""
    if n <= 0:
        return None
    z = z_score(confidence)
    p, z2 = k / n, z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    lo = 0.0 if k == 0 else max(0.0, centre - half)  # exact at the ends, not 1e-18
    hi = 1.0 if k == n else min(1.0, centre + half)
    return lo, hi


def _binomial_ranks(n: int, q: float, confidence: float) -> tuple[int, int]:
    """1-based ranks (lo, hi) with P(X_(lo) <= ξq <= X_(hi)) >= confidence; hi may be n+1
    (no upper bound) and lo 0 (no lower bound)."""
    alpha = 1 - confidence
    if n > EXACT_RANKS:
        z = z_score(confidence)
        sd = math.sqrt(n * q * (1 - q))
        return max(0, math.floor(n * q - z * sd)), min(n + 1, math.ceil(n * q + z * sd) + 1)
    # P(Bin(n, q) <= j) by summing the pmf in log space (no underflow for large n)
    log_q, log_p = math.log(q), math.log1p(-q)
    cdf, lo, hi = 0.0, 0, n + 1
    for j in range(n + 1):
        cdf += math.exp(
            math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1)
            + j * log_q + (n - j) * log_p
        )  # fmt: skip
        if cdf <= alpha / 2:
            lo = j + 1  # X_(j+1) <= ξq with probability >= 1 - cdf(j)
        if cdf >= 1 - alpha / 2:
            hi = j + 1
            break
    return lo, hi


def quantile_interval(
    sorted_values: Sequence[float], q: float, confidence: float = 0.95
) -> tuple[float | None, float | None] | None:
    """The interval of the q-quantile from sorted samples: (lower, upper) observed values,
    either None when too few samples bound it; None without samples."""
    n = len(sorted_values)
    if n == 0:
        return None
    if q >= 1.0:  # the maximum: no sample bounds it from above
        return float(sorted_values[-1]), None
    lo, hi = _binomial_ranks(n, q, confidence)
    lower = float(sorted_values[lo - 1]) if lo >= 1 else None
    upper = float(sorted_values[hi - 1]) if hi <= n else None
    return lower, upper
