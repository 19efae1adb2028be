"""UpdateTable: billing mode, provisioned throughput, GSIs (create with backfill, update,
delete), and replicas (add with backfill, remove). Changes apply at once in every region
(hothot's choice: no UPDATING/CREATING phase to wait out; the answer still says UPDATING, as
DynamoDB's does, and DescribeTable says ACTIVE)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from globaltable.engine import GlobalTable
from globaltable.errors import INVALID, DynamoError, resource_not_found, validation
from globaltable.indexes import MAX_GSIS
from globaltable.replicas import add_replica, check_replica_update, remove_replica
from globaltable.request import check_name, field, table_of
from globaltable.streams import apply_spec, stream_spec
from globaltable.table import Table
from globaltable.tabledefs import (
    BILLING_MODES,
    attribute_types,
    check_projected,
    index_spec,
    storage_settings,
    throughput,
)
from globaltable.tableops import describe

UPDATES = (
    "ProvisionedThroughput",
    "BillingMode",
    "StreamSpecification",
    "GlobalSecondaryIndexUpdates",
    "SSESpecification",
    "ReplicaUpdates",
    "TableClass",
    "DeletionProtectionEnabled",
)


def update_table(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    check_name(req.get("TableName"))
    if not any(req.get(name) not in (None, []) for name in UPDATES):
        raise validation(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
            "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
        )
    if req.get("AttributeDefinitions") is not None:
        attribute_types(req)  # names, types and duplicates, before the table is looked up
    table = table_of(gt, req, region)
    gsi_updates = _gsi_updates(req)
    billing, apply_billing = _billing(table, req, gsi_updates)
    plans = [_plan_index(table, req, update, billing) for update in gsi_updates]
    stream = stream_spec(req.get("StreamSpecification"))
    replica_updates = _replica_updates(req)
    for action, target in replica_updates:
        check_replica_update(gt, table, action, target)
    protect = field(req, "DeletionProtectionEnabled", bool)
    storage = storage_settings(req)
    apply_spec(table, stream, creating=False)
    table.definition.update(storage)
    apply_billing()
    if protect is not None:
        table.definition["DeletionProtectionEnabled"] = protect
    for plan in plans:
        plan()
    for action, target in replica_updates:
        (add_replica if action == "Create" else remove_replica)(gt, table, target)
    return {"TableDescription": describe(gt, region, table, "UPDATING")}


def _gsi_updates(req: dict[str, Any]) -> list[dict[str, Any]]:
    updates = field(req, "GlobalSecondaryIndexUpdates", list) or []
    seen: set[str] = set()
    for update in updates:
        if not isinstance(update, dict) or not any(
            update.get(k) for k in ("Create", "Update", "Delete")
        ):
            raise validation(
                f"{INVALID}One of GlobalSecondaryIndexUpdate.Update, "
                "GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null"
            )
        if sum(update.get(k) is not None for k in ("Create", "Update", "Delete")) > 1:
            raise validation(
                f"{INVALID}A GlobalSecondaryIndexUpdate holds only one of Create, Update, Delete"
            )
        action = next(k for k in ("Create", "Update", "Delete") if update.get(k))
        name = update[action].get("IndexName") if isinstance(update[action], dict) else None
        if name in seen:
            raise validation(
                f"{INVALID}Only one global secondary index update per index is allowed "
                f"simultaneously. Index: {name}"
            )
        seen.add(name)
    if sum(bool(u.get("Create") or u.get("Delete")) for u in updates) > 1:
        raise DynamoError(
            "LimitExceededException",
            "Subscriber limit exceeded: Only 1 online index can be created or deleted "
            "simultaneously per table",
        )
    return updates


def _billing(
    table: Table, req: dict[str, Any], gsi_updates: list[dict[str, Any]]
) -> tuple[str, Callable[[], None]]:
    """Validate BillingMode / ProvisionedThroughput changes: the new mode, and what applies
    them (after every part of the request is validated: a refused request changes nothing)."""
    definition = table.definition
    current = definition["BillingMode"]
    wanted = field(req, "BillingMode", str) or current
    if wanted not in BILLING_MODES:
        raise validation(
            f"1 validation error detected: Value '{wanted}' at 'billingMode' failed to satisfy "
            "constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
        )
    raw = req.get("ProvisionedThroughput")
    if wanted == "PROVISIONED" and current != "PROVISIONED" and raw is None:
        raise validation(
            f"{INVALID}ProvisionedThroughput must be specified when BillingMode is PROVISIONED"
        )
    units = throughput(raw, wanted) if raw is not None or wanted != current else None
    if wanted == "PROVISIONED" and current != "PROVISIONED":
        updated = {
            u["Update"]["IndexName"] for u in gsi_updates if isinstance(u.get("Update"), dict)
        }
        missing = [s.name for s in table.indexes.values() if s.is_global and s.name not in updated]
        if missing:
            raise validation(
                f"{INVALID}ProvisionedThroughput must be specified for index: {','.join(missing)}"
            )
    same = units is not None and all(
        units[k] == definition["ProvisionedThroughput"].get(k) for k in units
    )
    if same and wanted == current:
        raise validation(
            "The provisioned throughput for the table will not change. The requested value "
            "equals the current value. Current ReadCapacityUnits provisioned for the table: "
            f"{units['ReadCapacityUnits']}. Requested ReadCapacityUnits: "  # type: ignore[index]
            f"{units['ReadCapacityUnits']}. Current WriteCapacityUnits provisioned for the table: "  # type: ignore[index]
            f"{units['WriteCapacityUnits']}. Requested WriteCapacityUnits: "  # type: ignore[index]
            f"{units['WriteCapacityUnits']}. Refer to the Amazon DynamoDB Developer Guide for "
            "current limits and how to request higher limits."
        )

    def apply() -> None:
        if wanted == "PAY_PER_REQUEST" and current != "PAY_PER_REQUEST":
            definition["PayPerRequestSince"] = time.time()
            for spec in table.indexes.values():
                spec.throughput = None
        definition["BillingMode"] = wanted
        if units is not None or (wanted == "PAY_PER_REQUEST" and current != wanted):
            old = definition["ProvisionedThroughput"]
            new = units or {}
            stamp = {}
            if sum(new.values()) > sum(old.get(k, 0) for k in new):
                stamp["LastIncreaseDateTime"] = time.time()
            elif old:
                stamp["LastDecreaseDateTime"] = time.time()
            definition["ProvisionedThroughput"] = {**new, **stamp}

    return wanted, apply


def _plan_index(table: Table, req: dict[str, Any], update: dict[str, Any], billing: str) -> Any:
    """Validate one GSI update; returns what applies it."""
    if update.get("Create"):
        defined = {
            d["AttributeName"]: d["AttributeType"] for d in table.definition["AttributeDefinitions"]
        }
        # the new index's keys must be defined in this request, even those the table knows
        # (DynamoDB refuses otherwise), and with the type the table already gives them
        types = attribute_types(req) if req.get("AttributeDefinitions") is not None else {}
        for name, type_ in types.items():
            if defined.get(name, type_) != type_:
                raise validation(
                    f"{INVALID}Attributes cannot be redefined. Please check that your attribute "
                    f"has the same type as previously defined. Existing type of {name}: "
                    f"{defined[name]}, new type: {type_}"
                )
        spec = index_spec(update["Create"], True, types, table.schema, billing)
        if spec.name in table.indexes:
            raise validation(f"Attempting to create an index which already exists: {spec.name}")
        if sum(s.is_global for s in table.indexes.values()) >= MAX_GSIS:
            raise DynamoError(
                "LimitExceededException",
                f"Subscriber limit exceeded: the table already has {MAX_GSIS} global secondary indexes",
            )
        check_projected([*table.indexes.values(), spec])
        used = {n for n in (spec.hash_name, spec.range_name) if n is not None}

        def create() -> None:
            defs = table.definition["AttributeDefinitions"]
            known = {d["AttributeName"] for d in defs}
            defs.extend(
                {"AttributeName": n, "AttributeType": types[n]} for n in sorted(used - known) if n
            )
            table.add_index(spec)

        return create
    action = "Update" if update.get("Update") else "Delete"
    body = update[action]
    name = body.get("IndexName") if isinstance(body, dict) else None
    spec = table.indexes.get(name)  # type: ignore[arg-type]
    if spec is None or not spec.is_global:
        raise resource_not_found(f"Index: {name} not found")
    if action == "Delete":
        return lambda: table.drop_index(spec.name)
    units = throughput(body.get("ProvisionedThroughput"), billing, spec.name)

    def change() -> None:
        spec.throughput = units

    return change


def _replica_updates(req: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for update in field(req, "ReplicaUpdates", list) or []:
        if (
            not isinstance(update, dict)
            or len(update) != 1
            or next(iter(update)) not in ("Create", "Delete", "Update")
        ):
            raise validation(
                f"{INVALID}Each ReplicaUpdates element holds one of Create, Update, Delete"
            )
        ((action, body),) = update.items()
        region = body.get("RegionName") if isinstance(body, dict) else None
        if not isinstance(region, str):
            raise validation(f"{INVALID}ReplicaUpdates.{action}.RegionName must be a region name")
        if action != "Update":
            out.append((action, region))
    return out
