"""TransactGetItems: up to 100 Gets, read together from the receiving region's replica
(nothing runs between them: the emulator serves one request at a time), at transactional
read cost: two units per started 4 KB of each item, a missing item two."""

from __future__ import annotations

from typing import Any

from globaltable.capacity import consumed, read_units
from globaltable.engine import GlobalTable
from globaltable.errors import validation
from globaltable.itemops import read_options
from globaltable.request import capacity_mode, field, table_of
from globaltable.transactions import MAX_ACTIONS


def transact_get_items(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    actions = field(req, "TransactItems", list, True)
    if not 1 <= len(actions) <= MAX_ACTIONS:
        raise validation(
            f"1 validation error detected: Value at 'transactItems' failed to satisfy "
            f"constraint: Member must have length between 1 and {MAX_ACTIONS}"
        )
    rcc = capacity_mode(req)
    if gt.strong:
        raise validation(
            "TransactGetItems is not supported on multi-Region strongly consistent (MRSC) "
            "global tables"
        )
    parsed = []
    for i, action in enumerate(actions):
        spec = action.get("Get") if isinstance(action, dict) and len(action) == 1 else None
        if not isinstance(spec, dict):
            raise validation(f"TransactItems[{i}] must hold exactly one Get")
        proj, names = read_options(spec)
        parsed.append((spec, proj, names, field(spec, "Key", dict, True)))
    reads, seen = [], set()
    for spec, proj, names, raw_key in parsed:
        table = table_of(gt, spec, region)
        key = table.schema.of_key(raw_key)
        if (table.name, key) in seen:
            raise validation("Transaction request cannot include multiple operations on one item")
        seen.add((table.name, key))
        reads.append((table, key, proj, names))
    responses: list[dict[str, Any]] = []
    units: dict[str, float] = {}
    for table, key, proj, names in reads:
        entry = table.replicas[region].get(key)
        item = entry.item() if entry is not None else None
        responses.append(
            {} if item is None else {"Item": item if proj is None else proj.apply(item, names)}
        )
        size = entry.size if item is not None else 0  # type: ignore[union-attr]
        units[table.name] = units.get(table.name, 0.0) + 2 * read_units(size, True)
    resp: dict[str, Any] = {"Responses": responses}
    if rcc != "NONE":
        resp["ConsumedCapacity"] = [consumed(n, u, rcc, False) for n, u in units.items()]
    return resp
