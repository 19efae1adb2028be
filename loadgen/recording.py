"""`RecordingClient`: a user's way to the store, turning every call into a history record.

Workloads build DynamoDB requests; this class times them, maps errors to outcomes (store
error -> `fail`, a request that never left (DNS, refused, TLS handshake) -> `fail` with
`NotSent:<cause>`, timeout/lost connection/5xx -> `unknown`, client-side fault -> `fail` with
`ClientFault:<fault>`), reads `pred`/`attr_preds` from `ReturnValues=ALL_OLD`, and follows the
failover policy while the writer's own region is unreachable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from loadgen.client import (
    CONDITION_FAILED,
    ConditionFailed,
    DynamoClient,
    NotSent,
    OutcomeUnknown,
    StoreError,
)
from loadgen.conditions import ClientConditions, ClientFault
from loadgen.recorder import RecordIds
from units.items import item_size
from verdict.history import Op, Outcome, Record

Sink = Callable[[Record], None]
#: attribute carrying a write's version id; `hh_vid_<attr>` for attribute-level writes
VID = "hh_vid"
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


class RecordingClient:
    """One writer's calls: `home` is its region, `region` where calls currently go."""

    def __init__(
        self,
        *,
        home: str,
        table: str,
        ids: RecordIds,
        sink: Sink,
        conditions: ClientConditions,
        client_for: Callable[[str], DynamoClient],
        failover_to: str | None = None,
    ) -> None:
        self.home = home
        self.table = table
        self.ids = ids
        self.sink = sink
        self.conditions = conditions
        self._client_for = client_for
        self._clients: dict[str, DynamoClient] = {}
        self.failover_to = failover_to
        self._home_down_until = 0.0

    @property
    def region(self) -> str:
        if self.failover_to and time.monotonic() < self._home_down_until:
            return self.failover_to
        return self.home

    def now(self) -> float:
        """The writer's (possibly skewed) wall clock."""
        return self.conditions.now(self.home)

    def record(self, workload: str, key: str, op: Op) -> Record:
        """A fresh record; for writes its `id` is the vid to put into the item."""
        rid = self.ids.next()
        return Record(id=rid, worker=self.ids.worker, workload=workload, key=key, op=op.value)

    def client(self, region: str) -> DynamoClient:
        if region not in self._clients:
            self._clients[region] = self._client_for(region)
        return self._clients[region]

    def send(
        self,
        rec: Record,
        operation: str,
        request: dict[str, Any],
        *,
        after: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        region: str | None = None,
        finish: Callable[[Record, dict[str, Any]], None] | None = None,
    ) -> dict[str, Any] | None:
        """Call, complete `rec` and hand it to the sink. Returns the answer, None on failure.

        `after(old_item) -> new_item` lets a write report `item_bytes`; `finish(rec, answer)`
        adds fields from a successful answer before the record is sunk.
        """
        target = region or self.region
        rec["region"] = target
        request = {"TableName": self.table, "ReturnConsumedCapacity": "TOTAL", **request}
        rec["t_invoke"] = time.time()
        answer: dict[str, Any] | None = None
        try:
            self.conditions.check(target, self.home)
            answer = self.client(target).call(operation, request)
        except ClientFault as exc:
            self._fail(rec, Outcome.FAIL, exc.code, target, unreachable=exc.fault == "outage")
        except StoreError as exc:
            self._fail(rec, Outcome.FAIL, exc.code, target, unreachable=False)
            blocker = item_vid(exc.item) if isinstance(exc, ConditionFailed) else None
            if blocker:  # asked with ReturnValuesOnConditionCheckFailure=ALL_OLD
                rec["blocked_by"] = blocker
        except NotSent as exc:  # it never left: certainly not applied
            self._fail(rec, Outcome.FAIL, exc.reason, target, unreachable=True)
        except OutcomeUnknown as exc:
            self._fail(rec, Outcome.UNKNOWN, exc.reason, target, unreachable=True)
        else:
            rec["t_complete"] = time.time()
            rec["outcome"] = Outcome.OK.value
            self._complete(rec, answer, after)
            if finish is not None:
                finish(rec, answer)
        self.sink(rec)
        return answer

    def _fail(
        self, rec: Record, outcome: Outcome, error: str, target: str, *, unreachable: bool
    ) -> None:
        rec["t_complete"] = time.time()
        rec["outcome"] = outcome.value
        rec["error"] = error
        if unreachable and target == self.home:
            self._home_down_until = time.monotonic() + FAILOVER_HOLD_S

    @staticmethod
    def _complete(
        rec: Record,
        answer: dict[str, Any],
        after: Callable[[dict[str, Any]], dict[str, Any]] | None,
    ) -> None:
        capacity = answer.get("ConsumedCapacity", {}).get("CapacityUnits")
        if capacity is not None:
            rec["capacity"] = float(capacity)
        if rec["op"] == Op.GET:
            item = answer.get("Item")
            rec["vid"] = item_vid(item)
            if item:
                attrs = vid_attrs(item)
                if attrs:
                    rec["attrs"] = attrs
            return
        old = answer.get("Attributes") or {}
        rec["pred"] = item_vid(old)
        if "attrs" in rec:
            rec["attr_preds"] = {a: old.get(f"{VID}_{a}", {}).get("S") for a in rec["attrs"]}
        rec["old_bytes"] = item_size(old) if old else 0
        if after is not None:
            rec["item_bytes"] = item_size(after(old))


def counts_as_error(rec: Record) -> bool:
    """A failed request, for the progress view. A condition-check rejection is not one: it is
    the answer guarded and client_lww writes are built to get (the verdict still counts it
    as a failed write)."""
    return rec.get("outcome") != Outcome.OK and rec.get("error") != CONDITION_FAILED
