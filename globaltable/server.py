"""Serving the emulator: one loopback port per region plus the control port, all in one
process and one event loop (uvloop when available)."""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import signal
import sys
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import orjson

from globaltable import api
from globaltable.control_api import CONTROL_HEADERS, CONTROL_LIMITS, ControlApi
from globaltable.engine import GlobalTable
from globaltable.errors import DynamoError
from globaltable.httpserver import MAX_BODY, Handler, Limits, Response, listen

DEFAULT_REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
#: eventual mode: "typically within a second or less" (reference) -> 0.4 s .. 1.2 s, mean 0.8 s
DEFAULT_DELAY_S = 0.8
DEFAULT_JITTER_S = 0.4
#: strong mode: a write waits one round trip to the nearest region (tens of ms between
#: regions of one MRSC region set)
STRONG_DELAY_S = 0.03
STRONG_JITTER_S = 0.01
CONTENT_TYPE = b"application/x-amz-json-1.0"
_WANTED = frozenset({b"x-amz-target", b"x-hothot-vid"})
#: a region refuses a request body above 16 MiB with HTTP 413, as DynamoDB does
REGION_LIMITS = Limits(
    MAX_BODY,
    (
        413,
        CONTENT_TYPE,
        DynamoError(
            "RequestEntityTooLarge",
            f"Request body exceeds the maximum request size of {MAX_BODY} bytes",
            413,
        ).body(),
    ),
)


@dataclass
class ServeOptions:
    regions: list[str] = field(default_factory=lambda: list(DEFAULT_REGIONS))
    host: str = "127.0.0.1"
    port: int = 8000  # region i listens on port + i; 0 = free ports
    control_port: int = 7999  # 0 = a free port
    mode: str = "eventual"
    delay_s: float | None = None  # None: the mode's default
    jitter_s: float | None = None
    seed: int | None = None
    #: the control API's shared token; required unless `host` is a loopback address
    control_token: str | None = None
    ttl_sweep_s: float = 1.0  # 0: expired items are deleted only by POST /ttl/sweep


def region_handler(gt: GlobalTable, region: str) -> Handler:
    counts = gt.stats.region_requests(region)

    def answer(
        raw_target: bytes | None, body: bytes, vid: str | None
    ) -> Response | Awaitable[Response]:
        route = api.ROUTES.get(raw_target) if raw_target is not None else None
        if route is None:
            label = "unknown"
            target = raw_target.decode("latin-1") if raw_target is not None else None
            reply = api.handle(gt, region, target, body, vid)
        else:
            label = route[1]
            reply = api.run(gt, region, route, body, vid)
        if type(reply) is not tuple:

            async def settle() -> Response:
                status, payload = await reply
                counts[(label, status)] += 1
                return status, CONTENT_TYPE, payload

            return settle()
        counts[(label, reply[0])] += 1
        return reply[0], CONTENT_TYPE, reply[1]

    def handle(
        method: bytes, url: bytes, headers: dict[bytes, bytes], body: bytes
    ) -> Response | Awaitable[Response]:
        raw_vid = headers.get(b"x-hothot-vid")
        vid = raw_vid.decode("latin-1") if raw_vid is not None else None
        latency = gt.latency.get(region)
        if not latency:
            return answer(headers.get(b"x-amz-target"), body, vid)

        async def delayed() -> Response:
            await asyncio.sleep(latency)
            result = answer(headers.get(b"x-amz-target"), body, vid)
            return result if type(result) is tuple else await result

        return delayed()

    return handle


@dataclass
class Emulator:
    """A running emulator inside the current event loop."""

    gt: GlobalTable
    servers: list[asyncio.Server]
    regions: dict[str, str]
    control: str

    def banner(self) -> dict[str, Any]:
        return {
            "regions": self.regions,
            "control": self.control,
            "metrics": self.control + "/metrics",
        }

    async def close(self) -> None:
        for server in self.servers:
            server.close()
        for server in self.servers:
            await server.wait_closed()


def _url(host: str, server: asyncio.Server) -> str:
    port = server.sockets[0].getsockname()[1]
    return f"http://{host}:{port}"


def is_loopback(host: str) -> bool:
    """Only this machine can reach `host` (a name other than localhost counts as not)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class UnsafeOptions(ValueError):
    """Options the emulator refuses to serve with; the message says why and what to do."""


def check_options(options: ServeOptions) -> None:
    if not is_loopback(options.host) and not options.control_token:
        raise UnsafeOptions(
            f"--host {options.host} exposes the control API (faults, ground truth) beyond this "
            "machine: give it a token with HOTHOT_CONTROL_TOKEN (or --control-token), which "
            "every control call must then send"
        )


async def start(options: ServeOptions) -> Emulator:
    check_options(options)
    strong = options.mode == "strong"
    delay = (
        options.delay_s
        if options.delay_s is not None
        else (STRONG_DELAY_S if strong else DEFAULT_DELAY_S)
    )
    jitter = (
        options.jitter_s
        if options.jitter_s is not None
        else (STRONG_JITTER_S if strong else DEFAULT_JITTER_S)
    )
    gt = GlobalTable(
        options.regions, options.mode, delay, jitter, options.seed, options.ttl_sweep_s
    )
    servers: list[asyncio.Server] = []
    regions: dict[str, str] = {}
    try:
        for i, region in enumerate(gt.regions):
            port = options.port + i if options.port else 0
            server = await listen(
                options.host, port, region_handler(gt, region), _WANTED, limits=REGION_LIMITS
            )
            servers.append(server)
            regions[region] = _url(options.host, server)
        control = await listen(
            options.host,
            options.control_port,
            ControlApi(gt, options.control_token),
            CONTROL_HEADERS,
            routed=True,
            limits=CONTROL_LIMITS,
        )
        servers.append(control)
    except BaseException:
        for server in servers:
            server.close()
        raise
    return Emulator(gt, servers, regions, _url(options.host, control))


async def _serve(options: ServeOptions) -> None:
    emulator = await start(options)
    # the store holds millions of long-lived objects: full collections would rescan them all
    # every few thousand writes, so collect young objects only, and rarely the old ones
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sys.stdout.write(orjson.dumps(emulator.banner()).decode() + "\n")
    sys.stdout.flush()
    await stop.wait()
    await emulator.close()


def serve(options: ServeOptions) -> int:
    """Serve until SIGTERM/SIGINT. Returns the exit code."""
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is a dependency off Windows
        runner = asyncio.run
    try:
        check_options(options)
        runner(_serve(options))
    except UnsafeOptions as exc:
        print(f"hothot emulate: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"hothot emulate: cannot listen: {exc}", file=sys.stderr)
        return 2
    return 0
