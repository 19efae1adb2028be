"""The emulator's engine in-process, for property tests: hypothesis tries hundreds of
histories in seconds through the real request handler (`api.handle`), no server between.

    from tests.engine_fixtures import REGIONS, KEYS, call, faults
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import strategies as st

from globaltable import api
from globaltable.engine import GlobalTable

REGIONS = ["r-a", "r-b", "r-c"]
KEYS = ["k0", "k1", "k2"]
TARGET = "DynamoDB_20120810."

region = st.sampled_from(REGIONS)


def faults() -> st.SearchStrategy[dict[str, Any]]:
    """A partition (both ways or one way), a clock skew of up to 3 s or a region outage."""

    def two(extra: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        return st.builds(
            lambda a, b: {"fault": "partition", "regions": [a, b], **extra}, region, region
        ).filter(lambda f: f["regions"][0] != f["regions"][1])

    skew = st.builds(
        lambda r, o: {"fault": "clock_skew", "region": r, "offset_s": o},
        region,
        st.floats(-3, 3, allow_nan=False),
    )
    outage = st.builds(lambda r: {"fault": "region_outage", "region": r}, region)
    return st.one_of(two({}), two({"one_way": True}), skew, outage)


def call(gt: GlobalTable, where: str, op: str, body: dict[str, Any]) -> tuple[int, Any]:
    """One API call to region `where`: its status and decoded answer."""
    status, payload = api.handle(gt, where, TARGET + op, orjson.dumps(body), None)  # type: ignore[misc]
    return status, orjson.loads(payload)
