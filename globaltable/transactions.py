"""TransactWriteItems: every action is validated, then judged against the current versions;
one failure cancels all (TransactionCanceledException with one CancellationReason per
action, in order), otherwise all commit at once. Atomic in the receiving region only: each
item then replicates on its own (reference: "TransactWriteItems ... atomic in their own region
only"). Consumed capacity is twice the plain writes' (reference: "transactional writes 2x");
a ConditionCheck consumes none here."""

from __future__ import annotations

from typing import Any

from globaltable.capacity import consumed
from globaltable.engine import GlobalTable, Prepared
from globaltable.errors import DynamoError, condition_failed, validation
from globaltable.expressions import ExpressionError
from globaltable.itemops import (
    Plan,
    checked_size,
    plan_delete,
    plan_put,
    plan_update,
    write_options,
)
from globaltable.items import ItemError
from globaltable.request import capacity_mode, field, table_of
from globaltable.store import Entry
from globaltable.table import Table

MAX_ACTIONS = 100
ACTIONS = ("ConditionCheck", "Put", "Delete", "Update")


def _plan_check(table: Table, spec: dict[str, Any]) -> Plan:
    """A ConditionCheck: the condition alone; its `prepare` returns None (nothing written)."""
    field(spec, "ConditionExpression", str, True)
    opts = write_options(spec)
    key = table.schema.of_key(field(spec, "Key", dict, True))

    def prepare(old: Entry | None) -> Prepared | None:
        old_item = old.item() if old is not None else None
        if not opts.cond.evaluate(old_item, opts.names, opts.values):
            raise condition_failed(old_item if opts.old_back else None)
        return None

    return key, prepare  # type: ignore[return-value]


def _plan(table: Table, kind: str, spec: dict[str, Any], rcc: str) -> Plan:
    if kind == "Put":
        item = field(spec, "Item", dict, True)
        return plan_put(table, item, checked_size(item), write_options(spec), rcc)
    if kind == "Delete":
        raw = field(spec, "Key", dict, True)
        return plan_delete(table, raw, write_options(spec), rcc, None)
    if kind == "Update":
        field(spec, "UpdateExpression", str, True)
        field(spec, "Key", dict, True)
        return plan_update(table, spec, write_options(spec, updating=True), rcc)
    return _plan_check(table, spec)


def _reason(exc: Exception | None) -> dict[str, Any]:
    """One CancellationReason, as DynamoDB words it."""
    if exc is None:
        return {"Code": "None"}
    if isinstance(exc, DynamoError) and exc.code == "ConditionalCheckFailedException":
        reason = {"Code": "ConditionalCheckFailed", "Message": exc.message}
        return {**reason, **(exc.extra or {})}
    message = exc.message if isinstance(exc, DynamoError) else str(exc)
    return {"Code": "ValidationError", "Message": message}


def _canceled(reasons: list[dict[str, Any]]) -> DynamoError:
    codes = ", ".join(r["Code"] for r in reasons)
    return DynamoError(
        "TransactionCanceledException",
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
        extra={"CancellationReasons": reasons},
        message_key="Message",
    )


def transact_write_items(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    actions = field(req, "TransactItems", list, True)
    if not 1 <= len(actions) <= MAX_ACTIONS:
        raise validation(
            f"1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length between 1 and {MAX_ACTIONS} (got {len(actions)})"
        )
    field(req, "ClientRequestToken", str)  # accepted; idempotency is not emulated
    rcc = capacity_mode(req)
    targets, prepares, seen = [], [], set()
    for i, action in enumerate(actions):
        if not isinstance(action, dict) or len(action) != 1 or next(iter(action)) not in ACTIONS:
            raise validation(f"TransactItems[{i}] must hold exactly one of {', '.join(ACTIONS)}")
        ((kind, spec),) = action.items()
        if not isinstance(spec, dict):
            raise validation(f"TransactItems[{i}].{kind} must be a map")
        table = table_of(gt, spec, region)
        key, prepare = _plan(table, kind, spec, "TOTAL" if rcc != "NONE" else "NONE")
        if (table.name, key) in seen:
            raise validation("Transaction request cannot include multiple operations on one item")
        seen.add((table.name, key))
        targets.append((table, key))
        prepares.append(prepare)
    decided: list[Prepared | None] = []

    def decide(olds: list[Entry | None]) -> list[Prepared | None]:
        errors: list[Exception | None] = []
        for prepare, old in zip(prepares, olds, strict=True):
            try:
                decided.append(prepare(old))
                errors.append(None)
            except (DynamoError, ExpressionError, ItemError) as exc:
                decided.append(None)
                errors.append(exc)
        if any(e is not None for e in errors):
            raise _canceled([_reason(e) for e in errors])
        return decided

    gt.transact(region, targets, decide)
    if rcc == "NONE":
        return {}
    units: dict[str, float] = {}
    for (table, _), prepared in zip(targets, decided, strict=True):
        if prepared is not None:
            spent = 2 * prepared.response["ConsumedCapacity"]["CapacityUnits"]
            units[table.name] = units.get(table.name, 0.0) + spent
    return {"ConsumedCapacity": [consumed(name, u, rcc, True) for name, u in units.items()]}
