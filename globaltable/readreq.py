"""The table-independent part of a Query or Scan request, validated as DynamoDB does before
it looks the table up: expression or legacy parameters (never a mix), Select, Limit,
segments, and the key conditions of a Query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from globaltable import legacy
from globaltable.errors import validation
from globaltable.expressions import key_condition
from globaltable.expressions.key_condition import KeyConditions
from globaltable.request import (
    all_used,
    capacity_mode,
    choice,
    condition_of,
    field,
    names_values,
    projection_of,
)

SELECTS = ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT")
MAX_SEGMENTS = 1_000_000


@dataclass
class ReadRequest:
    """What a Query or Scan asks for, validated."""

    names: dict[str, str]
    values: dict[str, dict[str, Any]]
    filt: Any  # Condition, LegacyCondition or None
    filter_label: str  # how DynamoDB names the filter in messages
    proj: Any  # Projection, AttributesToGet or None
    select: str | None  # None: the default (ALL_ATTRIBUTES, or ALL_PROJECTED on an index)
    limit: int | None
    consistent: bool
    rcc: str
    index_name: str | None
    key_conds: Any = None  # a KeyCondition expression, or legacy KeyConditions (a dict)

    def key_conditions(self) -> KeyConditions:
        if isinstance(self.key_conds, dict):
            return self.key_conds
        return self.key_conds.conditions(self.names, self.values)


def _limit(req: dict[str, Any]) -> int | None:
    limit = field(req, "Limit", int)
    if limit is not None and limit < 1:
        raise validation(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            "constraint: Member must have value greater than or equal to 1"
        )
    return limit


def _select(req: dict[str, Any], proj: Any, legacy_proj: bool) -> str | None:
    select = field(req, "Select", str)
    if select is None:
        return None
    choice(req, "Select", SELECTS)
    if select == "ALL_PROJECTED_ATTRIBUTES" and req.get("IndexName") is None:
        raise validation(
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
        )
    what = "AttributesToGet" if legacy_proj else "ProjectionExpression"
    if select == "SPECIFIC_ATTRIBUTES" and proj is None:
        raise validation(
            "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
            "SPECIFIC_ATTRIBUTES"
        )
    if select != "SPECIFIC_ATTRIBUTES" and proj is not None:
        raise validation(f"Cannot specify the {what} when choosing to get {select}")
    return select


def read_request(req: dict[str, Any], query: bool) -> ReadRequest:
    """Validate a Query (`query`) or Scan request, table-independently."""
    filter_field = "QueryFilter" if query else "ScanFilter"
    if query:
        legacy.check_mixing(
            req,
            ("ProjectionExpression", "FilterExpression", "KeyConditionExpression"),
            ("AttributesToGet", "QueryFilter", "ConditionalOperator", "KeyConditions"),
        )
    else:
        legacy.check_mixing(
            req,
            ("ProjectionExpression", "FilterExpression"),
            ("AttributesToGet", "ScanFilter", "ConditionalOperator"),
        )
    names, values = names_values(req)
    filt = condition_of(req, "FilterExpression")
    label = "Filter Expression"
    if filt is not None:
        filt.check(names, values)  # once, even when no item reaches the filter
    else:
        filt, label = legacy.filter_conditions(req, filter_field), filter_field
    proj = projection_of(req)
    legacy_proj = proj is None and req.get("AttributesToGet") is not None
    if proj is None:
        proj = legacy.attributes_to_get(req)
    key_conds = _key_conditions(req) if query else None
    all_used(names, values, filt, proj, None if isinstance(key_conds, dict) else key_conds)
    index_name = field(req, "IndexName", str)
    return ReadRequest(
        names,
        values,
        filt,
        label,
        proj,
        _select(req, proj, legacy_proj),
        _limit(req),
        bool(field(req, "ConsistentRead", bool)),
        capacity_mode(req),
        index_name,
        key_conds,
    )


def _key_conditions(req: dict[str, Any]) -> Any:
    text = field(req, "KeyConditionExpression", str)
    if text is not None:
        return key_condition(text)
    if req.get("KeyConditions") is None:
        raise validation(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in "
            "the request."
        )
    return legacy.key_conditions(req)


def segment(req: dict[str, Any]) -> tuple[int, int] | None:
    """(Segment, TotalSegments) of a parallel Scan, with DynamoDB's messages."""
    total = field(req, "TotalSegments", int)
    seg = field(req, "Segment", int)
    if seg is not None and seg < 0:
        raise validation(
            f"1 validation error detected: Value '{seg}' at 'segment' failed to satisfy "
            "constraint: Member must have value greater than or equal to 0"
        )
    if total is not None and not 1 <= total <= MAX_SEGMENTS:
        bound = "less than or equal to 1000000" if total > 1 else "greater than or equal to 1"
        raise validation(
            f"1 validation error detected: Value '{total}' at 'totalSegments' failed to satisfy "
            f"constraint: Member must have value {bound}"
        )
    if seg is not None and total is None:
        raise validation(
            "The TotalSegments parameter is required but was not present in the request when "
            "Segment parameter is present"
        )
    if total is not None and seg is None:
        raise validation(
            "The Segment parameter is required but was not present in the request when "
            "parameter TotalSegments is present"
        )
    if total is None or seg is None:
        return None
    if seg >= total:
        raise validation(
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
            f"Segment: {seg} is not less than TotalSegments: {total}"
        )
    return seg, total
