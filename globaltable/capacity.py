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


def consumed(
    table: str,
    units: float,
    mode: str,
    write: bool,
    gsi: dict[str, float] | None = None,
    lsi: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The `ConsumedCapacity` object for `ReturnConsumedCapacity` TOTAL or INDEXES: `units`
    for the table itself, `gsi`/`lsi` by index name; the total counts them all."""
    kind = "WriteCapacityUnits" if write else "ReadCapacityUnits"
    total = units + sum((gsi or {}).values()) + sum((lsi or {}).values())
    out: dict[str, Any] = {"TableName": table, "CapacityUnits": total, kind: total}
    if mode == "INDEXES":
        out["Table"] = {"CapacityUnits": units, kind: units}
        if gsi:
            out["GlobalSecondaryIndexes"] = {
                n: {"CapacityUnits": u, kind: u} for n, u in gsi.items()
            }
        if lsi:
            out["LocalSecondaryIndexes"] = {
                n: {"CapacityUnits": u, kind: u} for n, u in lsi.items()
            }
    return out


def merge_capacity(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-table sums of several ConsumedCapacity objects (a batch's answer)."""
    merged: dict[str, dict[str, Any]] = {}
    for part in parts:
        into = merged.get(part["TableName"])
        if into is None:
            merged[part["TableName"]] = _copy(part)
        else:
            _add_into(into, part)
    return list(merged.values())


def _copy(part: dict[str, Any]) -> dict[str, Any]:
    return {k: _copy(v) if isinstance(v, dict) else v for k, v in part.items()}


def _add_into(into: dict[str, Any], part: dict[str, Any]) -> None:
    for k, v in part.items():
        if isinstance(v, dict):
            _add_into(into.setdefault(k, {}), v)
        elif isinstance(v, float | int):
            into[k] = into.get(k, 0.0) + v


def scaled(part: dict[str, Any], factor: float) -> dict[str, Any]:
    """A ConsumedCapacity object with every figure multiplied (transactions cost double)."""
    return {
        k: scaled(v, factor)
        if isinstance(v, dict)
        else v * factor
        if isinstance(v, float | int)
        else v
        for k, v in part.items()
    }
