"""Latency per op and region: nearest-rank percentiles of what the writers saw."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from verdict.latency_report import latency_by_op_region, render_latency
from verdict.stats import summary

OPS, REGIONS = ("put", "update", "delete", "get"), ("us", "eu")


@given(st.lists(st.tuples(st.integers(-1, 3), st.integers(0, 1), st.floats(0, 30)), max_size=60))
def test_each_op_and_region_gets_the_verdicts_percentiles(rows: list) -> None:
    op = np.array([r[0] for r in rows], dtype=np.int8)
    region = np.array([r[1] for r in rows], dtype=np.uint16)
    seconds = np.array([r[2] for r in rows], dtype=np.float64)
    table = latency_by_op_region(op, region, seconds, OPS, REGIONS)
    for o, name in enumerate(OPS):
        for g, where in enumerate(REGIONS):
            values = [s for x, y, s in rows if x == o and y == g]
            expected = summary(values)
            assert table.get(name, {}).get(where) == expected


def test_the_table_shows_durations_alike() -> None:
    page = render_latency({"put": {"us": {"count": 1200, "p50": 0.0012, "p95": 0.2,
                                          "p99": 1.5, "max": 12.34}}})  # fmt: skip
    assert "<td>put</td><td>us</td><td>1,200</td><td>1.2ms</td><td>200ms</td><td>1.5s</td>" in page
    assert "<td>12.3s</td>" in page
