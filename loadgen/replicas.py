"""A real DynamoDB global table (version 2019.11.21): create one across the campaign's regions,
or check that the table found is one.

Creating: CreateTable in the first region, then one `UpdateTable` `ReplicaUpdates: Create` per
other region, each waited for until the table and the new replica are ACTIVE (DynamoDB takes one
table update at a time). Before anything is created every region is asked whether the table is
already there: a table present in some regions and not in others is refused as it is, since
hothot only creates from nothing. If creation fails or is interrupted half-way, what was created
is deleted again (replicas first, then the table) and the error says what was cleaned up, or
exactly what is left and how to delete it.
References: UpdateTable and ReplicationGroupUpdate in the DynamoDB API reference
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTable.html).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from loadgen.client import DynamoClient, NoAnswer, StoreError
from loadgen.table import TABLE_DEFINITION, TableUnusable

#: the global tables version hothot models (2017.11.29 "Legacy" replicates differently)
GLOBAL_TABLE_VERSION = "2019.11.21"
#: how long one table or replica may take to become ACTIVE (an empty replica: minutes)
ACTIVE_WAIT_S = 1800.0

Say = Callable[[str], None]


class NotGlobal(TableUnusable):
    """The table seen from a region is not one global table across the campaign's regions."""


def describe(client: DynamoClient, table: str) -> dict[str, Any] | None:
    """The table's description in `client.region`, None when it does not exist there."""
    try:
        return dict(client.call("DescribeTable", {"TableName": table})["Table"])
    except StoreError as exc:
        if exc.code == "ResourceNotFoundException":
            return None
        raise TableUnusable(f"table {table!r} in region {client.region}: {exc}") from None
    except NoAnswer as exc:
        raise TableUnusable(f"cannot reach region {client.region}: {exc}") from None


def check_replicas(client: DynamoClient, table: str, regions: list[str]) -> None:
    """On AWS, same-named tables in each region need not be one global table: the table seen
    from `client.region` must list an ACTIVE replica in every other campaign region, else
    writes never replicate and every verdict would be about a table that is not there."""
    description = describe(client, table)
    where = f"table {table!r} in region {client.region}"
    if description is None:
        raise NotGlobal(f"{where} does not exist")
    version = description.get("GlobalTableVersion")
    if version and version != GLOBAL_TABLE_VERSION:
        raise NotGlobal(
            f"{where} is a version {version} (Legacy) global table; hothot and FIS need "
            f"version {GLOBAL_TABLE_VERSION}"
        )
    replicas = _replicas(description)
    missing = [r for r in regions if r != client.region and r not in replicas]
    if missing:
        raise NotGlobal(
            f"{where} has no replica in {', '.join(missing)} (its replicas: "
            f"{', '.join(sorted(map(str, replicas))) or 'none'}): it is not one global table "
            "across target.regions"
        )
    idle = [f"{r} is {replicas[r]}" for r in regions if r in replicas and replicas[r] != "ACTIVE"]
    if idle:
        raise NotGlobal(f"{where}: replicas not ACTIVE: {'; '.join(idle)}")


def create_global_table(
    clients: dict[str, DynamoClient], table: str, say: Say, *, wait_s: float = ACTIVE_WAIT_S
) -> bool:
    """Create `table` as one global table over `clients`' regions (the first one first).
    Returns False when it exists in every region already (the caller checks it), True when
    created. Raises TableUnusable, having created nothing or cleaned up what it created."""
    regions = list(clients)
    first = clients[regions[0]]
    present = [r for r in regions if describe(clients[r], table) is not None]
    if len(present) == len(regions):
        return False
    if present:
        absent = [r for r in regions if r not in present]
        raise TableUnusable(
            f"table {table!r} exists in {', '.join(present)} but not in {', '.join(absent)}; "
            "hothot creates a global table only where none of it exists (nothing was created): "
            "add the missing replicas yourself, or pick another target.table"
        )
    created: list[str] = []
    try:
        _call(first, "CreateTable", TABLE_DEFINITION | {"TableName": table} | _STREAM, table)
        created.append(first.region)
        say(f"created table {table!r} in {first.region}")
        _wait(first, table, None, wait_s)
        for region in regions[1:]:
            update = {"TableName": table, "ReplicaUpdates": [{"Create": {"RegionName": region}}]}
            _call(first, "UpdateTable", update, table)
            created.append(region)
            _wait(first, table, region, wait_s)
            say(f"added the replica of {table!r} in {region}")
    except BaseException as exc:  # an interruption (Ctrl-C) too: never leave a stray table
        if not created:
            raise
        left = _clean_up(first, table, created, say)
        reason = str(exc) or type(exc).__name__
        if left:
            raise TableUnusable(
                f"creating global table {table!r} failed ({reason}); cleaning up failed too, "
                f"LEFT BEHIND: {'; '.join(left)}"
            ) from exc
        if not isinstance(exc, Exception):
            raise
        raise TableUnusable(
            f"creating global table {table!r} failed ({reason}); deleted what was created "
            f"({', '.join(reversed(created))}): nothing is left"
        ) from exc
    return True


#: DynamoDB Streams with both images, which replicas are built from
_STREAM = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}}


def _call(client: DynamoClient, operation: str, request: dict[str, Any], table: str) -> Any:
    try:
        return client.call(operation, request)
    except (StoreError, NoAnswer) as exc:
        raise TableUnusable(f"{operation} of {table!r} in {client.region}: {exc}") from None


def _replicas(description: dict[str, Any]) -> dict[str, str]:
    return {
        str(r.get("RegionName")): str(r.get("ReplicaStatus"))
        for r in description.get("Replicas", [])
    }


def _wait(
    client: DynamoClient, table: str, replica: str | None, wait_s: float, gone: bool = False
) -> None:
    """Poll DescribeTable (every 0.2 s, doubling up to 5 s) until the table is ACTIVE and
    `replica` is ACTIVE (or, `gone`, no longer listed)."""
    deadline, pause, status = time.monotonic() + wait_s, 0.2, "?"
    while True:
        description = describe(client, table) or {}
        replicas = _replicas(description)
        status = f"table {description.get('TableStatus')}"
        if replica is not None:
            status += f", replica in {replica} {replicas.get(replica, 'absent')}"
        done = replica is None or (
            replica not in replicas if gone else replicas.get(replica) == "ACTIVE"
        )
        if description.get("TableStatus") == "ACTIVE" and done:
            return
        if replica is not None and not gone and replicas.get(replica) == "CREATION_FAILED":
            raise TableUnusable(f"the replica of {table!r} in {replica} failed to be created")
        if time.monotonic() > deadline:
            raise TableUnusable(f"{table!r} not ready after {wait_s:g}s ({status})")
        time.sleep(pause)
        pause = min(5.0, pause * 2)


def _clean_up(first: DynamoClient, table: str, created: list[str], say: Say) -> list[str]:
    """Delete the replicas hothot added (newest first), then the table; returns what could
    not be deleted, each with the command that deletes it."""
    left: list[str] = []
    for region in reversed(created[1:]):
        try:
            _wait(first, table, None, ACTIVE_WAIT_S)  # one table update at a time
            update = {"TableName": table, "ReplicaUpdates": [{"Delete": {"RegionName": region}}]}
            _call(first, "UpdateTable", update, table)
            _wait(first, table, region, ACTIVE_WAIT_S, gone=True)
            say(f"cleanup: deleted the replica of {table!r} in {region}")
        except TableUnusable as exc:
            left.append(f"the replica of {table!r} in {region} ({exc})")
    if left:  # the table cannot go while replicas hang off it
        left.append(_delete_hint(table, first.region))
        return left
    try:
        _wait(first, table, None, ACTIVE_WAIT_S)
        _call(first, "DeleteTable", {"TableName": table}, table)
        say(f"cleanup: deleted table {table!r} in {first.region}")
    except TableUnusable as exc:
        left.append(f"{_delete_hint(table, first.region)} ({exc})")
    return left


def _delete_hint(table: str, region: str) -> str:
    return (
        f"table {table!r} in {region}: aws dynamodb delete-table --table-name {table} "
        f"--region {region}"
    )
