"""A seeded mutation fuzzer of the emulator's wire protocol, shared by the suite's fuzz test
(`tests/test_globaltable_wire_fuzz.py`, a few thousand requests) and the longer run
(`bench/fuzz.py`).

Requests start from valid ones of every operation (indexes, TTL, tags, transactions, table
changes and the legacy parameters included) and get one to three mutations: numbers
(exponents Decimal cannot hold, 39 digits, NaN text), types (any node replaced by a value of
another JSON type), missing fields, nesting (attribute values nested past 32 levels, JSON
past 1,000), sizes (400 KB items, 1,000 attributes, batches over their limits), expressions
(random tokens, unbalanced parentheses, undefined placeholders). They travel pipelined over
keep-alive connections, so thousands take a few seconds. `framing_cases` are raw byte
streams that break HTTP itself. The same seed gives the same requests.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
import socket
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.wire_fuzz_requests import RANGED, TABLE, base_requests

__all__ = ["RANGED", "TABLE", "base_requests"]

NUMBERS = [
    "1e1000000000000000000",
    "-1e-999999999999999999999",
    "9" * 39,
    "1" * 5000,
    "1e126",
    "1e-131",
    "-0",
    "0e99999999999999999999",
    "NaN",
    "Infinity",
    "-inf",
    "1e",
    ".",
    "",
    " 1",
    "0x10",
    "\u0661",
    "1_000",
    "+.5",
    "00012.500",
]
TOKENS = [
    "a",
    "b",
    "#n",
    "#m",
    ":v",
    ":w",
    "=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "AND",
    "OR",
    "NOT",
    "(",
    ")",
    ",",
    ".",
    "[0]",
    "[99999999999]",
    "SET",
    "ADD",
    "REMOVE",
    "DELETE",
    "+",
    "-",
    "BETWEEN",
    "IN",
    "size",
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
    "list_append",
    "if_not_exists",
    "pk",
    "sk",
]
SCALARS: list[Any] = [None, True, False, 0, -1, 2**63, 10**30, 1.5, 1e308, "", "x", "S", [], {}]


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _nodes(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _nodes(v, (*path, i))


def _set(root: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    node = root
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return root


def _delete(root: Any, path: tuple[Any, ...]) -> Any:
    node = root
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return root


def _nested(depth: int, leaf: Any) -> Any:
    for i in range(depth):
        leaf = {"L": [leaf]} if i % 2 else {"M": {"x": leaf}}
    return leaf


def _expression(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return " ".join(rng.choice(TOKENS) for _ in range(rng.randrange(1, 14)))
    if kind == 1:
        depth = rng.choice([5, 99, 101, 300])
        return "(" * depth + "a = :v" + ")" * depth
    if kind == 2:
        return "a = :v " + "AND b = :undefined " * rng.randrange(1, 300)
    return rng.choice(["SET a = :v, a = :w", "REMOVE a, a", "SET #x = :v", "a[0][1].b = :v"])


def mutate(rng: random.Random, request: dict[str, Any]) -> Any:
    """One mutation of a request body (it may replace the whole body)."""
    nodes = list(_nodes(request))
    path, value = rng.choice(nodes)
    kind = rng.randrange(8)
    if kind == 0:  # numbers
        numbers = [p for p, v in nodes if p and p[-1] == "N" and isinstance(v, str)]
        target = rng.choice(numbers) if numbers else (*path, "N") if isinstance(value, dict) else ()
        return _set(request, target, rng.choice(NUMBERS)) if target else request
    if kind == 1:  # types
        return _set(request, path, copy.deepcopy(rng.choice(SCALARS)))
    if kind == 2 and path:  # missing fields
        return _delete(request, path)
    if kind == 3:  # nesting
        depth = rng.choice([31, 32, 33, 40, 200])
        return _set(request, path, _nested(depth, {"S": "deep"}))
    if kind == 4:  # sizes
        return _set(request, path, _big(rng))
    if kind == 5:  # expressions
        names = [p for p, v in nodes if p and str(p[-1]).endswith("Expression")]
        field_path = rng.choice(names) if names else ("ConditionExpression",)
        return _set(request, field_path, _expression(rng))
    if kind == 6:  # placeholders
        request["ExpressionAttributeValues"] = rng.choice(
            [{}, {":v": {"N": rng.choice(NUMBERS)}}, {"v": {"S": "x"}}, {":v": {}}]
        )
        return request
    return _set(request, path, {"N": rng.choice(NUMBERS)})


def _big(rng: random.Random) -> Any:
    choice = rng.randrange(5)
    if choice == 0:
        return {"S": "x" * rng.choice([400 * 1024, 410 * 1024])}
    if choice == 1:
        return {f"a{i}": {"S": "x"} for i in range(1000)}
    if choice == 2:
        return [{"PutRequest": {"Item": {"pk": {"S": f"b{i}"}}}} for i in range(26)]
    if choice == 3:
        return {"SS": ["dup", "dup"] * 50}
    return {"x" * 70_000: {"S": "long name"}}


def fuzz_bodies(seed: int, count: int) -> Iterator[tuple[str, bytes]]:
    """`count` (operation, body) pairs; a few are raw JSON that no mutation of a dict makes."""
    rng = random.Random(seed)
    for n in range(count):
        if n % 50 == 49:
            yield rng.choice(
                [
                    ("PutItem", b"[" * 2000 + b"]" * 2000),
                    ("Query", b'{"TableName": "fuzz", "Limit": 1e400}'),
                    ("GetItem", b'{"TableName": "fuzz", "Key": {"pk": {"S": "\\ud800"}}}'),
                    ("Scan", b'{"TableName": "fuzz",'),
                    ("PutItem", b"\xff\xfe"),
                    ("Nope", b"{}"),
                    ("", b"{}"),
                ]
            )
            continue
        operation, request = rng.choice(base_requests(rng))
        body: Any = request
        for _ in range(rng.randrange(1, 4)):
            if not isinstance(body, dict):
                break
            body = mutate(rng, body)
        yield operation, json.dumps(body).encode()


def _http(operation: str, body: bytes) -> bytes:
    return (
        b"POST / HTTP/1.1\r\nHost: fuzz\r\nContent-Type: application/x-amz-json-1.0\r\n"
        b"X-Amz-Target: DynamoDB_20120810.%s\r\nContent-Length: %d\r\n\r\n%s"
        % (operation.encode(), len(body), body)
    )


class Answers:
    """Reads pipelined HTTP answers off one socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> None:
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("the emulator closed the connection")
        self.buffer += chunk

    def next(self) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in lines
            if line.lower().startswith(b"content-length:")
        )
        self.buffer = rest
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(lines[0].split()[1]), body


@dataclass
class Tally:
    """What came back: counts by status and error type, and what was not DynamoDB's shape."""

    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)

    def check(self, operation: str, body: bytes, status: int, answer: bytes) -> None:
        self.statuses[status] += 1
        try:
            decoded = json.loads(answer)
        except ValueError:
            decoded = None
        if status == 200 and isinstance(decoded, dict):
            return
        error = decoded.get("__type", "") if isinstance(decoded, dict) else ""
        self.errors[error.rpartition("#")[2]] += 1
        if status not in (400, 413) or not error.startswith("com.amazonaws.dynamodb.v20120810#"):
            self.wrong.append(f"{operation} {body[:200]!r} -> {status} {answer[:300]!r}")


def send_pipelined(
    address: tuple[str, int], requests: Iterator[tuple[str, bytes]], batch: int = 32
) -> Tally:
    """Send every request, `batch` at a time on one keep-alive connection, checking each
    answer. A connection the server closes (it may, after a framing error) is reopened."""
    tally = Tally()
    pending: list[tuple[str, bytes]] = []

    def flush(sock: socket.socket) -> None:
        sock.sendall(b"".join(_http(op, body) for op, body in pending))
        answers = Answers(sock)
        for op, body in pending:
            status, answer = answers.next()
            tally.check(op, body, status, answer)
        pending.clear()

    with socket.create_connection(address, timeout=30) as sock:
        for request in requests:
            pending.append(request)
            if len(pending) == batch:
                flush(sock)
        if pending:
            flush(sock)
    return tally


def framing_cases() -> list[tuple[str, bytes]]:
    """Byte streams that break HTTP itself, each sent on a connection of its own."""
    ok = b'{"TableName": "fuzz"}'
    head = b"POST / HTTP/1.1\r\nHost: f\r\nX-Amz-Target: DynamoDB_20120810.DescribeTable\r\n"
    return [
        ("garbage", b"THIS IS NOT HTTP\r\n\r\n"),
        ("bad content-length", head + b"Content-Length: abc\r\n\r\n" + ok),
        ("negative content-length", head + b"Content-Length: -5\r\n\r\n" + ok),
        ("two content-lengths", head + b"Content-Length: 5\r\nContent-Length: 21\r\n\r\n" + ok),
        ("huge content-length", head + b"Content-Length: 99999999999999999999999\r\n\r\n"),
        ("bad chunk size", head + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n" + ok + b"\r\n"),
        ("header without colon", head + b"NoColonHere\r\n\r\n"),
        ("truncated body", head + b"Content-Length: 100\r\n\r\n" + ok),
        ("null byte in header", head + b"X-A: \x00\r\nContent-Length: 0\r\n\r\n"),
        ("upgrade", head + b"Connection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 0\r\n\r\n"),
        ("http/0.9", b"GET /\r\n\r\n"),
        ("long header", head + b"X-Long: " + b"a" * 100_000 + b"\r\nContent-Length: 0\r\n\r\n"),
        ("many headers", head + b"".join(b"X-%d: y\r\n" % i for i in range(5000)) + b"\r\n"),
        ("long url", b"POST /" + b"u" * 200_000 + b" HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
        ("no target", b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"),
        ("expect continue", head + b"Expect: 100-continue\r\nContent-Length: 21\r\n\r\n" + ok),
    ]


def send_raw(address: tuple[str, int], data: bytes, timeout_s: float = 1.0) -> bytes:
    """Send `data` and return what the server answers until it closes the connection or is
    silent for `timeout_s` (a truncated request is waited for: silence is a fine answer)."""
    with socket.create_connection(address, timeout=timeout_s) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)  # refused mid-send: read the answer all the same
        received = b""
        try:
            while chunk := sock.recv(1 << 16):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return received
