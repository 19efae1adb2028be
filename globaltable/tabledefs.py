"""Validating table definitions (CreateTable, and the parts UpdateTable shares): key schema,
attribute definitions, billing mode and throughput, secondary indexes; DynamoDB's messages."""

from __future__ import annotations

from typing import Any

from globaltable.errors import INVALID, validation
from globaltable.indexes import MAX_GSIS, MAX_LSIS, MAX_PROJECTED, PROJECTIONS, IndexSpec
from globaltable.request import check_name, field, lower_first
from globaltable.store import KEY_TYPES, KeySchema

MAX_UNITS = 1_000_000_000_000
BILLING_MODES = ("PROVISIONED", "PAY_PER_REQUEST")


def attribute_types(req: dict[str, Any]) -> dict[str, str]:
    defs = field(req, "AttributeDefinitions", list, True)
    types: dict[str, str] = {}
    for i, d in enumerate(defs):
        if not isinstance(d, dict) or not isinstance(d.get("AttributeName"), str):
            raise validation(f"AttributeDefinitions[{i}] needs an AttributeName")
        if d.get("AttributeType") not in KEY_TYPES:
            raise validation(
                f"1 validation error detected: Value '{d.get('AttributeType')}' at "
                f"'attributeDefinitions.{i + 1}.member.attributeType' failed to satisfy "
                "constraint: Member must satisfy enum value set: [B, N, S]"
            )
        _check_key_name(d["AttributeName"], f"attributeDefinitions.{i + 1}.member.attributeName")
        if d["AttributeName"] in types:
            raise validation(
                f"{INVALID}Duplicate AttributeName in AttributeDefinitions: {d['AttributeName']}"
            )
        types[d["AttributeName"]] = d["AttributeType"]
    return types


MAX_KEY_NAME = 255  # key attribute names (the model's KeySchemaAttributeName)


def _check_key_name(name: str, where: str) -> None:
    if not 1 <= len(name) <= MAX_KEY_NAME:
        bound = f"less than or equal to {MAX_KEY_NAME}" if name else "greater than or equal to 1"
        raise validation(
            f"1 validation error detected: Value '{name}' at '{where}' failed to satisfy "
            f"constraint: Member must have length {bound}"
        )


TABLE_CLASSES = ("STANDARD", "STANDARD_INFREQUENT_ACCESS")


def storage_settings(req: dict[str, Any]) -> dict[str, Any]:
    """`SSESpecification` and `TableClass` of CreateTable/UpdateTable, checked: they change
    nothing here, DescribeTable reports them (tools such as Terraform read them back)."""
    out: dict[str, Any] = {}
    sse = field(req, "SSESpecification", dict)
    if sse is not None:
        if sse.get("SSEType", "KMS") != "KMS":
            raise validation(
                f"1 validation error detected: Value '{sse.get('SSEType')}' at "
                "'sSESpecification.sSEType' failed to satisfy constraint: Member must satisfy "
                "enum value set: [AES256, KMS]"
            )
        out["SSE"] = bool(sse.get("Enabled"))
        out["KMSMasterKeyId"] = sse.get("KMSMasterKeyId")
    table_class = field(req, "TableClass", str)
    if table_class is not None:
        if table_class not in TABLE_CLASSES:
            raise validation(
                f"1 validation error detected: Value '{table_class}' at 'tableClass' failed to "
                "satisfy constraint: Member must satisfy enum value set: "
                "[STANDARD, STANDARD_INFREQUENT_ACCESS]"
            )
        out["TableClass"] = table_class
    return out


def describe_storage(definition: dict[str, Any], region: str, table_id: str) -> dict[str, Any]:
    """DescribeTable's `SSEDescription` (a KMS key when encryption with KMS was asked for) and
    `TableClassSummary` (when a class was set)."""
    out: dict[str, Any] = {}
    if definition.get("SSE"):
        key = definition.get("KMSMasterKeyId") or table_id
        arn = key if key.startswith("arn:") else f"arn:aws:kms:{region}:000000000000:key/{key}"
        out["SSEDescription"] = {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": arn}
    if definition.get("TableClass"):
        out["TableClassSummary"] = {"TableClass": definition["TableClass"]}
    return out


def key_schema(
    keys: Any, types: dict[str, str], where: str = "keySchema"
) -> tuple[tuple[str, str], ...]:
    """A KeySchema list as ((hash name, type), (range name, type)?), checked."""
    if not isinstance(keys, list) or not 1 <= len(keys) <= 2:
        raise validation(
            f"1 validation error detected: Value at '{where}' failed to satisfy constraint: "
            "Member must have length less than or equal to 2 and greater than or equal to 1"
        )
    for k in keys:
        if not isinstance(k, dict) or not isinstance(k.get("AttributeName"), str):
            raise validation(f"{where}: each element needs an AttributeName and a KeyType")
        if k.get("KeyType") not in ("HASH", "RANGE"):
            raise validation(
                f"1 validation error detected: Value '{k.get('KeyType')}' at '{where}.1.member."
                "keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]"
            )
    names = [k["AttributeName"] for k in keys]
    for i, n in enumerate(names):
        _check_key_name(n, f"{where}.{i + 1}.member.attributeName")
    if any(n not in types for n in names):
        raise validation(
            f"{INVALID}Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(names)}], AttributeDefinitions: [{', '.join(types)}]"
        )
    if len(names) == 2 and names[0] == names[1]:
        raise validation(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name"
        )
    if keys[0]["KeyType"] != "HASH":
        raise validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(keys) == 2 and keys[1]["KeyType"] != "RANGE":
        raise validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
    return tuple((n, types[n]) for n in names)


def table_schema(req: dict[str, Any], types: dict[str, str]) -> KeySchema:
    keys = key_schema(field(req, "KeySchema", list, True), types)
    (hash_name, hash_type), *rest = keys
    range_name, range_type = rest[0] if rest else (None, "S")
    return KeySchema(hash_name, hash_type, range_name, range_type)


def throughput(raw: Any, billing: str, what: str = "") -> dict[str, int] | None:
    """ProvisionedThroughput checked against the billing mode (None for on-demand)."""
    if billing == "PAY_PER_REQUEST":
        if raw is not None:
            if what:
                raise validation(
                    f"{INVALID}ProvisionedThroughput should not be specified for index: {what} "
                    "when BillingMode is PAY_PER_REQUEST"
                )
            raise validation(
                f"{INVALID}Neither ReadCapacityUnits nor WriteCapacityUnits can be specified "
                "when BillingMode is PAY_PER_REQUEST"
            )
        return None
    if (
        not isinstance(raw, dict)
        or not raw.get("ReadCapacityUnits")
        or not raw.get("WriteCapacityUnits")
    ):
        raise validation(
            f"{INVALID}ReadCapacityUnits and WriteCapacityUnits must both be specified when "
            "BillingMode is PROVISIONED"
        )
    out = {}
    for name in ("ReadCapacityUnits", "WriteCapacityUnits"):
        value = field(raw, name, int, True)
        if value < 1:
            raise validation(
                f"1 validation error detected: Value '{value}' at 'provisionedThroughput."
                f"{lower_first(name)}' failed to satisfy constraint: Member must have value "
                "greater than or equal to 1"
            )
        if value > MAX_UNITS:
            raise validation(f"Given value {value} for {name} is out of bounds")
        out[name] = value
    return out


def projection(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise validation(
            "1 validation error detected: Value null at 'projection' failed to satisfy "
            "constraint: Member must not be null"
        )
    kind = raw.get("ProjectionType")
    if kind is None:
        raise validation(f"{INVALID}Unknown ProjectionType: null")
    if kind not in PROJECTIONS:
        raise validation(
            f"1 validation error detected: Value '{kind}' at 'projection.projectionType' failed to "
            "satisfy constraint: Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]"
        )
    extra = raw.get("NonKeyAttributes")
    if extra is not None and kind != "INCLUDE":
        raise validation(f"{INVALID}ProjectionType is {kind}, but NonKeyAttributes is specified")
    if kind == "INCLUDE":
        if not isinstance(extra, list) or not extra or not all(isinstance(a, str) for a in extra):
            raise validation(
                f"{INVALID}NonKeyAttributes must be specified when ProjectionType is INCLUDE"
            )
        return {"ProjectionType": kind, "NonKeyAttributes": list(extra)}
    return {"ProjectionType": kind}


def index_spec(
    raw: Any, is_global: bool, types: dict[str, str], schema: KeySchema, billing: str
) -> IndexSpec:
    """One GlobalSecondaryIndexes / LocalSecondaryIndexes element (or a GSI Create action)."""
    if not isinstance(raw, dict):
        raise validation("Each secondary index must be a map")
    name = raw.get("IndexName")
    if isinstance(name, str) and len(name) > 255:  # DynamoDB's model constraint, naming it
        raise validation(
            f"1 validation error detected: Value '{name}' at 'indexName' failed to satisfy "
            "constraint: Member must have length less than or equal to 255"
        )
    name = check_name(name, "IndexName")
    keys = key_schema(raw.get("KeySchema"), types, "keySchema")
    if not is_global:
        if len(keys) != 2:
            raise validation(
                f"{INVALID}Index KeySchema does not have a range key for index: {name}"
            )
        if keys[0][0] != schema.hash_name:
            raise validation(
                f"{INVALID}Index KeySchema does not have the same leading hash key as table "
                f"KeySchema for index: {name}. index hash key: {keys[0][0]}, table hash key: "
                f"{schema.hash_name}"
            )
    proj = projection(raw.get("Projection"))
    units = throughput(raw.get("ProvisionedThroughput"), billing, name) if is_global else None
    return IndexSpec(name, is_global, keys, proj, schema.names, units)


def secondary_indexes(
    req: dict[str, Any], types: dict[str, str], schema: KeySchema, billing: str
) -> list[IndexSpec]:
    """CreateTable's LocalSecondaryIndexes and GlobalSecondaryIndexes, checked together."""
    specs: list[IndexSpec] = []
    for option, is_global, limit in (
        ("LocalSecondaryIndexes", False, MAX_LSIS),
        ("GlobalSecondaryIndexes", True, MAX_GSIS),
    ):
        raw = field(req, option, list)
        if raw is None:
            continue
        if not raw:
            raise validation(f"{INVALID}List of {option} is empty")
        if not is_global and schema.range_name is None:
            raise validation(
                f"{INVALID}Table KeySchema does not have a range key, which is required when "
                "specifying a LocalSecondaryIndex"
            )
        for element in raw:
            spec = index_spec(element, is_global, types, schema, billing)
            if any(s.name == spec.name for s in specs):
                raise validation(f"{INVALID}Duplicate index name: {spec.name}")
            specs.append(spec)
        if len(raw) > limit:
            what = (
                "Number of LocalSecondaryIndexes exceeds per-table limit of 5"
                if not is_global
                else ("GlobalSecondaryIndex count exceeds the per-table limit of 20")
            )
            raise validation(f"{INVALID}{what}")
    check_projected(specs)
    used = set(schema.names) | {n for s in specs for n in (s.hash_name, s.range_name) if n}
    unused = sorted(set(types) - used)
    if unused:
        raise validation(
            f"{INVALID}Number of attributes in KeySchema does not exactly match number of "
            "attributes defined in AttributeDefinitions"
        )
    return specs


def check_projected(specs: list[IndexSpec]) -> None:
    """DynamoDB's limit on NonKeyAttributes summed over a table's indexes."""
    total = sum(len(s.projection.get("NonKeyAttributes", ())) for s in specs)
    if total > MAX_PROJECTED:
        raise validation(
            f"{INVALID}The sum of the number of projected attributes in all the secondary "
            f"indexes exceeds the limit of {MAX_PROJECTED}"
        )
