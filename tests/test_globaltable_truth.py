"""Ground truth compacted while the run goes (globaltable.truth.KeyTruth.compact) reports
exactly what the whole version graph reports: random writes from every region over random
link faults and clock skews, the truth compacted after every write, against `judge` over
every node recorded. The one thing compaction cannot list is which writes, kept when
compacted, a later write without hh_vid made lost: they are counted (`lost_unlisted`)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from globaltable import truth
from globaltable.engine import GlobalTable
from tests.engine_fixtures import KEYS, REGIONS, call, faults, region

action = st.one_of(
    st.tuples(
        st.just("write"),
        region,
        st.sampled_from(KEYS),
        st.sampled_from(["put", "put", "put", "delete", "plain"]),
    ),  # fmt: skip
    st.tuples(st.just("fault"), faults()),
    st.tuples(st.just("heal_one")),
    st.tuples(st.just("deliver")),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=st.lists(action, min_size=1, max_size=60))
def test_compacted_truth_reports_what_the_whole_graph_does(
    actions: list[tuple[Any, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded: dict[str, list[truth.WriteNode]] = {}
    real_record = truth.TruthLog.record

    def record(self: truth.TruthLog, label: str, key: Any, node: truth.WriteNode) -> bool:
        recorded.setdefault(label, []).append(node)
        real_record(self, label, key, node)
        return True  # compact after every write

    with monkeypatch.context() as m:
        m.setattr(truth.TruthLog, "record", record)
        m.setattr(truth, "LOST_LISTED", 2)
        gt = GlobalTable(REGIONS, delay_s=0.0, jitter_s=0.0, seed=1)
        call(gt, "r-a", "CreateTable", {
            "TableName": "truth", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST"})  # fmt: skip
        run(gt, actions)
    table = gt.tables["truth"]
    with monkeypatch.context() as m:
        m.setattr(truth, "LOST_LISTED", 2)  # beyond 2 lost writes a key counts them
        got = gt.truth(table)
    for label, nodes in recorded.items():
        final_vid, final_item = finals(table, label)
        want = truth.judge(nodes, final_vid, final_item)
        mine = dict(got["keys"][label])
        unlisted = mine.pop("lost_unlisted", 0)  # a plain write won after nodes were kept
        more, digest = mine.pop("lost_more", 0), mine.pop("lost_digest", None)
        assert len(mine["lost"]) <= 2 and (more == 0) == (digest is None), (label, mine)
        assert set(mine["lost"]) <= set(want["lost"]), (label, nodes)
        assert len(mine["lost"]) + more + unlisted == len(want["lost"]), (label, nodes)
        if more and not unlisted:  # the digest covers every lost write the truth knows by name
            assert digest == truth.vid_digest(want["lost"]), (label, nodes)
        assert (mine | {"lost": want["lost"]}) == want, (label, nodes)


def run(gt: GlobalTable, actions: list[tuple[Any, ...]]) -> None:
    ids, fault_ids = itertools.count(1), []
    for step in actions:
        if step[0] == "write":
            _, where, key, op = step
            vid = f"{where}:{next(ids)}"
            if op == "delete":
                call(gt, where, "DeleteItem", {"TableName": "truth", "Key": {"pk": {"S": key}}})
            else:  # a plain write carries no vid: not instrumented
                item = {"pk": {"S": key}} | ({"hh_vid": {"S": vid}} if op == "put" else {})
                call(gt, where, "PutItem", {"TableName": "truth", "Item": item})
        elif step[0] == "fault":
            fault_ids.append(gt.apply_fault(step[1]))
        elif step[0] == "heal_one" and fault_ids:
            gt.heal(fault_ids.pop(0))
        else:
            for link in gt.links.values():
                link.drain(float("inf"), gt._deliver)
    gt.heal_all()
    for link in gt.links.values():
        link.drain(float("inf"), gt._deliver)


def finals(table: Any, label: str) -> tuple[str | None, dict[str, Any] | None]:
    key = table.truth.keys[label].key
    best = None
    for replica in table.replicas.values():
        e = replica.get(key)
        if e is not None and (best is None or e.order() > best.order()):
            best = e
    return (None, None) if best is None else (best.vid, best.item())


def test_compaction_keeps_only_what_is_undecided() -> None:
    """Truth memory grows with keys and lost writes, not with writes: a key written 1,000
    times in one region keeps none of its nodes once compacted."""
    gt = GlobalTable(REGIONS, delay_s=0.0, jitter_s=0.0, seed=1)
    call(gt, "r-a", "CreateTable", {
        "TableName": "truth", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST"})  # fmt: skip
    table = gt.tables["truth"]
    for i in range(1000):
        call(gt, "r-a", "PutItem", {"TableName": "truth",
                                     "Item": {"pk": {"S": "k"}, "hh_vid": {"S": f"v{i}"}}})  # fmt: skip
        for link in gt.links.values():
            link.drain(float("inf"), gt._deliver)
    gt._compact_truth(table)
    key_truth = table.truth.keys["k"]
    assert len(key_truth.nodes) == 0 and key_truth.writes == 1000
    assert gt.truth(table)["keys"]["k"] == {"writes": 1000, "conflicts": 0, "lost": [],
                                            "final": "v999"}  # fmt: skip
