"""The emulator's HTTP layer is bounded (issue 16, case 3): a body above 16 MiB gets
DynamoDB's 413 and is never held, and a connection frees what it held when it closes, so
memory stays flat under abandoned uploads and connection churn (measured on the real server
process, with tolerant bounds)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from globaltable.httpserver import MAX_BODY
from tests.globaltable_fixtures import RunningEmulator, launch

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    running = launch("--replication-delay", "10ms", "--replication-jitter", "0ms")
    running.create_table("limits")
    yield running
    running.stop()


def _address(emu: RunningEmulator, region: str = "us-east-1") -> tuple[str, int]:
    url = urlsplit(emu.regions[region])
    return url.hostname or "127.0.0.1", url.port or 80


def _head(length: int | None, target: str = "PutItem", extra: str = "") -> bytes:
    framing = f"Content-Length: {length}\r\n" if length is not None else ""
    return (
        f"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.{target}\r\n"
        f"Content-Type: application/x-amz-json-1.0\r\n{framing}{extra}\r\n"
    ).encode()


def _read_answer(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(head.split(b" ")[1]), body[:length]


def _send_all(sock: socket.socket, total: int) -> None:
    block = b"x" * MIB
    while total > 0:
        sock.sendall(block[: min(total, MIB)])
        total -= MIB


def test_body_above_16_mib_gets_413_in_dynamodb_shape(emu):
    with socket.create_connection(_address(emu), timeout=30) as sock:
        sock.sendall(_head(MAX_BODY + 1))
        _send_all(sock, MAX_BODY + 1)
        status, body = _read_answer(sock)
    assert status == 413
    error = json.loads(body)
    assert error["__type"].endswith("#RequestEntityTooLarge")
    assert str(MAX_BODY) in error["message"]


def test_body_of_exactly_16_mib_is_read(emu):
    """The limit is exclusive: a 16 MiB body is parsed (and, being junk, refused as JSON)."""
    with socket.create_connection(_address(emu), timeout=30) as sock:
        sock.sendall(_head(MAX_BODY))
        _send_all(sock, MAX_BODY)
        status, body = _read_answer(sock)
    assert status == 400
    assert json.loads(body)["__type"].endswith("#SerializationException")


def test_chunked_body_above_the_limit_gets_413(emu):
    chunk = b"x" * MIB
    with socket.create_connection(_address(emu), timeout=30) as sock:
        sock.sendall(_head(None, extra="Transfer-Encoding: chunked\r\n"))
        for _ in range(17):
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        sock.sendall(b"0\r\n\r\n")
        status, _ = _read_answer(sock)
    assert status == 413


def test_endless_body_is_cut_off(emu):
    """A client that keeps sending past the limit and what is read of a refused request gets
    the 413 and a closed connection, not a server reading forever."""
    with socket.create_connection(_address(emu), timeout=30) as sock:
        sock.sendall(_head(10**15))
        with pytest.raises(OSError):
            for _ in range(200):  # 200 MiB, far past limit + what is read of a refusal
                sock.sendall(b"x" * MIB)
    assert emu.client("us-east-1").list_tables()["TableNames"]


def test_control_api_body_is_capped(emu):
    url = urlsplit(emu.control)
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(b"POST /faults HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n")
        _send_all(sock, 10_000_000)
        status, body = _read_answer(sock)
    assert status == 413
    assert "error" in json.loads(body)


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _abandon_upload(address: tuple[str, int], sent: int) -> None:
    """Announce a body under the limit, send part of it, and go away."""
    with socket.create_connection(address, timeout=30) as sock:
        sock.sendall(_head(15 * MIB))
        _send_all(sock, sent)
        time.sleep(0.05)  # let the server read it before the close


def _settle_rss(pid: int) -> float:
    time.sleep(0.3)
    return _rss_mib(pid)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_memory_stays_flat_under_abandoned_uploads_and_churn():
    """Before the fix, each abandoned upload stayed in memory (protocol and parser kept each
    other alive, and the emulator's GC thresholds make full collections rare): 10 uploads of
    12 MiB grew RSS by ~120 MiB. Now the growth is about one upload's worth."""
    emu = launch("--replication-delay", "10ms", "--replication-jitter", "0ms")
    try:
        pid = emu.process.pid
        address = _address(emu)
        _abandon_upload(address, 12 * MIB)  # warm-up: the allocator's first arena
        before = _settle_rss(pid)
        for _ in range(10):
            _abandon_upload(address, 12 * MIB)
        for _ in range(1500):  # connection churn: open, one request, close
            with socket.create_connection(address, timeout=10) as sock:
                sock.sendall(_head(2, target="ListTables") + b"{}")
                assert _read_answer(sock)[0] == 200
        after = _settle_rss(pid)
        assert emu.client("us-east-1").list_tables()["TableNames"] == []
    finally:
        emu.stop()
    growth = after - before
    assert growth < 48, f"RSS grew {growth:.0f} MiB ({before:.0f} -> {after:.0f})"
