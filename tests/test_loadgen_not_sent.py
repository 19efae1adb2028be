"""A request that never left (connection refused, TLS handshake failed) is a certain failure:
`NotSent`, recorded `fail`. Once an attempt may have reached the store, a later attempt that
was not sent no longer proves anything: the call is `unknown`."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from loadgen.client import Boto3Client, NotSent, OutcomeUnknown, Throttled
from loadgen.fastclient import FastClient

GET = {"TableName": "hothot-t", "Key": {"pk": {"S": "k"}}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: nothing listens there


@pytest.fixture
def plain_http() -> Iterator[int]:
    """A plain-HTTP listener, so an https client's handshake meets no TLS at all."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def clients(url: str, retries: int = 0) -> list[Any]:
    return [
        Boto3Client("us-east-1", url, retries=retries),
        FastClient("us-east-1", url, retries=retries),
    ]


@pytest.mark.parametrize("retries", [0, 2])
def test_a_refused_connection_is_not_sent_by_both_clients(retries: int) -> None:
    for client in clients(f"http://127.0.0.1:{free_port()}", retries):
        with pytest.raises(NotSent) as caught:
            client.call("GetItem", GET)
        assert not isinstance(caught.value, OutcomeUnknown), client
        assert caught.value.reason.startswith("NotSent:"), caught.value.reason


def test_a_failed_tls_handshake_is_not_sent_by_both_clients(plain_http: int) -> None:
    for client in clients(f"https://127.0.0.1:{plain_http}"):
        with pytest.raises(NotSent) as caught:
            client.call("GetItem", GET)
        assert "SSL" in caught.value.reason or "SSL" in str(caught.value), caught.value


def test_after_an_unknown_attempt_a_failure_to_send_is_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Attempt 1 timed out (it may have been applied), attempt 2 was refused: the call's
    outcome is unknown, not failed; and throttling then refusal is a certain failure."""
    client = FastClient("us-east-1", "http://127.0.0.1:9", retries=1)
    monkeypatch.setattr("loadgen.fastclient.gevent.sleep", lambda _s: None)
    for first, last, expected in (
        (OutcomeUnknown("timed out"), NotSent("ConnectionRefusedError"), OutcomeUnknown),
        (OutcomeUnknown("timed out"), Throttled("ThrottlingException"), OutcomeUnknown),
        (Throttled("ThrottlingException"), NotSent("ConnectionRefusedError"), NotSent),
        (NotSent("ConnectionRefusedError"), NotSent("ConnectionRefusedError"), NotSent),
    ):
        attempts = iter([first, last])

        def once(*_: Any, attempts: Any = attempts) -> Any:
            raise next(attempts)

        monkeypatch.setattr(client, "_call_once", once)
        with pytest.raises(expected) as caught:
            client.call("GetItem", GET)
        assert type(caught.value) is expected, (first, last)


def test_boto3_retries_judge_every_attempt() -> None:
    """botocore retries inside one call: a read timeout on attempt 1 (maybe applied) then a
    refused connection is unknown; refused every time is not sent."""
    from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

    url = "http://127.0.0.1:9"
    refused = EndpointConnectionError(endpoint_url=url, error="refused")
    for first, expected in (
        (ReadTimeoutError(endpoint_url=url), OutcomeUnknown),
        (refused, NotSent),
    ):
        client = Boto3Client("us-east-1", url, retries=1)
        attempts = iter([first, refused])

        def fail(attempts: Any = attempts, **_: Any) -> None:
            raise next(attempts)

        client._client.meta.events.register_first("before-send.dynamodb.GetItem", fail)
        with pytest.raises(expected) as caught:
            client.call("GetItem", GET)
        assert type(caught.value) is expected, first
        assert next(attempts, None) is None  # both attempts were made
