"""`hothot schema` describes the campaign file as it is written: every shipped campaign and the
documented workload forms validate against it, and typos are rejected."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from hothot.campaign import load_campaign
from hothot.cli import main

CAMPAIGNS = sorted(Path(__file__).parent.parent.joinpath("campaigns").glob("*.yaml"))


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What `hothot schema -o FILE` writes, once for the module."""
    out = tmp_path_factory.mktemp("schema") / "campaign.schema.json"
    assert main(["schema", "-o", str(out)]) == 0
    return json.loads(out.read_text())


def _errors(schema: dict[str, Any], doc: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    return [e.message for e in validator.iter_errors(doc)]


def test_schema_is_valid_draft_2020_12(schema: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", CAMPAIGNS, ids=lambda p: p.name)
def test_every_shipped_campaign_validates(path: Path, schema: dict[str, Any]) -> None:
    load_campaign(path)  # the model takes it ...
    # ... so the schema must too (durations as "45s", chaos as a list, budgets' "3s"/"5%")
    assert _errors(schema, yaml.safe_load(path.read_text())) == []


BASE = {"name": "x", "duration": "10s", "target": {"kind": "emulator"}}

DOCUMENTED_WORKLOADS = [  # docs/workloads.md: kind-specific options inline or under options:
    {"kind": "split_attributes", "weight": 2, "keys": 100, "attributes": ["a", "b"]},
    {"kind": "counter", "name": "likes", "keys": 50, "key_distribution": "zipf", "increment": 1},
    {"kind": "reader", "weight": 1, "workloads": ["likes"], "consistent": False},
    {"kind": "counter", "options": {"increment": 2}, "item_size": "1.5KB"},
    {"kind": "myapp.hothot_workloads.SessionToken", "keys": 500, "ttl_s": 600},
]


@pytest.mark.parametrize("workload", DOCUMENTED_WORKLOADS, ids=lambda w: w["kind"])
def test_documented_workload_forms_validate(
    workload: dict[str, Any], schema: dict[str, Any]
) -> None:
    doc = {**BASE, "workloads": [workload]}
    _model_accepts(doc, workload)
    assert _errors(schema, doc) == []


def _model_accepts(doc: dict[str, Any], workload: dict[str, Any]) -> None:
    """The model accepts what the schema must accept (a user's own class is not importable
    here, so only registered kinds are loaded)."""
    if "." in workload["kind"]:
        return
    from hothot.campaign import Campaign

    Campaign.model_validate(doc)


TYPOS: list[tuple[tuple[Any, ...], Any]] = [
    (("durration",), "30s"),
    (("writers", "per_regon"), 2),
    (("cost", "production_scael"), 2),
    (("target", "tabel"), "t"),
    (("chaos", 0, "regoins"), ["us-east-1"]),
    (("workloads", 0, "wieght"), 2),
    (("workloads", 2, "incremnt"), 2),
    (("budgets", 0, "mx"), 1),
]


@pytest.mark.parametrize("where, value", TYPOS, ids=lambda t: str(t))
def test_a_typo_is_rejected(where: tuple[Any, ...], value: Any, schema: dict[str, Any]) -> None:
    doc = yaml.safe_load((CAMPAIGNS[0].parent / "quickstart.yaml").read_text())
    doc.setdefault("cost", {})
    assert _errors(schema, doc) == []
    bad = copy.deepcopy(doc)
    node = bad
    for step in where[:-1]:
        node = node[step]
    node[where[-1]] = value
    errors = _errors(schema, bad)
    assert any(repr(where[-1]) in e for e in errors), errors
