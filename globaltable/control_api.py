"""The control API (DESIGN §3, docs/architecture.md): chaos reaches inside the emulator here,
and the verdict fetches ground truth. Bad calls get a 400 with a JSON message naming what is
wrong."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable
from typing import Any
from urllib.parse import SplitResult, parse_qs, urlsplit

import orjson

from globaltable.engine import GlobalTable
from globaltable.errors import DynamoError
from globaltable.faults import FaultError
from globaltable.httpserver import Limits, Response
from globaltable.metrics import EmulatorCollector, exposition
from globaltable.replicas import add_replica, remove_replica
from globaltable.ttl import sweep

JSON = b"application/json"
METRICS = b"text/plain; version=0.0.4; charset=utf-8"
#: a control body is a fault or a quiesce request: a few hundred bytes
MAX_CONTROL_BODY = 64 * 1024
CONTROL_LIMITS = Limits(
    MAX_CONTROL_BODY,
    (413, JSON, orjson.dumps({"error": f"request body above {MAX_CONTROL_BODY} bytes"})),
)
#: the headers the control API reads
CONTROL_HEADERS = frozenset({b"authorization"})


class ControlError(ValueError):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _json(payload: Any, status: int = 200) -> Response:
    return status, JSON, orjson.dumps(payload)


def _body(raw: bytes) -> Any:
    if not raw.strip():
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ControlError(f"request body is not valid JSON: {exc}") from None


#: calls open without the token: liveness, and the aggregate counters Prometheus scrapes
OPEN_CALLS = frozenset({("GET", "/health"), ("GET", "/metrics")})


class ControlApi:
    """`token`: when set, every call but OPEN_CALLS must carry `Authorization: Bearer
    <token>` (docs/emulator.md, "Control API security")."""

    def __init__(self, gt: GlobalTable, token: str | None = None) -> None:
        self.gt = gt
        self.token = token.encode() if token else None
        self.collector = EmulatorCollector(
            gt.stats,
            gt.regions,
            lambda: {pair: lk.backlog for pair, lk in gt.links.items()},
            lambda: {r: c.current_offset() for r, c in gt.clocks.items()},
        )

    def __call__(
        self, method: bytes, url: bytes, headers: dict[bytes, bytes], body: bytes
    ) -> Response | Awaitable[Response]:
        try:
            verb, parts = method.decode("latin-1"), urlsplit(url.decode("utf-8", "replace"))
            if self.token is not None and (verb, parts.path.rstrip("/")) not in OPEN_CALLS:
                self.authorize(headers.get(b"authorization"))
            return self.route(verb, parts, body)
        except (ControlError, FaultError) as exc:
            return _json({"error": str(exc)}, getattr(exc, "status", 400))

    def authorize(self, header: bytes | None) -> None:
        assert self.token is not None
        scheme, _, sent = (header or b"").partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(sent.strip(), self.token):
            raise ControlError(
                "this emulator's control API needs its token: send 'Authorization: Bearer "
                "<token>' (hothot reads it from --control-token or HOTHOT_CONTROL_TOKEN)",
                401,
            )

    def route(self, method: str, parts: SplitResult, body: bytes) -> Response | Awaitable[Response]:
        if method == "DELETE" and parts.path.startswith("/faults/"):
            fault_id = parts.path[len("/faults/") :].strip("/")
            if not fault_id:  # never read as DELETE /faults, which heals every fault
                raise ControlError(f"DELETE {parts.path}: the fault id is empty")
            self.gt.heal(fault_id)
            return _json({"healed": fault_id})
        path = parts.path.rstrip("/") or "/"
        gt = self.gt
        if (method, path) == ("GET", "/metrics"):
            return 200, METRICS, exposition(self.collector)
        if (method, path) == ("GET", "/state"):
            return _json(gt.state())
        if (method, path) == ("POST", "/faults"):
            return _json({"id": gt.apply_fault(_body(body))})
        if (method, path) == ("DELETE", "/faults"):
            gt.heal_all()
            return _json({"healed": "all"})
        if (method, path) == ("POST", "/quiesce"):
            return self.quiesce(_body(body))
        if (method, path) == ("GET", "/truth"):
            return self.truth(parse_qs(parts.query))
        if (method, path) == ("GET", "/health"):
            return _json({"ok": True})
        if (method, path) == ("POST", "/ttl/sweep"):
            return _json({"deleted": sweep(gt)})
        if (method, path) == ("POST", "/replicas"):
            return self.replicas(_body(body))
        raise ControlError(
            f"no control call {method} {path}; calls: GET /state, POST /faults, DELETE /faults[/id], "
            "POST /quiesce, GET /truth?table=T, GET /metrics, POST /ttl/sweep, POST /replicas",
            404,
        )

    def replicas(self, body: Any) -> Response:
        """Add or remove a region's replica of a live table (UpdateTable's ReplicaUpdates)."""
        if not isinstance(body, dict) or set(body) != {"table", "region", "action"}:
            raise ControlError(
                'replicas: the body must be {"table": T, "region": R, "action": "add"|"remove"}'
            )
        action, name, region = body["action"], body["table"], body["region"]
        if action not in ("add", "remove"):
            raise ControlError(f"replicas: action must be add or remove, got {action!r}")
        table = self.gt.tables.get(name) if isinstance(name, str) else None
        if table is None:
            raise ControlError(
                f"replicas: no table {name!r}; tables: {sorted(self.gt.tables)}", 404
            )
        try:
            if action == "add":
                items = add_replica(self.gt, table, region)
            else:
                remove_replica(self.gt, table, region)
                items = 0
        except DynamoError as exc:
            raise ControlError(f"replicas: {exc.message}") from None
        return _json({**body, "items": items, "replicas": sorted(table.replicas)})

    def quiesce(self, body: Any) -> Awaitable[Response]:
        if not isinstance(body, dict):
            raise ControlError('quiesce body must be a JSON object like {"timeout_s": 30}')
        timeout = body.get("timeout_s", 30)
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not 0 <= timeout <= 3600
        ):
            raise ControlError(
                f"quiesce: timeout_s must be a number of seconds in [0, 3600], got {timeout!r}"
            )

        async def wait() -> Response:
            return _json(await self.gt.quiesce(float(timeout)))

        return wait()

    def truth(self, query: dict[str, list[str]]) -> Response:
        names = query.get("table")
        if not names:
            raise ControlError("truth: the table query parameter is required (GET /truth?table=T)")
        table = self.gt.tables.get(names[0])
        if table is None:
            raise ControlError(
                f"truth: no table {names[0]!r}; tables: {sorted(self.gt.tables)}", 404
            )
        return _json(self.gt.truth(table))
