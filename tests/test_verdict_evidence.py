"""A lost update's evidence shows the data that was lost: the increment, the cart element,
the attribute value, as the workload recorded it."""

from __future__ import annotations

import pytest

from tests.verdict_fixtures import HistoryBuilder
from verdict.analyze import analyze


@pytest.mark.parametrize("reader", ["native", "records"])
@pytest.mark.parametrize(
    ("kind", "value"),
    [("counter", 5), ("cart", "item-17"), ("split_attributes", {"phone": "phone-004211"})],
)
def test_the_lost_write_names_what_it_wrote(
    history: HistoryBuilder, kind: str, value: object, reader: str
) -> None:
    h = history
    h.campaign = {"name": "t", "workloads": [{"kind": kind, "name": kind}]}
    key = f"{kind}#1"
    v0 = h.write("us", key, None, 1.0, op="update", value=value)
    lost = h.write("eu", key, v0, 2.0, op="update", value=value)
    win = h.write("us", key, v0, 2.0, op="update", value=value)
    h.final(key, {"us": win, "eu": win})
    data = analyze(h.save(), write=False, reader=reader).data
    (example,) = data["examples"]["lost_update"]
    written = {w["vid"]: w for w in example["writes"]}
    assert written[lost]["role"] == "lost" and written[lost]["value"] == value
