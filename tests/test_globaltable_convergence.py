"""Property: random concurrent writes over random link faults and clock skews, then heal and
drain -> every region holds identical items, and each key's survivor is the write with the
highest (timestamp, region). Runs the engine in-process through the real request handler
(`api.handle`) so hypothesis can try hundreds of histories in seconds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from globaltable.engine import GlobalTable
from tests.engine_fixtures import KEYS, REGIONS, call, faults, region

action = st.one_of(
    st.tuples(
        st.just("write"), region, st.sampled_from(KEYS), st.sampled_from(["put", "add", "delete"])
    ),
    st.tuples(st.just("fault"), faults()),
    st.tuples(st.just("heal_one")),
    st.tuples(st.just("deliver")),
)


def deliver_all(gt: GlobalTable) -> None:
    for link in gt.links.values():
        link.drain(float("inf"), gt._deliver)


@settings(max_examples=300)
@given(st.lists(action, min_size=1, max_size=40))
def test_regions_converge_to_the_highest_timestamp_region(actions):
    gt = GlobalTable(REGIONS, delay_s=0.0, jitter_s=0.0, seed=1)
    call(
        gt,
        "r-a",
        "CreateTable",
        {
            "TableName": "prop",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    table = gt.tables["prop"]
    committed: dict[str, list] = {k: [] for k in KEYS}
    fault_ids: list[str] = []
    for n, step in enumerate(actions):
        if step[0] == "write":
            _, where, key, kind = step
            vid = {"S": f"w:{n}"}
            if kind == "put":
                status, _ = call(
                    gt,
                    where,
                    "PutItem",
                    {"TableName": "prop", "Item": {"pk": {"S": key}, "hh_vid": vid}},
                )
            elif kind == "add":
                status, _ = call(
                    gt,
                    where,
                    "UpdateItem",
                    {
                        "TableName": "prop",
                        "Key": {"pk": {"S": key}},
                        "UpdateExpression": "ADD n :one SET hh_vid = :v",
                        "ExpressionAttributeValues": {":one": {"N": "1"}, ":v": vid},
                    },
                )
            else:
                status, _ = call(
                    gt, where, "DeleteItem", {"TableName": "prop", "Key": {"pk": {"S": key}}}
                )
            if where in gt.outages:
                assert status == 503
                continue
            assert status == 200
            committed[key].append(table.replicas[where].get(key))
        elif step[0] == "fault":
            fault_ids.append(gt.apply_fault(step[1]))
        elif step[0] == "heal_one" and fault_ids:
            gt.heal(fault_ids.pop(0))
        else:
            deliver_all(gt)
    gt.heal_all()
    deliver_all(gt)
    assert gt.backlog() == 0
    truth = gt.truth(table)
    for key in KEYS:
        held = [table.replicas[r].get(key) for r in REGIONS]
        if not committed[key]:
            assert held == [None, None, None]
            continue
        winner = max(committed[key], key=lambda e: (e.ts, e.region))
        assert all(e is winner for e in held), (key, [(e.ts, e.region) for e in held if e])
        if key in truth["keys"]:
            assert truth["keys"][key]["final"] == winner.vid
