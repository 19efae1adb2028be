"""Every registry is complete as soon as its module is imported, whatever else was (or was not)
imported before: a class registered as a side effect of importing another module (as
`cost_per_month` once was, by `verdict.cost`) is unknown to a program that never imports it."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import hothot.cli  # noqa: F401  (imports every part: every registry as complete as it gets)

#: (module, table): the registries of workloads, faults, injectors, budget metrics
REGISTRIES = [
    ("loadgen.workloads", "WORKLOADS"),
    ("chaos.faults", "FAULTS"),
    ("chaos.injectors", "INJECTORS"),
    ("verdict.budgets", "METRICS"),
    ("verdict.live", "PROVISIONAL"),
]


def names_in_a_fresh_interpreter(module: str, table: str) -> list[str]:
    code = f"import {module} as m, json; print(json.dumps(sorted(m.{table})))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize(("module", "table"), REGISTRIES)
def test_a_registry_is_complete_on_its_own_import(module: str, table: str) -> None:
    everything = sorted(getattr(importlib.import_module(module), table))
    assert everything, f"{module}.{table} is empty"
    assert names_in_a_fresh_interpreter(module, table) == everything


def test_a_budget_spec_knows_every_metric_without_other_imports() -> None:
    """The issue's case: `from verdict.spec import BudgetSpec` alone, then cost_per_month."""
    code = (
        "from verdict.spec import BudgetSpec\n"
        "BudgetSpec(metric='cost_per_month', max=100)\n"
        "print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
