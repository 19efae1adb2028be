"""Helpers for the observability tests; the lead reuses `prometheus_server` at integration.

`prometheus_server(targets)` runs the real Prometheus binary on a free loopback port with a
short scrape interval and its TSDB in a temporary directory, scraping the given
`host:port[/path]` targets, and yields a `PrometheusServer` that evaluates PromQL through the
HTTP API.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import CollectorRegistry

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    """A sample's value, 0 when the series does not exist yet."""
    return registry.get_sample_value(name, labels) or 0.0


class RecordFactory:
    """History records (`verdict.history.Record` dicts) with unique vids."""

    def __init__(self, worker: str = "w", workload: str = "profile") -> None:
        self.worker = worker
        self.workload = workload
        self._seq = itertools.count(1)

    def write(
        self,
        region: str,
        key: str,
        *,
        pred: str | None,
        t: float = 0.0,
        duration: float = 0.002,
        op: str = "put",
        outcome: str = "ok",
    ) -> dict[str, Any]:
        # no "vid": as loadgen records them, a write's vid is its record id
        return {**self._record(region, key, op, t, duration, outcome), "pred": pred}

    def get(self, region: str, key: str, *, vid: str | None, t: float = 0.0) -> dict[str, Any]:
        return {**self._record(region, key, "get", t, 0.001, "ok"), "vid": vid}

    def _record(
        self, region: str, key: str, op: str, t: float, duration: float, outcome: str
    ) -> dict[str, Any]:
        return {
            "id": f"{self.worker}:{next(self._seq)}",
            "worker": self.worker,
            "region": region,
            "workload": self.workload,
            "key": key,
            "op": op,
            "t_invoke": t,
            "t_complete": t + duration,
            "outcome": outcome,
        }


class PrometheusServer:
    """A running Prometheus: its URL and PromQL queries through the HTTP API."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _get(self, path: str, **params: str) -> dict[str, Any]:
        query = urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=10) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as err:  # 400 on a bad expression: keep its message
            return json.loads(err.read())

    def query(self, expr: str, at: float | None = None) -> dict[str, Any]:
        """The API's whole answer (`status`, `data` or `error`) for an instant query."""
        if at is None:
            return self._get("/api/v1/query", query=expr)
        return self._get("/api/v1/query", query=expr, time=f"{at:.3f}")

    def query_range(self, expr: str, start: float, end: float, step: float = 1.0) -> dict:
        """A range query, as Grafana issues for panels and annotations."""
        return self._get(
            "/api/v1/query_range",
            query=expr,
            start=f"{start:.3f}",
            end=f"{end:.3f}",
            step=str(step),
        )

    def label_values(self, label: str) -> list[str]:
        return list(self._get(f"/api/v1/label/{label}/values")["data"])

    def targets_up(self) -> dict[str, bool]:
        data = self._get("/api/v1/targets")["data"]["activeTargets"]
        return {t["scrapeUrl"]: t["health"] == "up" for t in data}

    def wait_for(self, expr: str, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Poll until `expr` returns data; raise naming the expression when it never does."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.query(expr)
            if answer.get("status") == "success" and answer["data"]["result"]:
                return answer["data"]["result"]
            if time.monotonic() > deadline:
                raise AssertionError(f"no data for {expr!r} within {timeout}s: {answer}")
            time.sleep(0.5)


@contextlib.contextmanager
def prometheus_server(
    targets: dict[str, list[str]], *, rule_files: list[Path] | None = None, interval: str = "1s"
) -> Iterator[PrometheusServer]:
    """Run Prometheus scraping `{job: ["127.0.0.1:port" or "127.0.0.1:port/path"]}`."""
    if PROMETHEUS is None:
        raise RuntimeError("the prometheus binary is not installed (Debian package prometheus)")
    scrape_configs = []
    for job, addresses in targets.items():
        by_path: dict[str, list[str]] = {}
        for address in addresses:
            host, _, path = address.partition("/")
            by_path.setdefault("/" + path if path else "/metrics", []).append(host)
        for n, (path, hosts) in enumerate(sorted(by_path.items())):
            scrape_configs.append(
                {
                    "job_name": job if n == 0 else f"{job}-{n}",
                    "metrics_path": path,
                    "static_configs": [{"targets": hosts}],
                }
            )
    port = free_port()
    with (
        tempfile.TemporaryDirectory(prefix="hothot-prom-") as tmp,
        Path(tmp, "prometheus.log").open("wb") as log,
    ):
        config = {
            "global": {"scrape_interval": interval, "evaluation_interval": interval},
            "rule_files": [str(p) for p in rule_files or []],
            "scrape_configs": scrape_configs,
        }
        config_path = Path(tmp, "prometheus.yml")
        config_path.write_text(yaml.safe_dump(config))
        proc = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config_path}",
                f"--storage.tsdb.path={tmp}/data",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        server = PrometheusServer(f"http://127.0.0.1:{port}")
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"prometheus exited {proc.returncode}: "
                        + Path(tmp, "prometheus.log").read_text()[-2000:]
                    )
                with (
                    contextlib.suppress(OSError),
                    urllib.request.urlopen(f"{server.url}/-/ready", timeout=2),
                ):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("prometheus did not become ready within 30s")
                time.sleep(0.2)
            yield server
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class RecordingServer:
    """A loopback HTTP server that records every request and answers with canned JSON.

    Stands in for Grafana and the Pushgateway, which cannot run on this machine.
    """

    def __init__(self, answer: dict[str, Any] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answer = answer if answer is not None else {"id": 1, "message": "ok"}
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorder.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": body,
                    }
                )
                payload = json.dumps(recorder.answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def json_bodies(self, method: str, path_prefix: str) -> list[Any]:
        return [
            json.loads(r["body"])
            for r in self.requests
            if r["method"] == method and r["path"].startswith(path_prefix)
        ]
