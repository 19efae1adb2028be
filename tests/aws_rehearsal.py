"""A dress rehearsal of `target: aws` with no AWS: moto in server mode behind a small proxy that
answers as DynamoDB global tables do, plus moto's FIS, all on loopback.

moto keeps one DynamoDB per region (chosen by the region in a request's SigV4 scope) but knows
nothing of global tables: `UpdateTable` `ReplicaUpdates` is accepted and ignored, and
DescribeTable lists no replicas. The proxy (`GlobalTableProxy`) adds exactly that: a replica
`Create` makes the table in the other region (CREATING for a few DescribeTables, then ACTIVE),
a `Delete` drops it, and DescribeTable answers with the other replicas and version 2019.11.21.
Items are not replicated: the rehearsal proves hothot's AWS path (endpoints, credentials,
guards, table creation, reuse, FIS, healing), not a store. Everything else (FIS included) is
forwarded to moto as is. `refuse_replica_in` makes replica creation in a region fail with
AccessDeniedException, as a missing `dynamodb:CreateTableReplica` permission does.

The tests that use it run inside a network namespace with only loopback
(tests/test_aws_rehearsal.py): no request can leave this machine, whatever the code does.
"""

from __future__ import annotations

import http.client
import http.server
import json
import logging
import os
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TARGET = "DynamoDB_20120810."
ERROR = "com.amazonaws.dynamodb.v20120810#"
JSON = {"Content-Type": "application/x-amz-json-1.0"}
#: the item operations `refuse_data` refuses
DATA = frozenset({"PutItem", "UpdateItem", "DeleteItem", "GetItem"})
#: DescribeTables a new replica answers CREATING before it is ACTIVE
CREATING_FOR = 2


@dataclass
class Group:
    """One global table: region -> replica status, plus DescribeTables left in CREATING."""

    replicas: dict[str, str] = field(default_factory=dict)
    creating: dict[str, int] = field(default_factory=dict)


class GlobalTableProxy(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, moto: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.moto = moto.removeprefix("http://")
        self.groups: dict[str, Group] = {}
        self.lock = threading.Lock()
        self.refuse_replica_in: set[str] = set()
        #: answer every item operation with AccessDeniedException (no dynamodb:PutItem, …)
        self.refuse_data = False
        #: DynamoDB operations seen, with the SigV4 region and whether they were signed
        self.seen: list[tuple[str, str, bool]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def forward(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(self.moto, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            answer = conn.getresponse()
            return answer.status, dict(answer.getheaders()), answer.read()
        finally:
            conn.close()

    def dynamodb(self, region: str, operation: str, request: dict[str, Any]) -> tuple[int, Any]:
        """A DynamoDB call to moto as the proxy itself makes it (in `region`)."""
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": TARGET + operation,
            "Authorization": f"AWS4-HMAC-SHA256 Credential=proxy/20260101/{region}/dynamodb/"
            "aws4_request, SignedHeaders=host, Signature=0",
        }
        status, _, body = self.forward("POST", "/", json.dumps(request).encode(), headers)
        return status, json.loads(body or b"{}")

    # -- what moto does not do ----------------------------------------------------------
    def describe(self, region: str, answer: dict[str, Any]) -> dict[str, Any]:
        table = answer.get("Table", {})
        with self.lock:
            group = self.groups.get(table.get("TableName", ""))
            if group is None or region not in group.replicas:
                return answer
            for other, left in list(group.creating.items()):
                if left <= 0:
                    group.replicas[other] = "ACTIVE"
                    del group.creating[other]
                else:
                    group.creating[other] = left - 1
            others = {r: s for r, s in group.replicas.items() if r != region}
            if others:
                table["GlobalTableVersion"] = "2019.11.21"
                table["Replicas"] = [
                    {"RegionName": r, "ReplicaStatus": s} for r, s in sorted(others.items())
                ]
            if group.creating:
                table["TableStatus"] = "UPDATING"
        return answer

    def replica_updates(self, region: str, request: dict[str, Any]) -> tuple[int, Any]:
        name = request["TableName"]
        status, described = self.dynamodb(region, "DescribeTable", {"TableName": name})
        if status != 200:
            return status, described
        table = described["Table"]
        for update in request["ReplicaUpdates"]:
            if "Create" in update:
                other = update["Create"]["RegionName"]
                if other in self.refuse_replica_in:
                    return 400, {
                        "__type": f"{ERROR}AccessDeniedException",
                        "message": f"not authorized to perform dynamodb:CreateTableReplica "
                        f"in {other}",
                    }
                create = {k: table[k] for k in ("KeySchema", "AttributeDefinitions")}
                status, answer = self.dynamodb(
                    other,
                    "CreateTable",
                    create | {"TableName": name, "BillingMode": "PAY_PER_REQUEST"},
                )
                if status != 200:
                    return status, answer
                with self.lock:
                    group = self.groups.setdefault(name, Group({region: "ACTIVE"}))
                    group.replicas[other] = "CREATING"
                    group.creating[other] = CREATING_FOR
            if "Delete" in update:
                other = update["Delete"]["RegionName"]
                self.dynamodb(other, "DeleteTable", {"TableName": name})
                with self.lock:
                    group = self.groups.get(name)
                    if group is not None:
                        group.replicas.pop(other, None)
                        group.creating.pop(other, None)
        return 200, {"TableDescription": self.describe(region, {"Table": table})["Table"]}

    def note_table(self, region: str, operation: str, name: str) -> None:
        with self.lock:
            if operation == "CreateTable":
                self.groups[name] = Group({region: "ACTIVE"})
            elif operation == "DeleteTable" and name in self.groups:
                self.groups[name].replicas.pop(region, None)
                if not self.groups[name].replicas:
                    del self.groups[name]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the clients' pools expect
    server: GlobalTableProxy

    def _relay(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        auth = self.headers.get("Authorization", "")
        if not target.startswith(TARGET):  # FIS and the rest: moto as is
            self._answer(*self.server.forward(self.command, self.path, body, dict(self.headers)))
            return
        operation = target.removeprefix(TARGET)
        region = auth.split("Credential=", 1)[-1].split("/")[2] if "Credential=" in auth else "?"
        self.server.seen.append((operation, region, not auth.endswith("Signature=0")))
        request = json.loads(body or b"{}")
        if self.server.refuse_data and operation in DATA:
            denied = {
                "__type": f"{ERROR}AccessDeniedException",
                "message": f"no dynamodb:{operation}",
            }
            self._answer(400, JSON, json.dumps(denied).encode())
            return
        if operation == "UpdateTable" and request.get("ReplicaUpdates"):
            status, answer = self.server.replica_updates(region, request)
            self._answer(
                status, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(answer).encode()
            )
            return
        status, headers, answer = self.server.forward("POST", self.path, body, dict(self.headers))
        if status == 200 and operation in ("CreateTable", "DeleteTable"):
            self.server.note_table(region, operation, request.get("TableName", ""))
        if status == 200 and operation == "DescribeTable":
            answer = json.dumps(self.server.describe(region, json.loads(answer))).encode()
        self._answer(status, headers, answer)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _relay  # noqa: N815

    def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() not in (
                "content-length",
                "connection",
                "transfer-encoding",
                "date",
                "server",
            ):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Rehearsal:
    moto: str
    proxy: GlobalTableProxy

    def env(self, home: Path) -> dict[str, str]:
        """The environment of a `hothot` process aimed at the rehearsal: the endpoint
        override boto3 honours (for DynamoDB and FIS alike), test credentials, no AWS config
        of this machine, and no instance-metadata lookups."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        return env | {
            "AWS_ENDPOINT_URL": self.proxy.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": str(home / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def client(self, service: str, region: str) -> Any:
        import boto3

        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.moto,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def fis_takes(self, seconds: float) -> None:
        """Each FIS experiment state lasts `seconds` (pending -> initiating -> running)."""
        body = {
            "model_name": "fis::experiment",
            "transition": {"progression": "time", "seconds": seconds},
        }
        request = urllib.request.Request(
            f"{self.moto}/moto-api/state-manager/set-transition",
            data=json.dumps(body).encode(),
            method="POST",
        )
        urllib.request.urlopen(request, timeout=10).close()

    def tables(self, region: str) -> list[str]:
        return list(self.client("dynamodb", region).list_tables()["TableNames"])

    def templates(self, region: str) -> list[dict[str, Any]]:
        return list(self.client("fis", region).list_experiment_templates()["experimentTemplates"])


@contextmanager
def rehearsal() -> Iterator[Rehearsal]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = ThreadedMotoServer("127.0.0.1", 0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    proxy = GlobalTableProxy(f"http://{host}:{port}")
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        yield Rehearsal(f"http://{host}:{port}", proxy)
    finally:
        proxy.shutdown()
        proxy.server_close()
        moto.stop()
