"""DynamoDB's capacity arithmetic (reference: "Capacity and price"): writes per started 1 KB
of the larger of the before and after images, reads per started 4 KB, half for eventually
consistent reads."""

from __future__ import annotations

from typing import Any

KB = 1024
READ_BLOCK = 4 * KB


def write_units(before: int, after: int) -> float:
    size = max(before, after)
    return float(max(1, -(-size // KB)))


def read_units(size: int, consistent: bool) -> float:
    units = float(max(1, -(-size // READ_BLOCK)))
    return units if consistent else units / 2


def consumed(table: str, units: float, mode: str, write: bool) -> dict[str, Any]:
    """The `ConsumedCapacity` object for `ReturnConsumedCapacity` TOTAL or INDEXES."""
    kind = "WriteCapacityUnits" if write else "ReadCapacityUnits"
    out: dict[str, Any] = {"TableName": table, "CapacityUnits": units, kind: units}
    if mode == "INDEXES":
        out["Table"] = {"CapacityUnits": units, kind: units}
    return out
