"""A DynamoDB client fast enough to load a store from one core: raw HTTP, same answers as boto3.

boto3 spends about a millisecond of CPU per call (parameter validation, serializers driven by the
service model, event hooks, signing). A load generator needs the store, not the SDK, to be the
bottleneck, so this client posts the JSON-protocol body straight over a keep-alive
geventhttpclient connection pool with a prepared request head per operation, parses with orjson,
and converts only what botocore's parser converts, where botocore's model says it sits
(`loadgen.answers`). SigV4 signing runs only
when the target checks it (real AWS, or `sign=True`), with the signing key cached per day.

Answers equal boto3's low-level client answers (without `ResponseMetadata`); errors map to the
same `StoreError`/`OutcomeUnknown` classes as `Boto3Client`, so workloads run unchanged on either.
Differences from boto3, by design: no client-side parameter validation (the store answers
`ValidationException` instead), a `str` given for a `B` value is sent as is (already base64;
boto3 would encode its UTF-8 bytes), no CRC32 check of answers, and retries (when asked for)
cover only throttling and unknown outcomes.
"""

from __future__ import annotations

import base64
import random
from typing import Any
from urllib.parse import SplitResult, urlsplit

import gevent
import orjson
from botocore.parsers import create_parser
from botocore.session import get_session
from geventhttpclient.connectionpool import ConnectionPool, SSLConnectionPool
from geventhttpclient.response import HTTPParseError, HTTPSocketPoolResponse

from loadgen.answers import AnswerDecoder
from loadgen.client import (
    OPERATIONS,
    NoAnswer,
    NotSent,
    OutcomeUnknown,
    StoreError,
    Throttled,
    store_error,
)
from loadgen.endpoints import Endpoint, resolve_endpoint
from loadgen.sigv4 import CONTENT_TYPE, SERVICE, SigV4Signer, amz_now, as_dict

TARGET_PREFIX = "DynamoDB_20120810."

#: operations whose answers go through the compiled decoder (hot path); the others through
#: botocore's own parser
DATA_OPERATIONS = frozenset(
    {"PutItem", "GetItem", "UpdateItem", "DeleteItem", "Query", "Scan"}
    | {"BatchGetItem", "BatchWriteItem"}
)


def needs_signature(endpoint_url: str) -> bool:
    """Real AWS checks signatures; local emulators and Alternator (by default) do not."""
    host = (urlsplit(endpoint_url).hostname or "").lower()
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn", ".api.aws"))


def request_host(endpoint_url: str) -> str:
    """The Host header exactly as botocore derives it (default ports dropped)."""
    parts = urlsplit(endpoint_url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != {"http": 80, "https": 443}.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


def _encode_blob(value: Any) -> str:
    """orjson `default`: bytes in requests become base64, as boto3 sends them."""
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot send a {type(value).__name__} in a DynamoDB request: {value!r}")


def encode_request(operation: str, request: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(request, default=_encode_blob)
    except orjson.JSONEncodeError as exc:
        reason = exc.__cause__ or exc
        raise TypeError(f"{operation} request cannot be sent: {reason}") from None


_decoder: AnswerDecoder | None = None


def answer_decoder() -> AnswerDecoder:
    """One decoder per process, compiled from the installed botocore's model on first use."""
    global _decoder
    if _decoder is None:
        _decoder = AnswerDecoder()
    return _decoder


def decode_data_answer(operation: str, body: bytes) -> dict[str, Any]:
    """A data-plane answer as boto3 returns it (blobs as bytes, timestamps as datetimes: what
    botocore's parser converts, where its model says they sit)."""
    return answer_decoder().decode(operation, body)


def decode_control_answer(operation: str, body: bytes, status: int) -> dict[str, Any]:
    """Rare control-plane answers go through botocore's own parser: exact boto3 types."""
    model = answer_decoder().model.operation_model(operation)
    parsed: dict[str, Any] = create_parser("json").parse(
        {"body": body, "headers": {}, "status_code": status}, model.output_shape
    )
    parsed.pop("ResponseMetadata", None)
    return parsed


def error_of(body: bytes, status: int) -> tuple[str, str, Any]:
    """(code, message, item) of a DynamoDB error answer; the code is the part after the last
    '#'; item: the error's `Item` (a condition failure's current item, blobs as bytes) or
    None."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        doc = None
    if not isinstance(doc, dict) or not doc.get("__type"):
        return str(status), body[:200].decode("utf-8", "replace"), None
    code = str(doc["__type"]).rsplit("#", 1)[-1]
    decoder = answer_decoder()
    if decoder.has_shape(code):  # a modelled error: its members decoded as botocore would
        decoder.convert(code, doc, body)
    return code, str(doc.get("message", doc.get("Message", ""))), doc.get("Item")


# ---------------------------------------------------------------------------------------


def _checked_endpoint(url: str, region: str) -> SplitResult:
    """`url` split, or a ValueError naming the region: the fast client posts to / of an
    http(s) host only."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"endpoint_url for region {region} must look like http://host:port, got {url!r}"
        )
    if parts.path not in ("", "/"):
        raise ValueError(
            f"endpoint {url} of region {region} has a path; the fast client "
            "posts to / only (writers.client: boto3 sends to any path)"
        )
    return parts


class FastClient:
    """geventhttpclient + orjson DynamoDB client for one region (`writers.client: fast`).

    One instance is meant to be shared by the users of a process that talk to one region:
    `connections` keep-alive sockets, a greenlet waits when all are busy."""

    def __init__(
        self,
        region: str,
        endpoint_url: str | None,
        *,
        retries: int = 0,
        timeout_s: float = 5.0,
        credentials: dict[str, str] | None = None,
        sign: bool | None = None,
        connections: int = 64,
        resolved: Endpoint | None = None,
    ) -> None:
        """`endpoint_url` None: wherever boto3 would send (`loadgen.endpoints`; `resolved`
        passes that answer when the caller already has it), signed as boto3 signs it. `sign`
        None: sign requests to AWS's own endpoints and to whatever botocore resolved."""
        if retries < 0:
            raise ValueError(f"FastClient retries must be >= 0, got {retries}")
        if timeout_s <= 0:
            raise ValueError(f"FastClient timeout_s must be > 0, got {timeout_s}")
        self.region = region
        if endpoint_url is None and resolved is None:
            resolved = resolve_endpoint(region, credentials=credentials)
        self.endpoint_url = resolved.url if resolved is not None else str(endpoint_url)
        self.signing_region = resolved.signing_region if resolved is not None else region
        parts = _checked_endpoint(self.endpoint_url, region)
        self.retries = retries
        self.host = request_host(self.endpoint_url)
        self._source: Any = None  # botocore credentials to re-read, when taken from the chain
        if sign is None:
            sign = resolved is not None or needs_signature(self.endpoint_url)
        self.signer = self._make_signer(credentials, sign)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        pool_kw: dict[str, Any] = {
            "size": connections,
            "connection_timeout": timeout_s,
            "network_timeout": timeout_s,
        }
        assert parts.hostname is not None
        self._pool: ConnectionPool = (
            SSLConnectionPool(parts.hostname, port, parts.hostname, port, **pool_kw)
            if parts.scheme == "https"
            else ConnectionPool(parts.hostname, port, parts.hostname, port, **pool_kw)
        )
        self._heads = self._request_heads(credentials)

    def _request_heads(self, credentials: dict[str, str] | None) -> dict[str, bytes]:
        """Each operation's request head up to `Content-Length: `, made once. Unsigned
        targets still get a well-formed Authorization header: DynamoDB Local keys its
        databases by access key and region, and some endpoints require the header."""
        access_key = (credentials or {}).get("aws_access_key_id", "hothot")
        placeholder = (
            f"Authorization: AWS4-HMAC-SHA256 Credential={access_key}/20000101/"
            f"{self.signing_region}/"
            f"{SERVICE}/aws4_request, SignedHeaders=host, Signature=0\r\n"
        )
        return {
            op: (
                f"POST / HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: {CONTENT_TYPE}\r\n"
                f"X-Amz-Target: {TARGET_PREFIX}{op}\r\n"
                f"{'' if self.signer else placeholder}Content-Length: "
            ).encode("latin-1")
            for op in OPERATIONS
        }

    def _make_signer(self, credentials: dict[str, str] | None, sign: bool) -> SigV4Signer | None:
        if not sign:
            return None
        if credentials is None:
            found = get_session().get_credentials()
            if found is None:
                raise ValueError(
                    f"signing requests to {self.endpoint_url} needs AWS credentials; "
                    "none found in boto3's standard chain"
                )
            # temporary credentials (SSO, an assumed role) expire mid-run: keep the source,
            # which botocore refreshes, and re-read it before each signature
            self._source = found
            credentials = as_dict(found.get_frozen_credentials())
        try:
            return SigV4Signer(
                credentials["aws_access_key_id"],
                credentials["aws_secret_access_key"],
                self.signing_region,
                credentials.get("aws_session_token"),
            )
        except KeyError as exc:
            raise ValueError(f"FastClient credentials lack {exc.args[0]}") from None

    def _current_signer(self) -> None:
        """Re-sign with the chain's credentials when botocore has refreshed them (cheap when
        they are unchanged: a tuple of three strings compared)."""
        frozen = self._source.get_frozen_credentials()  # type: ignore[union-attr]
        if (
            self.signer is not None
            and (frozen.access_key, frozen.secret_key, frozen.token) != self.signer.identity
        ):
            fresh = as_dict(frozen)
            self.signer = SigV4Signer(
                fresh["aws_access_key_id"], fresh["aws_secret_access_key"], self.signing_region,
                fresh.get("aws_session_token"),
            )  # fmt: skip

    def close(self) -> None:
        self._pool.close()

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        attempt = 0
        sent = False  # whether an earlier attempt may have reached the store and applied
        while True:
            try:
                return self._call_once(operation, request)
            except (Throttled, NoAnswer) as exc:
                if attempt >= self.retries:
                    if sent and not isinstance(exc, OutcomeUnknown):
                        # this attempt certainly failed, an earlier one may have applied
                        raise OutcomeUnknown(f"{exc} after an attempt that was sent") from exc
                    raise
                sent = sent or isinstance(exc, OutcomeUnknown)
            attempt += 1
            # botocore "standard" mode: full jitter, base 50 ms, capped at 20 s
            gevent.sleep(random.random() * min(20.0, 0.05 * 2**attempt))

    def _call_once(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        head = self._heads.get(operation)
        if head is None:
            raise ValueError(f"operation {operation!r} is not supported by hothot's client")
        body = encode_request(operation, request)
        wire = head + str(len(body)).encode() + b"\r\n"
        if self.signer is not None:
            if self._source is not None:
                self._current_signer()
            extra = self.signer.headers(self.host, TARGET_PREFIX + operation, body, amz_now())
            wire += "".join(f"{k}: {v}\r\n" for k, v in extra.items()).encode("latin-1")
        status, answer = self._post(wire + b"\r\n" + body)
        if status == 200:
            if operation in DATA_OPERATIONS:
                return decode_data_answer(operation, answer)
            return decode_control_answer(operation, answer, status)
        code, message, item = error_of(answer, status)
        if status >= 500:
            raise OutcomeUnknown(f"{code} (HTTP {status})")
        raise store_error(code, message, item)

    def _post(self, wire: bytes) -> tuple[int, bytes]:
        pool = self._pool
        try:  # resolve, connect and (https) the TLS handshake: nothing was sent yet
            sock = pool.get_socket()
        except OSError as exc:
            raise NotSent(type(exc).__name__, f"connect to {self.endpoint_url}: {exc}") from exc
        try:
            # one send() carries a request whole in practice; gevent's sendall would first
            # ask the kernel for the socket's send buffer size (a syscall per request)
            sent = sock.send(wire)
            if sent < len(wire):
                sock.sendall(memoryview(wire)[sent:])
        except OSError as exc:
            pool.release_socket(sock)
            raise OutcomeUnknown(f"send to {self.endpoint_url}: {exc}") from exc
        try:
            # the response object hands the socket back to the pool (or closes it) itself
            response = HTTPSocketPoolResponse(sock, pool, block_size=65536, method="POST")
            return response.status_code, response.read()
        except (OSError, HTTPParseError) as exc:
            raise OutcomeUnknown(f"answer from {self.endpoint_url}: {exc!r}") from exc


__all__ = ["FastClient", "SigV4Signer", "StoreError", "OutcomeUnknown", "NotSent"]
