"""`DynamoStore`: the store-neutral operations (loadgen.ops) as DynamoDB requests.

Overwrite is PutItem; attribute sets, increments and appends are one UpdateItem each (`SET
hh_vid = :hh_vid, ...`, `ADD n :inc`, `list_append`); guards are condition expressions seen
by the local replica only; reads are GetItem. A measured write asks `ReturnValues=ALL_OLD`,
which is how hothot learns the version each write replaced.
"""

from __future__ import annotations

from typing import Any

from loadgen.client import DynamoClient
from loadgen.ops import (
    PAD,
    VID,
    Answer,
    Append,
    Increment,
    NewerThan,
    Op,
    Overwrite,
    Read,
    SetAttributes,
    VersionIs,
    Write,
)


class DynamoStore:
    """One region's DynamoDB-compatible endpoint, through `client` (boto3 or the fast one)."""

    def __init__(self, client: DynamoClient, table: str) -> None:
        self.region = client.region
        self.client = client
        self.table = table

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """A raw DynamoDB call (for workloads that build their own requests)."""
        return self.client.call(operation, request)

    def perform(self, op: Op, *, measured: bool = True) -> Answer:
        head: dict[str, Any] = {"TableName": self.table}
        if measured:
            head["ReturnConsumedCapacity"] = "TOTAL"
        if isinstance(op, Read):
            request = {**head, "Key": {"pk": {"S": op.key}}}
            if op.consistent:
                request["ConsistentRead"] = True
            answer = self.client.call("GetItem", request)
            return Answer(item=answer.get("Item"), capacity=_capacity(answer))
        if isinstance(op, Overwrite):
            request = {**head, "Item": op.image({})}
            if measured:
                request["ReturnValues"] = "ALL_OLD"
            answer = self.client.call("PutItem", request)
        else:
            answer = self.client.call("UpdateItem", {**head, **update_request(op)})
        return Answer(old=answer.get("Attributes") or None, capacity=_capacity(answer))


def _capacity(answer: dict[str, Any]) -> float | None:
    units = answer.get("ConsumedCapacity", {}).get("CapacityUnits")
    return None if units is None else float(units)


def update_request(op: Write) -> dict[str, Any]:
    """The UpdateItem body of an attribute set, increment or append (without TableName)."""
    names: dict[str, str] = {}
    vals: dict[str, Any] = {":hh_vid": {"S": op.vid}}
    clauses = [f"{VID} = :hh_vid"]
    extra = ""
    if isinstance(op, Append):
        vals[":el"] = {"L": [{"S": op.element}]}
        vals[":empty"] = {"L": []}
        clauses.append(f"{op.attr} = list_append(if_not_exists({op.attr}, :empty), :el)")
    elif isinstance(op, Increment):
        vals[":inc"] = {"N": str(op.by)}
        extra = f" ADD {op.attr} :inc"
    condition = None
    if isinstance(op.guard, VersionIs):
        if op.guard.vid is None:
            condition = f"attribute_not_exists({VID})"
        else:
            condition = f"{VID} = :seen"
            vals[":seen"] = {"S": op.guard.vid}
    elif isinstance(op.guard, NewerThan):
        attr = op.guard.attr
        condition = f"attribute_not_exists({attr}) OR {attr} < :ts"
        vals[":ts"] = {"N": repr(op.guard.value)}
    sets = op.sets() if isinstance(op, SetAttributes) else {}
    for i, (attr, value) in enumerate(sets.items()):
        names[f"#s{i}"] = attr
        vals[f":s{i}"] = value
        clauses.append(f"#s{i} = :s{i}")
    if op.padding:
        clauses.append(f"{PAD} = if_not_exists({PAD}, :hh_pad)")
        vals[":hh_pad"] = op.padding[PAD]
    request: dict[str, Any] = {
        "Key": {"pk": {"S": op.key}},
        "UpdateExpression": "SET " + ", ".join(clauses) + extra,
        "ExpressionAttributeValues": vals,
        "ReturnValues": "ALL_OLD",
    }
    if names:
        request["ExpressionAttributeNames"] = names
    if condition:
        request["ConditionExpression"] = condition
    if isinstance(op.guard, NewerThan):
        request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return request
