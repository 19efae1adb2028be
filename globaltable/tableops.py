"""Table operations. A table is global: CreateTable makes it in every region at once (a
replica can then be removed or added with UpdateTable's ReplicaUpdates)."""

from __future__ import annotations

import time
from typing import Any

from globaltable.engine import GlobalTable
from globaltable.errors import DynamoError, validation
from globaltable.indexes import ENTRY_OVERHEAD, IndexSpec
from globaltable.items import item_size
from globaltable.request import field, table_of
from globaltable.store import Replica
from globaltable.streams import apply_spec, stream_spec
from globaltable.streams import describe_section as stream_fields
from globaltable.table import Table
from globaltable.tabledefs import (
    BILLING_MODES,
    attribute_types,
    check_name,
    describe_storage,
    secondary_indexes,
    storage_settings,
    table_schema,
    throughput,
)
from globaltable.tags import create_tags


def create_table(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    name = check_name(req.get("TableName"))
    types = attribute_types(req)
    schema = table_schema(req, types)
    billing = field(req, "BillingMode", str) or "PROVISIONED"
    if billing not in BILLING_MODES:
        raise validation(
            f"1 validation error detected: Value '{billing}' at 'billingMode' failed to satisfy "
            "constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
        )
    units = throughput(req.get("ProvisionedThroughput"), billing)
    specs = secondary_indexes(req, types, schema, billing)
    if gt.strong and any(not s.is_global for s in specs):
        raise validation(
            "Local secondary indexes are not supported on multi-Region strongly consistent "
            "(MRSC) global tables"
        )
    stream = stream_spec(req.get("StreamSpecification"))
    tags = create_tags(req)
    storage = storage_settings(req)
    if name in gt.tables:
        raise DynamoError("ResourceInUseException", f"Table already exists: {name}")
    now = time.time()
    definition = {
        "KeySchema": req["KeySchema"],
        "AttributeDefinitions": req["AttributeDefinitions"],
        "BillingMode": billing,
        "ProvisionedThroughput": units or {},
        # created on demand: the billing mode dates from the creation (as DynamoDB answers)
        "PayPerRequestSince": now if billing == "PAY_PER_REQUEST" else None,
        "DeletionProtectionEnabled": bool(field(req, "DeletionProtectionEnabled", bool)),
        **storage,
    }
    ranged = schema.range_name is not None
    table = Table(name, schema, definition, {r: Replica(ranged) for r in gt.regions}, created=now)
    for spec in specs:
        table.add_index(spec)
    apply_spec(table, stream, creating=True)
    if tags:
        table.tags = {r: dict(tags) for r in table.replicas}
    gt.tables[name] = table
    return {"TableDescription": describe(gt, region, table, "CREATING")}


def _index_section(spec: IndexSpec, table: Table, region: str) -> dict[str, Any]:
    store = table.index_store(region, spec) if region in table.index_stores else None
    count = store.count if store is not None else 0
    if store is None:
        size = 0
    elif spec.kept is None:
        size = store.size + ENTRY_OVERHEAD * count
    else:
        size = sum(
            item_size(spec.project(e.item() or {})) + ENTRY_OVERHEAD
            for part in store.parts.values()
            for e in part.values()
        )
    out: dict[str, Any] = {
        "IndexName": spec.name,
        "KeySchema": spec.key_schema,
        "Projection": spec.projection,
        "IndexSizeBytes": size,
        "ItemCount": count,
        "IndexArn": f"{table.arn(region)}/index/{spec.name}",
    }
    if spec.is_global:
        units = spec.throughput or {}
        out["IndexStatus"] = "ACTIVE"
        out["ProvisionedThroughput"] = {
            "ReadCapacityUnits": units.get("ReadCapacityUnits", 0),
            "WriteCapacityUnits": units.get("WriteCapacityUnits", 0),
            "NumberOfDecreasesToday": 0,
        }
    return out


def describe(gt: GlobalTable, region: str, table: Table, status: str = "ACTIVE") -> dict[str, Any]:
    count, size = table.replicas[region].live() if region in table.replicas else (0, 0)
    definition = table.definition
    units = definition["ProvisionedThroughput"]
    billing: dict[str, Any] = {"BillingMode": definition["BillingMode"]}
    if definition.get("PayPerRequestSince") is not None:
        billing["LastUpdateToPayPerRequestDateTime"] = definition["PayPerRequestSince"]
    out: dict[str, Any] = {
        "TableName": table.name,
        "TableArn": table.arn(region),
        "TableId": table.table_id,
        "TableStatus": status,
        "KeySchema": definition["KeySchema"],
        "AttributeDefinitions": definition["AttributeDefinitions"],
        "CreationDateTime": table.created,
        "ItemCount": count,
        "TableSizeBytes": size,
        "BillingModeSummary": billing,
        "ProvisionedThroughput": {
            "ReadCapacityUnits": units.get("ReadCapacityUnits", 0),
            "WriteCapacityUnits": units.get("WriteCapacityUnits", 0),
            "NumberOfDecreasesToday": 0,
            **{k: v for k, v in units.items() if k.startswith("Last")},
        },
        "DeletionProtectionEnabled": definition.get("DeletionProtectionEnabled", False),
    }
    for is_global, section in ((False, "LocalSecondaryIndexes"), (True, "GlobalSecondaryIndexes")):
        specs = [s for s in table.indexes.values() if s.is_global == is_global]
        if specs:
            out[section] = [_index_section(s, table, region) for s in specs]
    others = [r for r in table.replicas if r != region]
    if others:
        out["GlobalTableVersion"] = "2019.11.21"
        out["Replicas"] = [{"RegionName": r, "ReplicaStatus": "ACTIVE"} for r in others]
    out["MultiRegionConsistency"] = "STRONG" if gt.strong else "EVENTUAL"
    out.update(stream_fields(table, region))
    out.update(describe_storage(definition, region, table.table_id))
    return out


def describe_table(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    check_name(req.get("TableName"))
    return {"Table": describe(gt, region, table_of(gt, req, region))}


def delete_table(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    check_name(req.get("TableName"))
    table = table_of(gt, req, region)
    if table.definition.get("DeletionProtectionEnabled"):
        raise validation(
            "Resource cannot be deleted as it is currently protected against deletion. Disable "
            "deletion protection first."
        )
    del gt.tables[table.name]
    described = describe(gt, region, table, "DELETING")
    for section in _NOT_IN_DELETE:
        described.pop(section, None)
    return {"TableDescription": described}


#: DeleteTable's description leaves out the schema (DynamoDB answers without these)
_NOT_IN_DELETE = (
    "KeySchema",
    "AttributeDefinitions",
    "CreationDateTime",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
)


def list_tables(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    limit = field(req, "Limit", int)
    if limit is None:
        limit = 100
    if not 1 <= limit <= 100:
        raise validation(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            f"constraint: Member must have value {'less' if limit > 100 else 'greater'} than or "
            f"equal to {100 if limit > 100 else 1}"
        )
    start = field(req, "ExclusiveStartTableName", str)
    names = sorted(
        n for n, t in gt.tables.items() if region in t.replicas and (start is None or n > start)
    )
    resp: dict[str, Any] = {"TableNames": names[:limit]}
    if len(names) > limit:
        resp["LastEvaluatedTableName"] = names[limit - 1]
    return resp
