"""The store-neutral operations: their effect on an item, and how RecordingClient records them
through any Store (a scripted one here)."""

from __future__ import annotations

from typing import Any

import pytest
from greenlet import GreenletExit

from loadgen.conditions import ClientConditions
from loadgen.ops import Answer, Append, Increment, Op, Overwrite, Read, SetAttributes
from loadgen.recorder import RecordIds
from loadgen.recording import RecordingClient
from verdict.history import Op as RecordOp


class Scripted:
    """A Store answering from a list; an exception in the list is raised instead."""

    region = "r1"

    def __init__(self, *answers: Answer | BaseException) -> None:
        self.answers = list(answers)
        self.ops: list[Op] = []

    def perform(self, op: Op, *, measured: bool = True) -> Answer:
        self.ops.append(op)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def calls(store: Scripted, records: list[dict[str, Any]]) -> RecordingClient:
    return RecordingClient(
        home="r1",
        ids=RecordIds("t"),
        sink=records.append,
        conditions=ClientConditions(),
        client_for=lambda region: store,
    )


def test_each_write_says_what_the_item_becomes() -> None:
    old = {"pk": {"S": "k"}, "hh_vid": {"S": "a"}, "n": {"N": "4"}, "cart": {"L": [{"S": "x"}]}}
    pad = {"hh_pad": {"S": "pp"}}
    assert Overwrite(key="k", vid="b", fields={"f": {"S": "1"}}, padding=pad).image(old) == {
        "pk": {"S": "k"}, "hh_vid": {"S": "b"}, "f": {"S": "1"}, "hh_pad": {"S": "pp"}
    }  # fmt: skip
    attrs = SetAttributes(key="k", vid="b", fields={"phone": {"S": "2"}}, versioned=True)
    assert attrs.image(old)["hh_vid_phone"] == {"S": "b"} and attrs.image(old)["n"] == {"N": "4"}
    assert Increment(key="k", vid="b", attr="n", by=3).image(old)["n"] == {"N": "7"}
    assert Increment(key="k", vid="b", attr="n", by=3).image({})["n"] == {"N": "3"}
    assert Append(key="k", vid="b", attr="cart", element="y").image(old)["cart"] == {
        "L": [{"S": "x"}, {"S": "y"}]
    }
    kept = SetAttributes(key="k", vid="b", fields={}, padding=pad).image({**old, **{"hh_pad": 1}})
    assert kept["hh_pad"] == 1  # padding, once written, stays


def test_a_write_records_what_the_store_says_it_replaced() -> None:
    records: list[dict[str, Any]] = []
    old = {"hh_vid": {"S": "t:0"}, "hh_vid_phone": {"S": "t:0"}}
    c = calls(Scripted(Answer(old=old, sized=False)), records)
    rec = c.record("w", "k", RecordOp.UPDATE)
    rec["attrs"] = {"phone": rec["id"]}
    c.perform(
        rec, SetAttributes(key="k", vid=rec["id"], fields={"phone": {"S": "1"}}, versioned=True)
    )
    assert (rec["pred"], rec["attr_preds"], rec["outcome"]) == ("t:0", {"phone": "t:0"}, "ok")
    assert "old_bytes" not in rec and "item_bytes" not in rec  # the store gave no whole item


def test_a_call_cut_off_by_the_users_kill_is_recorded_as_unknown() -> None:
    """Locust's stop may kill a user in the middle of a call that the store then applies:
    the record must reach the history (unknown) before the kill goes on."""
    records: list[dict[str, Any]] = []
    c = calls(Scripted(GreenletExit()), records)
    rec = c.record("w", "k", RecordOp.PUT)
    with pytest.raises(GreenletExit):
        c.perform(rec, Overwrite(key="k", vid=rec["id"], fields={}))
    assert records == [rec]
    assert (rec["outcome"], rec["error"]) == ("unknown", "Interrupted:GreenletExit")


def test_raw_dynamodb_requests_are_refused_by_a_store_without_them() -> None:
    records: list[dict[str, Any]] = []
    c = calls(Scripted(), records)
    with pytest.raises(TypeError, match="raw DynamoDB request"):
        c.send(c.record("w", "k", RecordOp.GET), "GetItem", {"Key": {"pk": {"S": "k"}}})
    assert records == []
    read = c.record("w", "k", RecordOp.GET)
    c2 = calls(Scripted(Answer(item={"pk": {"S": "k"}, "hh_vid": {"S": "t:9"}})), records)
    c2.perform(read, Read("k"))
    assert read["vid"] == "t:9"
