"""`RecordingClient`: a user's way to the store, turning every call into a history record.

Workloads state store-neutral operations (`loadgen.ops`); this class times them, maps errors
to outcomes (store error -> `fail`, a request that never left (DNS, refused, TLS handshake) ->
`fail` with `NotSent:<cause>`, timeout/lost connection/5xx -> `unknown`, client-side fault ->
`fail` with `ClientFault:<fault>`), reads `pred`/`attr_preds` from the item each write
replaced, and follows the failover policy while the writer's own region is unreachable.
`send` passes a raw DynamoDB request through, for workloads written against DynamoDB alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from loadgen.client import (
    CONDITION_FAILED,
    ConditionFailed,
    NotSent,
    OutcomeUnknown,
    StoreError,
)
from loadgen.conditions import ClientConditions, ClientFault
from loadgen.ops import VID, Answer, Item, Op, Store, Write
from loadgen.recorder import RecordIds
from units.items import item_size
from verdict.history import Op as RecordOp
from verdict.history import Outcome, Record

Sink = Callable[[Record], None]
#: seconds a writer stays failed over before trying its own region again
FAILOVER_HOLD_S = 1.0


def vid_attrs(item: dict[str, Any]) -> dict[str, str]:
    """attr -> vid of every `hh_vid_<attr>` in a DynamoDB item."""
    prefix = VID + "_"
    return {k[len(prefix) :]: v["S"] for k, v in item.items() if k.startswith(prefix) and "S" in v}


def item_vid(item: dict[str, Any] | None) -> str | None:
    if not item or VID not in item:
        return None
    return item[VID].get("S")


class HomeDown:
    """Until when a writer's home region counts as unreachable (monotonic clock). A closed-
    model user keeps its own; the open model's slots of one region share one, as one
    application's clients would learn of an outage together."""

    __slots__ = ("until",)

    def __init__(self) -> None:
        self.until = 0.0


class RecordingClient:
    """One writer's calls: `home` is its region, `region` where calls currently go.
    `client_for(region)` makes the writer's own `Store` for a region."""

    def __init__(
        self,
        *,
        home: str,
        ids: RecordIds,
        sink: Sink,
        conditions: ClientConditions,
        client_for: Callable[[str], Store],
        failover_to: str | None = None,
        home_down: HomeDown | None = None,
        table: str = "",
    ) -> None:
        self.home = home
        self.table = table
        self.ids = ids
        self.sink = sink
        self.conditions = conditions
        self._client_for = client_for
        self._clients: dict[str, Store] = {}
        self.failover_to = failover_to
        self._home_down = home_down or HomeDown()

    @property
    def region(self) -> str:
        if self.failover_to and time.monotonic() < self._home_down.until:
            return self.failover_to
        return self.home

    def now(self) -> float:
        """The writer's (possibly skewed) wall clock."""
        return self.conditions.now(self.home)

    def record(self, workload: str, key: str, op: RecordOp) -> Record:
        """A fresh record; for writes its `id` is the vid to put into the item."""
        rid = self.ids.next()
        return Record(id=rid, worker=self.ids.worker, workload=workload, key=key, op=op.value)

    def client(self, region: str) -> Store:
        if region not in self._clients:
            self._clients[region] = self._client_for(region)
        return self._clients[region]

    def perform(
        self,
        rec: Record,
        op: Op,
        *,
        region: str | None = None,
        finish: Callable[[Record, Answer], None] | None = None,
    ) -> Answer | None:
        """Perform `op`, complete `rec` and hand it to the sink. Returns the answer, None on
        failure. `finish(rec, answer)` adds fields from a successful answer."""

        def complete(answer: Answer) -> None:
            after = op.image if isinstance(op, Write) else None
            self._record_answer(rec, answer, after)
            if finish is not None:
                finish(rec, answer)

        return self._invoke(rec, region, lambda store: store.perform(op), complete)

    def send(
        self,
        rec: Record,
        operation: str,
        request: dict[str, Any],
        *,
        after: Callable[[Item], Item] | None = None,
        region: str | None = None,
        finish: Callable[[Record, dict[str, Any]], None] | None = None,
    ) -> dict[str, Any] | None:
        """A raw DynamoDB request (DynamoDB targets only): as `perform`, with `TableName`
        and `ReturnConsumedCapacity` added; `after(old_item) -> new_item` gives `item_bytes`."""
        request = {"TableName": self.table, "ReturnConsumedCapacity": "TOTAL", **request}

        def call(store: Store) -> dict[str, Any]:
            raw = getattr(store, "call", None)
            if raw is None:
                raise TypeError(
                    f"calls.send({operation}) sends a raw DynamoDB request, which a "
                    f"{type(store).__name__} target cannot take: state the operation with "
                    "calls.perform(rec, op) and loadgen.ops instead"
                )
            answer: dict[str, Any] = raw(operation, request)
            return answer

        def complete(answer: dict[str, Any]) -> None:
            units = answer.get("ConsumedCapacity", {}).get("CapacityUnits")
            read = Answer(
                old=answer.get("Attributes") or None,
                item=answer.get("Item"),
                capacity=None if units is None else float(units),
            )
            self._record_answer(rec, read, after)
            if finish is not None:
                finish(rec, answer)

        return self._invoke(rec, region, call, complete)

    def _invoke(
        self,
        rec: Record,
        region: str | None,
        call: Callable[[Store], Any],
        complete: Callable[[Any], None],
    ) -> Any:
        target = region or self.region
        rec["region"] = target
        rec["t_invoke"] = time.time()
        answer: Any = None
        try:
            self.conditions.check(target, self.home)
            answer = call(self.client(target))
        except ClientFault as exc:
            self._fail(rec, Outcome.FAIL, exc.code, target, unreachable=exc.fault == "outage")
        except StoreError as exc:
            self._fail(rec, Outcome.FAIL, exc.code, target, unreachable=False)
            blocker = item_vid(exc.item) if isinstance(exc, ConditionFailed) else None
            if blocker:  # the store named the item that beat the condition
                rec["blocked_by"] = blocker
        except NotSent as exc:  # it never left: certainly not applied
            self._fail(rec, Outcome.FAIL, exc.reason, target, unreachable=True)
        except OutcomeUnknown as exc:
            self._fail(rec, Outcome.UNKNOWN, exc.reason, target, unreachable=True)
        except Exception:
            raise
        except BaseException as exc:
            # the user killed mid-call: Locust's stop may deliver its kill after the user woke
            # from its think time and sent a request, which may then have been applied; the
            # record must not vanish with the greenlet
            self._fail(rec, Outcome.UNKNOWN, f"Interrupted:{type(exc).__name__}", target,
                       unreachable=False)  # fmt: skip
            self.sink(rec)
            raise
        else:
            rec["t_complete"] = time.time()
            rec["outcome"] = Outcome.OK.value
            complete(answer)
        self.sink(rec)
        return answer

    def _fail(
        self, rec: Record, outcome: Outcome, error: str, target: str, *, unreachable: bool
    ) -> None:
        rec["t_complete"] = time.time()
        rec["outcome"] = outcome.value
        rec["error"] = error
        if unreachable and target == self.home:
            self._home_down.until = time.monotonic() + FAILOVER_HOLD_S

    @staticmethod
    def _record_answer(rec: Record, answer: Answer, after: Callable[[Item], Item] | None) -> None:
        if answer.capacity is not None:
            rec["capacity"] = answer.capacity
        if rec["op"] == RecordOp.GET:
            item = answer.item
            rec["vid"] = item_vid(item)
            if item:
                attrs = vid_attrs(item)
                if attrs:
                    rec["attrs"] = attrs
            return
        old = answer.old or {}
        rec["pred"] = item_vid(old)
        if "attrs" in rec:
            rec["attr_preds"] = {a: old.get(f"{VID}_{a}", {}).get("S") for a in rec["attrs"]}
        if not answer.sized:
            return
        rec["old_bytes"] = item_size(old) if old else 0
        if after is not None:
            rec["item_bytes"] = item_size(after(old))


def counts_as_error(rec: Record) -> bool:
    """A failed request, for the progress view. A condition-check rejection is not one: it is
    the answer guarded and client_lww writes are built to get (the verdict still counts it
    as a failed write)."""
    return rec.get("outcome") != Outcome.OK and rec.get("error") != CONDITION_FAILED
