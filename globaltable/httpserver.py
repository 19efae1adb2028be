"""A minimal HTTP/1.1 server: asyncio Protocol + httptools, keep-alive, pipelining-safe.
A framework costs several times the work of the emulator itself per request; this does not.

Bounded: a request whose body (or whose head and body together) passes the listener's
`max_body` gets the listener's `too_large` answer (DynamoDB: 413 above 16 MiB) and its bytes
are dropped as they arrive, never kept; a connection frees everything it held when it closes
(protocol and parser refer to each other, and the emulator runs with rare full collections)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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
_request_ids = count(1)
#: DynamoDB refuses requests above 16 MiB (its BatchWriteItem limit is "up to 16 MB of data")
MAX_BODY = 16 * 1024 * 1024
#: what a request line and its headers may add to `max_body` before the connection is refused
HEAD_ALLOWANCE = 64 * 1024
#: how much of a refused request is read (and dropped) so its client can read the answer; past
#: it the connection is closed at once
LINGER_BYTES = 32 * 1024 * 1024
TOO_LARGE: Response = (413, b"text/plain", b"request body too large")


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


class _Dropped(list[bytes]):
    """The body of a refused request: what arrives is dropped, not kept."""

    def append(self, _chunk: bytes) -> None:
        pass


_DROPPED = _Dropped()


@dataclass(frozen=True)
class Limits:
    """A listener's bounds: the largest body, and the answer to a larger one."""

    max_body: int = MAX_BODY
    too_large: Response = TOO_LARGE


class HttpProtocol(asyncio.Protocol):
    def __init__(
        self, handler: Handler, wanted: frozenset[bytes], outbox: Outbox, limits: Limits
    ) -> None:
        self.handler = handler
        self.outbox = outbox
        self.wanted = wanted
        self.limits = limits
        #: bytes of the current request received so far (head and body)
        self.received = 0
        self.refused = False
        self.transport: asyncio.Transport | None = None
        self.parser: httptools.HttpRequestParser | None = httptools.HttpRequestParser(self)
        self.url = b""
        self.headers: dict[bytes, bytes] = {}
        self.body: list[bytes] = []
        self.pending: deque[Any] = deque()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        # drop the half-received request and break the protocol <-> parser cycle, so the
        # memory goes back now rather than at a full collection
        self.transport = None
        self.parser = None
        self.url, self.headers, self.body = b"", {}, []
        self.pending.clear()

    def data_received(self, data: bytes) -> None:
        parser = self.parser
        if parser is None:
            return
        self.received += len(data)
        if self.received > self.limits.max_body + HEAD_ALLOWANCE:
            if self.received > self.limits.max_body + LINGER_BYTES:
                self._fail(self.limits.too_large)
                return
            self._refuse()
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail((400, b"text/plain", b"upgrade not supported"))
        except httptools.HttpParserError as exc:
            self._fail((400, b"text/plain", f"malformed HTTP request: {exc}".encode()))

    def _refuse(self) -> None:
        """The request is too large: drop what it sent and what it sends; it is answered
        `too_large` once it ends (so its client, still sending, can read the answer)."""
        self.refused = True
        self.url, self.headers, self.body = b"", {}, _DROPPED

    def _fail(self, response: Response) -> None:
        """Answer at once and close: the stream cannot be parsed (or read) any further."""
        if self.transport is not None:
            status, content_type, body = response
            self.transport.write(render(status, content_type, body, close=True))
            self.transport.close()
            self.transport = None
        self.url, self.headers, self.body = b"", {}, []

    # httptools callbacks (only those defined are called: each costs a Python call)
    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name in self.wanted:
            self.headers[name] = value
        elif name == b"content-length" and (
            len(value) > 18 or int(value or 0) > self.limits.max_body
        ):
            self._refuse()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        parser = self.parser
        if parser is None:  # cannot happen: only called from data_received's feed_data
            return
        self.received = 0
        if self.refused:
            self.refused = False
            self.url, self.headers, self.body = b"", {}, []
            self._respond(self.limits.too_large, False)
            return
        keep_alive = parser.should_keep_alive()
        method = parser.get_method()
        chunks = self.body
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        url, headers = self.url, self.headers
        self.url, self.headers, self.body = b"", {}, []
        try:
            result = self.handler(method, url, headers, body)
        except Exception as exc:  # a handler bug must not kill the connection loop
            result = (500, b"text/plain", f"internal error: {exc}".encode())
        self._respond(result, keep_alive)

    def _respond(self, result: Response | Awaitable[Response], keep_alive: bool) -> None:
        """Answer in request order: behind any answer still being computed."""
        if type(result) is not tuple:
            task = asyncio.ensure_future(result)
            task.add_done_callback(self._flush)
            self.pending.append((task, keep_alive))
        elif self.pending:
            self.pending.append((result, keep_alive))
        else:
            self._write(result, keep_alive)  # type: ignore[arg-type]

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
        if not self.refused:
            self.url += url


async def listen(
    host: str,
    port: int,
    handler: Handler,
    wanted: frozenset[bytes],
    routed: bool = False,
    limits: Limits = Limits(),
) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    protocol = RoutedHttpProtocol if routed else HttpProtocol
    outbox = Outbox(loop)
    return await loop.create_server(
        lambda: protocol(handler, wanted, outbox, limits), host, port, backlog=1024
    )
