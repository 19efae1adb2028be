"""AWS Signature V4 for the fast client's DynamoDB POSTs (hand-written: botocore's signer
works on its own request objects, and building one per request costs more than the request).
Tested equal to botocore's `SigV4Auth` in tests/test_loadgen_fastclient_wire.py."""

from __future__ import annotations

import datetime
import hashlib
import hmac
from typing import Any

SERVICE = "dynamodb"
CONTENT_TYPE = "application/x-amz-json-1.0"


def as_dict(frozen: Any) -> dict[str, str]:
    """botocore's ReadOnlyCredentials as the `credentials` dict FastClient takes."""
    out = {"aws_access_key_id": frozen.access_key, "aws_secret_access_key": frozen.secret_key}
    if frozen.token:
        out["aws_session_token"] = frozen.token
    return out


class SigV4Signer:
    """AWS Signature V4 for DynamoDB POSTs, with the derived signing key cached per day.

    It signs the headers botocore signs for DynamoDB (content-type, host, x-amz-date,
    x-amz-target, and x-amz-security-token with temporary credentials) and produces the same
    Authorization value as botocore's `SigV4Auth` for the same request and time."""

    def __init__(self, access_key: str, secret_key: str, region: str, token: str | None = None):
        self.access_key = access_key
        self.region = region
        self.token = token
        self.identity = (access_key, secret_key, token)
        self._secret = ("AWS4" + secret_key).encode()
        self._day = ""
        self._key = b""
        self._signed = "content-type;host;x-amz-date;" + (
            "x-amz-security-token;x-amz-target" if token else "x-amz-target"
        )

    def _signing_key(self, day: str) -> bytes:
        if day != self._day:
            key = self._secret
            for part in (day, self.region, SERVICE, "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._day, self._key = day, key
        return self._key

    def headers(self, host: str, target: str, body: bytes, amz_date: str) -> dict[str, str]:
        """The headers to add to one request: X-Amz-Date, Authorization (and the token)."""
        day = amz_date[:8]
        token_line = f"x-amz-security-token:{self.token}\n" if self.token else ""
        canonical = (
            f"POST\n/\n\ncontent-type:{CONTENT_TYPE}\nhost:{host}\nx-amz-date:{amz_date}\n"
            f"{token_line}x-amz-target:{target}\n\n{self._signed}\n"
            f"{hashlib.sha256(body).hexdigest()}"
        )
        scope = f"{day}/{self.region}/{SERVICE}/aws4_request"
        to_sign = (
            f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n"
            f"{hashlib.sha256(canonical.encode()).hexdigest()}"
        )
        signature = hmac.new(self._signing_key(day), to_sign.encode(), hashlib.sha256).hexdigest()
        out = {
            "X-Amz-Date": amz_date,
            "Authorization": f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, "
            f"SignedHeaders={self._signed}, Signature={signature}",
        }
        if self.token:
            out["X-Amz-Security-Token"] = self.token
        return out


def amz_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


# ---------------------------------------------------------------------------------------
# Wire <-> boto3 shapes
