"""`ControlClient`: the control API from Python, stdlib only (so `chaos` can import it
without pulling in the emulator)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class ControlError(RuntimeError):
    """The control API refused a call (or could not be reached); carries its message."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """The control API never redirects: a 3xx is an error, not a hop elsewhere (with the
    token, or to a scheme other than http)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)

#: the environment variable holding the control API's shared token (docs/emulator.md)
TOKEN_ENV = "HOTHOT_CONTROL_TOKEN"


def check_control_url(url: object) -> str:
    """`url` if it is an http(s) URL with a host; else ControlError. urllib would also
    follow file:// and ftp:// URLs, and a control URL read from a file must not."""
    parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ControlError(f"control URL {url!r} is not an http:// or https:// URL with a host")
    return url  # type: ignore[return-value]


class ControlClient:
    """`token`: sent as `Authorization: Bearer` on every call; None takes $HOTHOT_CONTROL_TOKEN
    (an emulator without a token ignores it)."""

    def __init__(self, url: str, timeout_s: float = 10.0, token: str | None = None) -> None:
        self.url = check_control_url(url).rstrip("/")
        self.timeout_s = timeout_s
        self.token = token if token is not None else os.environ.get(TOKEN_ENV) or None

    def _request(self, path: str, data: bytes | None = None, method: str = "GET") -> Any:
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        return request

    def _call(
        self, method: str, path: str, body: Any = None, timeout_s: float | None = None
    ) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = self._request(path, data, method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with _OPENER.open(request, timeout=timeout_s or self.timeout_s) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                message = json.loads(raw).get("error", raw.decode())
            except (ValueError, AttributeError):
                message = raw.decode("utf-8", "replace")
            raise ControlError(f"{method} {path}: {message}", exc.code) from None
        except (urllib.error.URLError, OSError) as exc:
            raise ControlError(f"{method} {self.url}{path}: {exc}") from None

    def state(self) -> dict[str, Any]:
        return self._call("GET", "/state")

    def apply(self, fault: dict[str, Any]) -> str:
        """Apply a fault (a POST /faults body); returns its id for `heal`."""
        return self._call("POST", "/faults", fault)["id"]

    def heal(self, fault_id: str) -> None:
        self._call("DELETE", "/faults/" + urllib.parse.quote(fault_id, safe=""))

    def heal_all(self) -> None:
        self._call("DELETE", "/faults")

    def quiesce(self, timeout_s: float = 30.0) -> dict[str, Any]:
        """Wait until every replication backlog is empty: {"converged": bool, "waited_s": s}."""
        return self._call("POST", "/quiesce", {"timeout_s": timeout_s}, timeout_s + self.timeout_s)

    def truth(self, table: str) -> dict[str, Any]:
        return self._call("GET", "/truth?" + urllib.parse.urlencode({"table": table}))

    def sweep_ttl(self) -> int:
        """Run the TTL sweeper now; returns how many expired items it deleted."""
        return self._call("POST", "/ttl/sweep", {})["deleted"]

    def add_replica(self, table: str, region: str) -> dict[str, Any]:
        """Add `region`'s replica of a live table, backfilled (as UpdateTable ReplicaUpdates)."""
        return self._call("POST", "/replicas", {"table": table, "region": region, "action": "add"})

    def remove_replica(self, table: str, region: str) -> dict[str, Any]:
        return self._call(
            "POST", "/replicas", {"table": table, "region": region, "action": "remove"}
        )

    def metrics(self) -> str:
        request = self._request("/metrics")
        try:
            with _OPENER.open(request, timeout=self.timeout_s) as answer:
                return answer.read().decode()
        except (urllib.error.URLError, OSError) as exc:
            raise ControlError(f"GET {self.url}/metrics: {exc}") from None
