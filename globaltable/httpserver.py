"""A minimal HTTP/1.1 server: asyncio Protocol + httptools, keep-alive, pipelining-safe.
A framework costs several times the work of the emulator itself per request; this does not."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from functools import lru_cache
from http import HTTPStatus
from itertools import count
from typing import Any, Protocol

import httptools

#: (status, content type, body)
Response = tuple[int, bytes, bytes]
#: handler(method, path, headers (lower-cased names, only the wanted ones), body)
Handler = Callable[[bytes, bytes, dict[bytes, bytes], bytes], "Response | Awaitable[Response]"]

_REASONS = {s.value: s.phrase.encode() for s in HTTPStatus}
#: DynamoDB's limit on a request body; a longer one is read to its end, dropped, answered 413
MAX_BODY = 16 * 1024 * 1024
TOO_LARGE: Response = (
    413,
    b"application/x-amz-json-1.0",
    b'{"__type":"com.amazon.coral.service#RequestEntityTooLargeException",'
    b'"message":"Request entity too large: the body exceeds 16 MB (16777216 bytes)"}',
)
_request_ids = count(1)


@lru_cache(maxsize=256)
def _head(status: int, content_type: bytes) -> bytes:
    return b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: " % (
        status,
        _REASONS.get(status, b"Unknown"),
        content_type,
    )


def render(status: int, content_type: bytes, body: bytes, close: bool = False) -> bytes:
    return b"%s%d\r\nx-amzn-RequestId: hh-%d\r\n%s\r\n%s" % (
        _head(status, content_type),
        len(body),
        next(_request_ids),
        b"Connection: close\r\n" if close else b"",
        body,
    )


class Sender(Protocol):
    def send(self, data: bytes, keep_alive: bool) -> None: ...


class Outbox:
    """Answers rendered during one event-loop iteration, sent together once every ready request
    has been handled. Under load the largest kernel cost is waking the sleeping client on each
    send; a burst of sends wakes it once (measured: +50 % PutItem/s, docs/performance.md)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queued: list[tuple[Sender, bytes, bool]] = []

    def put(self, protocol: Sender, data: bytes, keep_alive: bool) -> None:
        queued = self.queued
        queued.append((protocol, data, keep_alive))
        if len(queued) == 1:
            self.loop.call_soon(self.send_all)

    def send_all(self) -> None:
        queued, self.queued = self.queued, []
        for protocol, data, keep_alive in queued:
            protocol.send(data, keep_alive)


class HttpProtocol(asyncio.Protocol):
    def __init__(self, handler: Handler, wanted: frozenset[bytes], outbox: Outbox) -> None:
        self.handler = handler
        self.outbox = outbox
        self.wanted = wanted
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.headers: dict[bytes, bytes] = {}
        self.body: list[bytes] = []
        self.size = 0
        self.pending: deque[Any] = deque()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(b"upgrade not supported")
        except httptools.HttpParserError as exc:
            self._fail(f"malformed HTTP request: {exc}".encode())

    def _fail(self, message: bytes) -> None:
        if self.transport is not None:
            self.transport.write(render(400, b"text/plain", message, close=True))
            self.transport.close()
            self.transport = None

    # httptools callbacks (only those defined are called: each costs a Python call)
    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name in self.wanted:
            self.headers[name] = value

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > MAX_BODY:
            self.body = []  # never held past the limit, chunked or not
            return
        self.body.append(body)

    def on_message_complete(self) -> None:
        keep_alive = self.parser.should_keep_alive()
        method = self.parser.get_method()
        chunks = self.body
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        url, headers, size = self.url, self.headers, self.size
        self.url, self.headers, self.body, self.size = b"", {}, [], 0
        if size > MAX_BODY:
            result: Any = TOO_LARGE
        else:
            try:
                result = self.handler(method, url, headers, body)
            except Exception as exc:  # a handler bug must not kill the connection loop
                result = (500, b"text/plain", f"internal error: {exc}".encode())
        if type(result) is not tuple:
            task = asyncio.ensure_future(result)
            task.add_done_callback(self._flush)
            self.pending.append((task, keep_alive))
        elif self.pending:
            self.pending.append((result, keep_alive))
        else:
            self._write(result, keep_alive)

    def _write(self, response: Response, keep_alive: bool) -> None:
        if self.transport is None:
            return
        status, content_type, body = response
        self.outbox.put(self, render(status, content_type, body, close=not keep_alive), keep_alive)

    def send(self, data: bytes, keep_alive: bool) -> None:
        if self.transport is None:  # the client went away while its answer waited
            return
        self.transport.write(data)
        if not keep_alive:
            self.transport.close()
            self.transport = None

    def _flush(self, _: Any = None) -> None:
        while self.pending:
            head, keep_alive = self.pending[0]
            if isinstance(head, asyncio.Future):
                if not head.done():
                    return
                try:
                    response = head.result()
                except Exception as exc:
                    response = (500, b"text/plain", f"internal error: {exc}".encode())
            else:
                response = head
            self.pending.popleft()
            self._write(response, keep_alive)


class RoutedHttpProtocol(HttpProtocol):
    """Also collects the request URL (the control API routes on it; DynamoDB does not)."""

    def on_url(self, url: bytes) -> None:
        self.url += url


async def listen(
    host: str, port: int, handler: Handler, wanted: frozenset[bytes], routed: bool = False
) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    protocol = RoutedHttpProtocol if routed else HttpProtocol
    outbox = Outbox(loop)
    return await loop.create_server(
        lambda: protocol(handler, wanted, outbox), host, port, backlog=1024
    )
