"""Table operations. A table is global: CreateTable makes it in every region at once."""

from __future__ import annotations

import re
from typing import Any

from globaltable.engine import GlobalTable, Table
from globaltable.errors import DynamoError, validation
from globaltable.request import field, table_of
from globaltable.store import KEY_TYPES, KeySchema, Replica

_NAME = re.compile(r"^[a-zA-Z0-9_.-]{3,255}$")
_UNSUPPORTED = ("GlobalSecondaryIndexes", "LocalSecondaryIndexes")


def _schema(req: dict[str, Any]) -> KeySchema:
    keys = field(req, "KeySchema", list, True)
    defs = field(req, "AttributeDefinitions", list, True)
    types: dict[str, str] = {}
    for i, d in enumerate(defs):
        if (
            not isinstance(d, dict)
            or not isinstance(d.get("AttributeName"), str)
            or d.get("AttributeType") not in KEY_TYPES
        ):
            raise validation(
                f"AttributeDefinitions[{i}] needs AttributeName and AttributeType S, N or B"
            )
        types[d["AttributeName"]] = d["AttributeType"]
    roles: dict[str, str] = {}
    for i, k in enumerate(keys):
        if (
            not isinstance(k, dict)
            or not isinstance(k.get("AttributeName"), str)
            or k.get("KeyType") not in ("HASH", "RANGE")
        ):
            raise validation(f"KeySchema[{i}] needs AttributeName and KeyType HASH or RANGE")
        if k["KeyType"] in roles:
            raise validation(f"KeySchema has more than one {k['KeyType']} key")
        roles[k["KeyType"]] = k["AttributeName"]
    if "HASH" not in roles or (len(keys) == 2 and "RANGE" not in roles) or len(keys) > 2:
        raise validation("KeySchema must hold one HASH key and at most one RANGE key")
    for name in roles.values():
        if name not in types:
            raise validation(
                f"One or more parameter values were invalid: key attribute {name} has no AttributeDefinitions entry"
            )
    if set(types) != set(roles.values()):
        extra = sorted(set(types) - set(roles.values()))
        raise validation(
            f"One or more parameter values were invalid: AttributeDefinitions {extra} are not used by the key schema"
        )
    rng = roles.get("RANGE")
    return KeySchema(roles["HASH"], types[roles["HASH"]], rng, types.get(rng, "S") if rng else "S")


def create_table(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    name = field(req, "TableName", str, True)
    if not _NAME.match(name):
        raise validation(f"TableName {name!r} must be 3-255 characters of a-z, A-Z, 0-9, _ - .")
    for option in _UNSUPPORTED:
        if req.get(option):
            raise validation(f"{option} are not supported by the hothot emulator")
    schema = _schema(req)
    if name in gt.tables:
        raise DynamoError("ResourceInUseException", f"Table already exists: {name}")
    billing = req.get("BillingMode") or "PROVISIONED"
    if billing not in ("PROVISIONED", "PAY_PER_REQUEST"):
        raise validation(f"BillingMode must be PROVISIONED or PAY_PER_REQUEST, got {billing!r}")
    definition = {
        "KeySchema": req["KeySchema"],
        "AttributeDefinitions": req["AttributeDefinitions"],
        "BillingMode": billing,
        "ProvisionedThroughput": req.get("ProvisionedThroughput")
        if isinstance(req.get("ProvisionedThroughput"), dict)
        else {},
    }
    ranged = schema.range_name is not None
    table = Table(name, schema, definition, {r: Replica(ranged) for r in gt.regions})
    gt.tables[name] = table
    return {"TableDescription": describe(gt, region, table)}


def describe(gt: GlobalTable, region: str, table: Table, status: str = "ACTIVE") -> dict[str, Any]:
    count, size = table.replicas[region].live()
    throughput = table.definition["ProvisionedThroughput"]
    return {
        "TableName": table.name,
        "TableArn": f"arn:aws:dynamodb:{region}:000000000000:table/{table.name}",
        "TableId": f"hothot-{table.name}",
        "TableStatus": status,
        "KeySchema": table.definition["KeySchema"],
        "AttributeDefinitions": table.definition["AttributeDefinitions"],
        "CreationDateTime": table.created,
        "ItemCount": count,
        "TableSizeBytes": size,
        "BillingModeSummary": {"BillingMode": table.definition["BillingMode"]},
        "ProvisionedThroughput": {
            "ReadCapacityUnits": int(throughput.get("ReadCapacityUnits", 0) or 0),
            "WriteCapacityUnits": int(throughput.get("WriteCapacityUnits", 0) or 0),
            "NumberOfDecreasesToday": 0,
        },
        "Replicas": [
            {"RegionName": r, "ReplicaStatus": "ACTIVE"} for r in gt.regions if r != region
        ],
        "MultiRegionConsistency": "STRONG" if gt.strong else "EVENTUAL",
    }


def describe_table(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    return {"Table": describe(gt, region, table_of(gt, req))}


def delete_table(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    table = table_of(gt, req)
    del gt.tables[table.name]
    return {"TableDescription": describe(gt, region, table, "DELETING")}


def list_tables(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    limit = field(req, "Limit", int) or 100
    if not 1 <= limit <= 100:
        raise validation("Limit must be between 1 and 100")
    start = field(req, "ExclusiveStartTableName", str)
    names = sorted(n for n in gt.tables if start is None or n > start)
    resp: dict[str, Any] = {"TableNames": names[:limit]}
    if len(names) > limit:
        resp["LastEvaluatedTableName"] = names[limit - 1]
    return resp
