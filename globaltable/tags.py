"""Tags: TagResource, UntagResource, ListTagsOfResource, and `Tags` on CreateTable.

A table's tags are per replica: the ARN names a region, and tags are not replicated between
the replicas of a global table (hothot's reading; CreateTable's `Tags` go on every replica it
creates). DynamoDB's limits: 50 tags a resource, keys 1-128 characters, values 0-256, the
`aws:` prefix reserved."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from globaltable.errors import DynamoError, resource_not_found, validation
from globaltable.request import field

if TYPE_CHECKING:
    from globaltable.engine import GlobalTable
    from globaltable.table import Table

MAX_TAGS = 50
_ARN = re.compile(r"arn:aws:dynamodb:([^:]+):\d+:table/([^/]{3,255})")
_ANY_ARN = re.compile(r".+:.+:.+:.+:.+:.+/.+")
PAGE = MAX_TAGS  # every tag in one answer (as observed on DynamoDB: 40 tags come at once)
#: letters, whitespace, numbers and + - = . _ : / @ (the tagging documentation's characters)
_PATTERN = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"
_ALLOWED = re.compile(r"[\w\s.:/=+\-@]*")


def _table(gt: GlobalTable, region: str, req: dict[str, Any], action: str) -> Table:
    arn = field(req, "ResourceArn", str)
    if arn is None:
        raise validation("Invalid TableArn")
    if _ANY_ARN.fullmatch(arn) is None:
        raise DynamoError(
            "AccessDeniedException",
            f"User: arn:aws:iam::000000000000:user/hothot is not authorized to perform: "
            f"dynamodb:{action} on resource: {arn}",
        )
    match = _ARN.fullmatch(arn)
    if match is None:
        raise validation(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    table = gt.tables.get(match.group(2))
    if table is None or match.group(1) != region or region not in table.replicas:
        raise resource_not_found(f"ResourcArn: {arn} not found")
    return table


def tag_list(raw: Any) -> dict[str, str]:
    """A `Tags` list as {key: value}, checked (CreateTable and TagResource)."""
    if not isinstance(raw, list):
        raise validation(
            "1 validation error detected: Value null at 'tags' failed to satisfy constraint: "
            "Member must not be null"
        )
    out: dict[str, str] = {}
    for i, tag in enumerate(raw, 1):
        key = tag.get("Key") if isinstance(tag, dict) else None
        value = tag.get("Value") if isinstance(tag, dict) else None
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise validation(
                f"1 validation error detected: Value '{key}' at 'tags.{i}.member.key' failed to "
                "satisfy constraint: Member must have length between 1 and 128"
            )
        if not isinstance(value, str) or len(value) > 256:
            raise validation(
                f"1 validation error detected: Value '{value}' at 'tags.{i}.member.value' failed "
                "to satisfy constraint: Member must have length less than or equal to 256"
            )
        for what, text in (("key", key), ("value", value)):
            if _ALLOWED.fullmatch(text) is None:
                raise validation(
                    f"1 validation error detected: Value '{text}' at 'tags.{i}.member.{what}' "
                    "failed to satisfy constraint: Member must satisfy regular expression "
                    f"pattern: {_PATTERN}"
                )
        if key.startswith("aws:"):
            raise validation(f"Invalid tag key: {key}: the aws: prefix is reserved")
        out[key] = value
    return out


def _check_count(tags: dict[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise validation(
            f"One or more parameter values were invalid: The number of tags on a resource "
            f"cannot exceed {MAX_TAGS}: it would have {len(tags)}"
        )


def create_tags(req: dict[str, Any]) -> dict[str, str] | None:
    """CreateTable's `Tags`, checked (None when absent)."""
    if req.get("Tags") is None:
        return None
    tags = tag_list(req["Tags"])
    _check_count(tags)
    return tags


#: TagResource and UntagResource answer with an empty body, as DynamoDB does
EMPTY = b""


def tag_resource(gt: GlobalTable, region: str, req: dict[str, Any]) -> bytes:
    table = _table(gt, region, req, "TagResource")
    new = tag_list(req.get("Tags"))
    if not new:
        raise validation("Atleast one Tag needs to be provided as Input.")
    merged = {**table.tags.get(region, {}), **new}
    _check_count(merged)
    table.tags[region] = merged
    return EMPTY


def untag_resource(gt: GlobalTable, region: str, req: dict[str, Any]) -> bytes:
    table = _table(gt, region, req, "UntagResource")
    keys = req.get("TagKeys")
    if not isinstance(keys, list):
        raise validation(
            "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: "
            "Member must not be null"
        )
    if not keys:
        raise validation("Atleast one Tag Key needs to be provided as Input.")
    tags = table.tags.get(region, {})
    for key in keys:
        if isinstance(key, str):
            tags.pop(key, None)
    return EMPTY


def list_tags_of_resource(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    table = _table(gt, region, req, "ListTagsOfResource")
    tags = sorted(table.tags.get(region, {}).items())
    start = field(req, "NextToken", str)
    if start is not None:
        if not start.isdigit():
            raise validation(f"Invalid NextToken: {start}")
        tags = tags[int(start) :]
    resp: dict[str, Any] = {"Tags": [{"Key": k, "Value": v} for k, v in tags[:PAGE]]}
    if len(tags) > PAGE:
        resp["NextToken"] = str((int(start) if start else 0) + PAGE)
    return resp
