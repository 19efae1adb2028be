"""`hothot schema`: the campaign file's JSON Schema, for editors' autocompletion."""

from __future__ import annotations

import argparse
import json
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from chaos.faults import FAULTS
from chaos.spec import ChaosSpec, _name_to_template
from hothot.campaign import Campaign
from loadgen.spec import WorkloadSpec
from loadgen.workloads import WORKLOADS
from units import (
    DURATION_PATTERN,
    RATE_PATTERN,
    SIZE_PATTERN,
    parse_duration,
    parse_rate,
    parse_size,
)
from verdict.spec import BudgetSpec

_DURATION_TEXT = {"type": "string", "pattern": DURATION_PATTERN}
_SIZE_TEXT = {"type": "string", "pattern": SIZE_PATTERN}
_RATE_TEXT = {"type": "string", "pattern": RATE_PATTERN}


class CampaignJsonSchema(GenerateJsonSchema):
    """Pydantic describes a field by the type it stores; the campaign file is written in what
    its before-validators accept: `45s` for a duration, `1.5KB` for a size, `200/s` for a
    rate, a list for `chaos:`, a bare fault name in random mode, `5%` or `3s` for a budget's
    `max`, and a workload's kind-specific options inline (`{kind: counter, increment: 2}`)."""

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        out = super().model_schema(schema)
        if schema["cls"] is WorkloadSpec:
            out = _workload_schema(out)
        return out

    def function_before_schema(
        self, schema: core_schema.BeforeValidatorFunctionSchema
    ) -> JsonSchemaValue:
        stored = super().function_before_schema(schema)
        fn = _function(schema)
        if fn is parse_duration:
            return {"anyOf": [stored, _DURATION_TEXT]}
        if fn is parse_size:
            return {"anyOf": [stored, _SIZE_TEXT]}
        if fn is parse_rate:
            return {"anyOf": [stored, _RATE_TEXT]}
        if fn is _name_to_template:
            return {"anyOf": [stored, {"enum": sorted(FAULTS)}]}
        if fn is BudgetSpec._units.__func__:  # type: ignore[attr-defined]
            return {"anyOf": [stored, {"type": "string"}]}
        return stored

    def function_wrap_schema(
        self, schema: core_schema.WrapValidatorFunctionSchema
    ) -> JsonSchemaValue:
        stored = super().function_wrap_schema(schema)
        if _function(schema) is ChaosSpec._accept_list.__func__:  # type: ignore[attr-defined]
            faults = schema["schema"]["schema"]["fields"]["faults"]["schema"]  # type: ignore[index,typeddict-item]
            return {"anyOf": [self.generate_inner(faults), stored]}
        return stored


def _workload_schema(common: JsonSchemaValue) -> JsonSchemaValue:
    """A workload takes its common fields plus the options of its kind, inline or under
    `options:`; a class of the user's own (a dotted `kind`) takes any."""
    common = dict(common)
    del common["additionalProperties"]
    common["properties"] = dict(common["properties"])
    common["properties"]["kind"] = {
        **common["properties"]["kind"],
        "anyOf": [{"enum": sorted(WORKLOADS)}, {"pattern": r"[.:]"}],
    }
    branches: list[JsonSchemaValue] = [
        {
            "if": {"properties": {"kind": {"pattern": r"[.:]"}}},
            "then": {"additionalProperties": True},
        }
    ]
    for kind, workload in sorted(WORKLOADS.items()):
        options = workload.Options.model_json_schema()
        branches.append(
            {
                "if": {"properties": {"kind": {"const": kind}}},
                "then": {"properties": {**options["properties"], "options": options}},
            }
        )
    return {**common, "allOf": branches, "unevaluatedProperties": False}


def _function(schema: Any) -> Any:
    """The plain function behind a validator (classmethods and field validators unwrapped)."""
    fn = schema["function"]["function"]
    return getattr(fn, "__func__", fn)


def json_schema() -> dict[str, Any]:
    """The campaign file's JSON Schema (draft 2020-12), as the file is written."""
    schema = Campaign.model_json_schema(schema_generator=CampaignJsonSchema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "hothot campaign"
    return schema


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", "-o", help="write to this file instead of stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        print(text, end="")
    return 0
