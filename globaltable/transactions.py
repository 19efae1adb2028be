"""TransactWriteItems: every action is validated, then judged against the current versions;
one failure cancels all (TransactionCanceledException with one CancellationReason per
action, in order), otherwise all commit at once. Atomic in the receiving region only: each
item then replicates on its own, so other regions can briefly show part of a transaction
(AWS: transactions are atomic in their own region only). Consumed capacity is twice the
plain writes' (AWS: transactional writes cost 2x), index writes included; a ConditionCheck
consumes none here. A ClientRequestToken makes a successful call idempotent for 10 minutes in
its region: the same request again is answered without writing; another request with the
same token is an IdempotentParameterMismatchException."""

from __future__ import annotations

import time
from typing import Any

import orjson

from globaltable.capacity import merge_capacity, scaled
from globaltable.engine import GlobalTable, Prepared
from globaltable.errors import DynamoError, condition_failed, validation
from globaltable.expressions import ExpressionError
from globaltable.itemops import (
    VID_FIELD,
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
    token = client_token(req)
    rcc = capacity_mode(req)
    check_size(actions)
    if token is not None:
        done = gt.client_tokens.get((region, token))
        if done is not None and time.time() - done[1] < TOKEN_LIFE_S:
            if done[0] != fingerprint(req):
                raise DynamoError(
                    "IdempotentParameterMismatchException",
                    "The request uses the same client token as a previous, but non-identical "
                    "request. Do not reuse a client token with different requests, unless the "
                    "requests are identical.",
                )
            return done[2]  # already applied: answered again, nothing written twice
    targets, prepares, seen = [], [], set()
    for i, action in enumerate(actions):
        if not isinstance(action, dict) or len(action) != 1 or next(iter(action)) not in ACTIONS:
            raise validation(f"TransactItems[{i}] must hold exactly one of {', '.join(ACTIONS)}")
        ((kind, spec),) = action.items()
        if not isinstance(spec, dict):
            raise validation(f"TransactItems[{i}].{kind} must be a map")
        table = table_of(gt, spec, region)
        key, prepare = _plan(table, kind, spec, rcc)
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
    resp: dict[str, Any] = {}
    if rcc != "NONE":
        spent = [p.response["ConsumedCapacity"] for p in decided if p is not None]
        resp["ConsumedCapacity"] = [scaled(c, 2.0) for c in merge_capacity(spent)]
    if token is not None:
        remember(gt, region, token, fingerprint(req), resp)
    return resp


#: how long DynamoDB remembers a ClientRequestToken
TOKEN_LIFE_S = 600
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024


def client_token(req: dict[str, Any]) -> str | None:
    token = field(req, "ClientRequestToken", str)
    if token is not None and not 1 <= len(token) <= 36:
        raise validation(
            f"1 validation error detected: Value '{token}' at 'clientRequestToken' failed to "
            "satisfy constraint: Member must have length less than or equal to 36"
        )
    return token


def fingerprint(req: dict[str, Any]) -> bytes:
    """What makes two requests with one token "identical": every field but the token."""
    body = {k: v for k, v in req.items() if k not in ("ClientRequestToken", VID_FIELD)}
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def remember(gt: GlobalTable, region: str, token: str, print_: bytes, resp: dict) -> None:
    """Keep a successful transaction's answer for TOKEN_LIFE_S (forgetting expired ones)."""
    tokens = gt.client_tokens
    now = time.time()
    for old in [k for k, (_, at, _) in tokens.items() if now - at >= TOKEN_LIFE_S][:1000]:
        del tokens[old]
    tokens[(region, token)] = (print_, now, resp)


def check_size(actions: list[Any]) -> None:
    """DynamoDB's 4 MB limit on a transaction's aggregate size (here: its actions' JSON)."""
    try:
        size = len(orjson.dumps(actions))
    except TypeError:  # orjson's recursion limit: far deeper than an item may nest
        raise validation("Nesting Levels have exceeded supported limits") from None
    if size > MAX_TRANSACTION_BYTES:
        raise validation(
            f"Transaction request cannot be larger than 4 MB: the request's items hold {size} bytes"
        )
