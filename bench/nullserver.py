"""A DynamoDB responder that does no work: canned answers per operation, as fast as it can.

The load benchmark needs a server that is never the bottleneck, so a client's cost shows alone;
the fast client's tests need a server whose answers (errors, 500s, silence) they control.
Raw asyncio + httptools on uvloop, one process, keep-alive. Prints `{"url": ...}` on stdout once
it serves.

    python bench/nullserver.py [--port 0] [--script answers.json] [--cpu N] [--coalesce-ms 0]
                               [--count]

A script maps an operation name (the part of X-Amz-Target after the dot) or "*" to
`{"status": 200, "body": {...} | "raw text", "delay_s": 0}`; delay_s < 0 never answers.
With `--count`, `GET /counts` answers how many requests of each operation arrived (tests count
a client's retries where they land).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from typing import Any

import httptools
import orjson
import uvloop

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from globaltable.httpserver import Outbox  # noqa: E402

#: what a PutItem with ReturnValues=ALL_OLD and ConsumedCapacity=TOTAL answers on a small item
CANNED_PUT = {
    "Attributes": {
        "pk": {"S": "profile#17"},
        "hh_vid": {"S": "w1:41"},
        "name": {"S": "Ada"},
        "n": {"N": "3"},
    },
    "ConsumedCapacity": {"TableName": "hothot-bench", "CapacityUnits": 1.0},
}
DEFAULT_SCRIPT: dict[str, dict[str, Any]] = {"*": {"status": 200, "body": CANNED_PUT}}
_REASONS = {200: b"OK", 400: b"Bad Request", 500: b"Internal Server Error", 503: b"Unavailable"}


class Answer:
    """One prepared HTTP response (bytes built once) and how long to wait before sending it."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.status = int(spec.get("status", 200))
        body = spec.get("body", {})
        payload = body.encode() if isinstance(body, str) else orjson.dumps(body)
        self.delay_s = float(spec.get("delay_s", 0.0))
        self.wire = (
            b"HTTP/1.1 %d %s\r\nContent-Type: application/x-amz-json-1.0\r\n"
            b"x-amzn-RequestId: null\r\nContent-Length: %d\r\n\r\n"
            % (self.status, _REASONS.get(self.status, b"X"), len(payload))
        ) + payload


class PausingOutbox(Outbox):
    """The emulator's `Outbox` (a loop iteration's answers written together, one wake-up of
    each client per burst), then, with `pause_s`, a pause in which requests gather and are
    handled together next iteration: this server then wakes once per pause instead of once
    per request, which at a few thousand requests a second is most of a null answer's cost."""

    def __init__(self, loop: asyncio.AbstractEventLoop, pause_s: float = 0.0) -> None:
        super().__init__(loop)
        self.pause_s = pause_s

    def send_all(self) -> None:
        super().send_all()
        if self.pause_s:
            time.sleep(self.pause_s)  # blocks the loop on purpose: requests gather meanwhile


class NullProtocol(asyncio.Protocol):
    def __init__(self, answers: dict[str, Answer], outbox: PausingOutbox) -> None:
        self.answers = answers
        self.outbox = outbox
        self.default = answers.get("*") or Answer({"status": 200, "body": CANNED_PUT})
        self.parser = httptools.HttpRequestParser(self)
        self.target = ""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's own class

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.close()

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"x-amz-target":
            self.target = value.decode("latin-1").rsplit(".", 1)[-1]

    def on_message_complete(self) -> None:
        answer = self.answers.get(self.target, self.default)
        if answer.delay_s == 0:
            self._send(answer)
        elif answer.delay_s > 0:
            asyncio.get_running_loop().call_later(answer.delay_s, self._send, answer)
        # delay_s < 0: never answer (the client must time out)

    def _send(self, answer: Answer) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.outbox.put(self, answer.wire, True)

    def send(self, data: bytes, keep_alive: bool) -> None:
        """Called by the outbox when the answer goes out (the client may be gone by then)."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


class CountingProtocol(NullProtocol):
    """NullProtocol that counts requests per operation and answers `GET /counts` with them
    (a subclass, so the benchmark's server pays nothing for it)."""

    counts: dict[str, int] = {}
    url = b""

    def on_url(self, url: bytes) -> None:
        self.url = url

    def on_message_complete(self) -> None:
        if self.parser.get_method() == b"GET" and self.url == b"/counts":
            self._send(Answer({"status": 200, "body": self.counts}))
            return
        self.counts[self.target] = self.counts.get(self.target, 0) + 1
        super().on_message_complete()


async def serve(
    port: int, script: dict[str, dict[str, Any]], pause_s: float = 0.0, count: bool = False
) -> None:
    answers = {op: Answer(spec) for op, spec in script.items()}
    loop = asyncio.get_running_loop()
    outbox = PausingOutbox(loop, pause_s)
    protocol = CountingProtocol if count else NullProtocol
    server = await loop.create_server(lambda: protocol(answers, outbox), "127.0.0.1", port)
    bound = server.sockets[0].getsockname()[1]
    sys.stdout.write(orjson.dumps({"url": f"http://127.0.0.1:{bound}"}).decode() + "\n")
    sys.stdout.flush()
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", help="JSON file: operation -> {status, body, delay_s}")
    parser.add_argument("--cpu", type=int, help="pin the server to this CPU")
    parser.add_argument(
        "--coalesce-ms", type=float, default=0.0,
        help="pause after each round of answers so requests gather (adds up to this latency)",
    )  # fmt: skip
    parser.add_argument("--count", action="store_true", help="count requests: GET /counts")
    args = parser.parse_args(argv)
    script = DEFAULT_SCRIPT
    if args.script:
        with open(args.script, "rb") as f:
            script = orjson.loads(f.read())
        if not isinstance(script, dict) or not all(isinstance(v, dict) for v in script.values()):
            parser.error(f"{args.script}: expected an object of operation -> {{status, body}}")
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    if not 0.0 <= args.coalesce_ms <= 100.0:
        parser.error(f"--coalesce-ms must be between 0 and 100, got {args.coalesce_ms:g}")
    uvloop.run(serve(args.port, script, args.coalesce_ms / 1000, args.count))


if __name__ == "__main__":
    main()
