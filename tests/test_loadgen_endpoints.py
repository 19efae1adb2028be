"""The fast client sends where boto3 sends: a table of endpoint configurations, each checked
against the URL botocore itself puts on a boto3 request (captured before it is sent, so no
request leaves), and the loopback ones against the server the fast client actually reaches."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loadgen.client import Boto3Client
from loadgen.endpoints import resolve_endpoint
from loadgen.fastclient import FastClient
from loadgen.plan import LoadPlan
from loadgen.spec import WorkloadSpec, WritersSpec

CREDS = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "secret"}
LOCAL = "http://127.0.0.1:4566"

#: (id, region, environment, config file text, explicit endpoint_url, expected URL)
CASES: list[tuple[str, str, dict[str, str], str, str | None, str]] = [
    ("default", "us-east-1", {}, "", None, "https://dynamodb.us-east-1.amazonaws.com"),
    ("china", "cn-north-1", {}, "", None, "https://dynamodb.cn-north-1.amazonaws.com.cn"),
    ("govcloud", "us-gov-west-1", {}, "", None, "https://dynamodb.us-gov-west-1.amazonaws.com"),
    (
        "fips-env",
        "us-east-1",
        {"AWS_USE_FIPS_ENDPOINT": "true"},
        "",
        None,
        "https://dynamodb-fips.us-east-1.amazonaws.com",
    ),
    (
        "fips-config",
        "us-west-2",
        {},
        "[default]\nuse_fips_endpoint = true\n",
        None,
        "https://dynamodb-fips.us-west-2.amazonaws.com",
    ),
    (
        "dualstack",
        "eu-west-1",
        {"AWS_USE_DUALSTACK_ENDPOINT": "true"},
        "",
        None,
        "https://dynamodb.eu-west-1.api.aws",
    ),
    (
        "dualstack-china",
        "cn-north-1",
        {"AWS_USE_DUALSTACK_ENDPOINT": "true"},
        "",
        None,
        "https://dynamodb.cn-north-1.api.amazonwebservices.com.cn",
    ),
    ("endpoint-url-env", "us-east-1", {"AWS_ENDPOINT_URL": LOCAL}, "", None, LOCAL),
    (
        "service-env-wins",
        "us-east-1",
        {"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_DYNAMODB": LOCAL},
        "",
        None,
        LOCAL,
    ),
    (
        "config-services",
        "eu-west-1",
        {},
        f"[default]\nservices = local\n[services local]\ndynamodb =\n  endpoint_url = {LOCAL}\n",
        None,
        LOCAL,
    ),
    (
        "config-endpoint-url",
        "eu-west-1",
        {},
        f"[default]\nendpoint_url = {LOCAL}\n",
        None,
        LOCAL,
    ),
    (
        "ignore-configured",
        "us-east-1",
        {"AWS_ENDPOINT_URL": LOCAL, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"},
        "",
        None,
        "https://dynamodb.us-east-1.amazonaws.com",
    ),
    (
        "explicit-wins",
        "us-east-1",
        {"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:1"},
        "",
        LOCAL,
        LOCAL,
    ),
    (
        "account-endpoint",
        "us-east-1",
        {"AWS_ACCOUNT_ID": "111122223333"},
        "",
        None,
        "https://111122223333.ddb.us-east-1.amazonaws.com",
    ),
]


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No AWS setting of the machine leaks in; credentials in the environment (account-based
    endpoints need them there, as AWS_ACCOUNT_ID is read with them)."""
    import os

    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDS["aws_secret_access_key"])
    config = tmp_path / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    return config


def botocore_url(region: str, endpoint_url: str | None) -> str:
    """Where a boto3 writer's PutItem goes: the URL botocore puts on the prepared request."""
    import boto3
    from botocore.awsrequest import AWSResponse

    client = Boto3Client(region, endpoint_url)
    seen: list[str] = []

    class Body:
        def stream(self, **_: Any) -> Any:
            return iter([b"{}"])

    def stop(request: Any, **_: Any) -> AWSResponse:
        seen.append(request.url)
        return AWSResponse(request.url, 200, {}, Body())

    # a fresh session: the cached one read the environment of an earlier test
    client._client = boto3.session.Session().client(
        "dynamodb", region_name=region, endpoint_url=endpoint_url
    )
    client._client.meta.events.register_first("before-send.dynamodb.PutItem", stop)
    client.call("PutItem", {"TableName": "hothot-t", "Item": {"pk": {"S": "k"}}})
    return seen[0].rstrip("/")


@pytest.mark.parametrize(
    ("region", "env", "config", "explicit", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_the_fast_client_resolves_endpoints_as_botocore_does(
    aws_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    region: str,
    env: dict[str, str],
    config: str,
    explicit: str | None,
    expected: str,
) -> None:
    aws_env.write_text(config)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert botocore_url(region, explicit) == expected
    assert resolve_endpoint(region, explicit).url == expected
    fast = FastClient(region, explicit)
    assert fast.endpoint_url == expected
    assert fast.signing_region == region
    # what botocore resolved (not given by hand) is signed, as boto3 signs it
    assert (fast.signer is not None) == (explicit is None)


class Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append(dict(self.headers))
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    Recorder.seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("client", ["boto3", "fast"])
def test_an_endpoint_override_carries_both_clients_load_and_is_signed(
    aws_env: Path, monkeypatch: pytest.MonkeyPatch, recorder: str, client: str
) -> None:
    """AWS_ENDPOINT_URL_DYNAMODB on an aws target (endpoint None): every request of either
    client goes to the override (never to amazonaws.com), signed for the region with the
    chain's credentials, as boto3 sends it."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", recorder)
    plan = LoadPlan(
        regions=["eu-west-1"],
        endpoints={"eu-west-1": None},
        table="hothot-t",
        seed=1,
        writers=WritersSpec(client=client),
        workloads=[WorkloadSpec(kind="profile")],
    )
    plan.client("eu-west-1").call("GetItem", {"TableName": "hothot-t", "Key": {"pk": {"S": "k"}}})
    assert len(Recorder.seen) == 1
    auth = Recorder.seen[0]["Authorization"]
    assert f"Credential={CREDS['aws_access_key_id']}/" in auth and "/eu-west-1/dynamodb/" in auth
    assert Recorder.seen[0]["Host"] == recorder.removeprefix("http://")
