"""Where a DynamoDB request for a region goes: botocore's own answer, asked, never re-derived.

boto3 resolves the endpoint from many sources — an explicit `endpoint_url`, the environment
(`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL`, `AWS_USE_FIPS_ENDPOINT`,
`AWS_USE_DUALSTACK_ENDPOINT`, `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`), the shared config file
(`endpoint_url` and `services` sections), the partition of the region (aws-cn, aws-us-gov, …)
and, with credentials that carry an account id, account-based endpoints. Copying those rules
would drift with every botocore release, so `resolve_endpoint` builds the same botocore client
`Boto3Client` uses and lets it prepare one request, stopped before it is sent: the URL and the
signing scope botocore put on it are the answer. The fast client sends to exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import BotoCoreError

from loadgen.client import dynamodb_client

#: credentials used only to let botocore sign the probe request when the chain has none (the
#: URL does not depend on them, except for account-based endpoints, which need real ones)
PROBE_CREDENTIALS = {"aws_access_key_id": "hothot", "aws_secret_access_key": "hothot"}


@dataclass(frozen=True)
class Endpoint:
    """A region's endpoint as botocore sends to it."""

    region: str
    url: str  # scheme://host[:port], no trailing slash
    signing_region: str


class EndpointError(ValueError):
    """botocore cannot resolve an endpoint for the region (its message says why)."""


class _Body:
    """The raw body of the answer the probe request gets instead of being sent."""

    def stream(self, **_: Any) -> Any:
        return iter([b"{}"])


def resolve_endpoint(
    region: str,
    endpoint_url: str | None = None,
    *,
    credentials: dict[str, str] | None = None,
    table: str = "hothot",
) -> Endpoint:
    """The endpoint boto3 sends a `table` request for `region` to, given `endpoint_url` (the
    campaign's, None on AWS), this process's environment and AWS config files, and
    `credentials` (None: boto3's standard chain)."""
    session = boto3.session.Session()
    if credentials is None and session.get_credentials() is None:
        credentials = PROBE_CREDENTIALS
    try:
        client = dynamodb_client(region, endpoint_url, credentials=credentials, session=session)
    except (BotoCoreError, ValueError) as exc:
        raise EndpointError(f"region {region}: no DynamoDB endpoint: {exc}") from None
    seen: dict[str, str] = {}

    def capture(request: Any, **_: Any) -> AWSResponse:
        seen["url"] = request.url
        seen["auth"] = str(request.headers.get("Authorization", ""))
        return AWSResponse(request.url, 200, {}, _Body())

    client.meta.events.register_first("before-send.dynamodb.GetItem", capture)
    try:
        client.get_item(TableName=table, Key={"pk": {"S": "hh#endpoint"}})
    except BotoCoreError as exc:
        raise EndpointError(f"region {region}: no DynamoDB endpoint: {exc}") from None
    finally:
        client.close()
    parts = urlsplit(seen["url"])
    url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    return Endpoint(region, url, _signing_region(seen["auth"]) or region)


def _signing_region(authorization: str) -> str | None:
    """The region in a SigV4 `Credential=AKID/day/REGION/service/aws4_request` scope."""
    _, _, scope = authorization.partition("Credential=")
    fields = scope.split(",", 1)[0].split("/")
    return fields[2] if len(fields) >= 5 else None
