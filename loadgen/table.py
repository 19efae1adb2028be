"""The campaign table: `pk` (S), no sort key, on-demand (docs/architecture.md "The table")."""

from __future__ import annotations

import time

from loadgen.client import DynamoClient, NoAnswer, StoreError

#: the campaign table's CreateTable request, less its name
TABLE_DEFINITION = {
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST",
}


class TableUnusable(Exception):
    """The table cannot be used; the message names the endpoint and the table."""


def _where(client: DynamoClient, endpoint: str | None) -> str:
    return f"region {client.region}" + (f" ({endpoint})" if endpoint else "")


def check_table(client: DynamoClient, table: str, endpoint: str | None = None) -> None:
    """Raise `TableUnusable` unless `table` exists, is ACTIVE and is keyed by `pk` (S)."""
    where = _where(client, endpoint)
    try:
        answer = client.call("DescribeTable", {"TableName": table})
    except StoreError as exc:
        if exc.code == "ResourceNotFoundException":
            raise TableUnusable(f"table {table!r} does not exist in {where}") from None
        raise TableUnusable(f"table {table!r} in {where}: {exc}") from None
    except NoAnswer as exc:
        raise TableUnusable(f"cannot reach {where} to check table {table!r}: {exc}") from None
    description = answer.get("Table", {})
    keys = [(k["AttributeName"], k["KeyType"]) for k in description.get("KeySchema", [])]
    if keys != [("pk", "HASH")]:
        raise TableUnusable(
            f"table {table!r} in {where} must have only the partition key pk (S); it has {keys}"
        )


def create_table(
    client: DynamoClient, table: str, endpoint: str | None = None, *, wait_s: float = 60.0
) -> bool:
    """Create `table` unless it exists; wait until ACTIVE. Returns True when it was created."""
    where = _where(client, endpoint)
    request = {"TableName": table, **TABLE_DEFINITION}
    created = True
    try:
        client.call("CreateTable", request)
    except StoreError as exc:
        if exc.code != "ResourceInUseException":
            raise TableUnusable(f"cannot create table {table!r} in {where}: {exc}") from None
        created = False
    except NoAnswer as exc:
        raise TableUnusable(f"cannot reach {where} to create table {table!r}: {exc}") from None
    deadline = time.monotonic() + wait_s
    while True:
        status = (
            client.call("DescribeTable", {"TableName": table}).get("Table", {}).get("TableStatus")
        )
        if status == "ACTIVE":
            break
        if time.monotonic() > deadline:
            raise TableUnusable(
                f"table {table!r} in {where} not ACTIVE after {wait_s:g}s (status {status})"
            )
        time.sleep(0.5)
    check_table(client, table, endpoint)
    return created
