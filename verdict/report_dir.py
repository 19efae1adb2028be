"""The report directory as the verdict reads it: its files' names (defined here once), the
campaign and budgets files, and everything besides the history that `analyze` reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import ValidationError

from units import link_name
from units.yamlpos import PathKey, YamlError, line_of, load_with_lines, loc_text
from verdict.cost import CostSpec
from verdict.errors import HistoryError
from verdict.graph import VersionStore
from verdict.history import CHAOS_LOG, TRUTH_FILE, fault_failures, fault_windows
from verdict.spec import BudgetSpec, VerdictOptions
from verdict.witness import Witness, read_witness

CAMPAIGN_FILE = "campaign.yaml"
VERDICT_FILE = "verdict.json"
JUNIT_FILE = "junit.xml"
REPORT_FILE = "report.html"
#: written by the distributed master: per-worker record counts, and which workers were lost
WORKERS_FILE = "workers.json"
#: written by the runner: operations requested, delivered and dropped (docs/verdict.md, Load)
LOAD_FILE = "load.json"
#: written by `hothot run`: the hothot version and command line, for the report's header
RUN_FILE = "run.json"


@dataclass
class Inputs:
    """What the verdict reads besides the history."""

    campaign: dict[str, Any]
    budgets: list[BudgetSpec]
    options: VerdictOptions
    cost: CostSpec
    #: workload name -> kind (counters and carts are judged by value too)
    kinds: dict[str, str]
    chaos: list[bytes]
    truth: dict[str, Any] | None
    workers: dict[str, Any]
    load: dict[str, Any] | None
    #: the store's own conflict log (pglogical), if the run kept one
    witness: Witness | None = None

    @property
    def windows(self) -> Any:
        return fault_windows(self.chaos)

    @property
    def fault_failures(self) -> Any:
        return fault_failures(self.chaos)

    @property
    def lost_workers(self) -> list[str]:
        return sorted(name for name, w in self.workers.items() if w.get("lost"))

    @property
    def key_counts(self) -> dict[str, int]:
        """The campaign's key count of each workload (its key space)."""
        return {
            str(w.get("name") or w.get("kind")): int(w["keys"])
            for w in self.campaign.get("workloads") or []
            if isinstance(w, dict) and isinstance(w.get("keys"), int)
        }


def read_inputs(report_dir: Path, budgets: list[BudgetSpec] | None) -> Inputs:
    """Everything but the history; bad input raises HistoryError naming the file."""
    campaign = load_campaign(report_dir)
    if budgets is None:
        budgets = parse_budgets(campaign.get("budgets"), report_dir / CAMPAIGN_FILE)
    try:
        options = VerdictOptions.model_validate(campaign.get("verdict") or {})
    except ValidationError as e:
        raise _error(f"{report_dir / CAMPAIGN_FILE}: verdict", e) from None
    try:
        cost = CostSpec.model_validate(campaign.get("cost") or {})
    except ValidationError as e:
        raise _error(f"{report_dir / CAMPAIGN_FILE}: cost", e) from None
    kinds = {
        str(w.get("name") or w.get("kind")): str(w.get("kind"))
        for w in campaign.get("workloads") or []
        if isinstance(w, dict)
    }
    chaos = report_dir / CHAOS_LOG
    return Inputs(
        campaign=campaign,
        budgets=budgets,
        options=options,
        cost=cost,
        kinds=kinds,
        chaos=chaos.read_bytes().splitlines() if chaos.exists() else [],
        truth=_optional_json(report_dir / TRUTH_FILE),
        workers=_optional_json(report_dir / WORKERS_FILE) or {},
        load=_optional_json(report_dir / LOAD_FILE),
        witness=read_witness(report_dir),
    )


def _optional_json(path: Path) -> Any:
    return read_json(path) if path.exists() else None


def _error(where: str, err: ValidationError) -> HistoryError:
    lines = [
        f"{where}.{'.'.join(map(str, e['loc']))}: {e['msg']}".rstrip(".:") for e in err.errors()
    ]
    return HistoryError("\n".join(lines).replace("Value error, ", ""))


def load_campaign(report_dir: Path) -> dict[str, Any]:
    path = report_dir / CAMPAIGN_FILE
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise HistoryError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise HistoryError(f"{path}: expected a mapping at the top level")
    return data


def parse_budgets(
    raw: Any, source: str | Path, lines: dict[PathKey, int] | None = None
) -> list[BudgetSpec]:
    """A `budgets:` list -> specs. Every bad entry is reported at once, each as
    `source:line: budgets[i].field: message` (without `:line` when the lines are unknown)."""
    if raw is None:
        return []

    def at(loc: tuple[str | int, ...]) -> str:
        line = line_of(lines, ("budgets", *loc)) if lines is not None else None
        return f"{source}{f':{line}' if line else ''}: {loc_text(('budgets', *loc))}"

    if not isinstance(raw, list):
        raise HistoryError(f"{at(())}: expected a list of budgets")
    out, problems = [], []
    for i, item in enumerate(raw):
        try:
            spec = BudgetSpec.model_validate(item)
        except ValidationError as e:
            for err in e.errors():
                msg = str(err["msg"]).replace("Value error, ", "")
                problems.append(f"{at((i, *err['loc']))}: {msg}")
            continue
        spec._origin = at((i,))
        out.append(spec)
    if problems:
        raise HistoryError("\n".join(problems))
    return out


def load_budgets_file(path: Path) -> list[BudgetSpec]:
    """`hothot analyze --budgets FILE`: YAML with a `budgets:` list."""
    try:
        data, lines = load_with_lines(path)
    except YamlError as e:
        raise HistoryError(str(e)) from None
    if not isinstance(data, dict) or "budgets" not in data:
        raise HistoryError(f"{path}: expected a mapping with a `budgets:` list")
    return parse_budgets(data["budgets"], path, lines)


def check_filters(budgets: list[BudgetSpec], store: VersionStore, campaign: dict[str, Any]) -> None:
    """Budgets naming a workload, region or link the run never had are input errors."""
    workloads = {n for n in store.workloads.names if n}
    workloads |= {
        w.get("name") or w.get("kind")
        for w in campaign.get("workloads") or []
        if isinstance(w, dict)
    }
    regions = set(store.regions.names) | set((campaign.get("target") or {}).get("regions") or [])
    links = {link_name(a, b) for a in regions for b in regions if a != b}
    for i, b in enumerate(budgets):
        for what, value, known in (
            ("workload", b.workload, workloads),
            ("region", b.region, regions),
            ("link", b.link, links),
        ):
            if value is not None and value not in known:
                raise HistoryError(
                    f"{b._origin or f'budgets[{i}]'}.{what}: unknown {what} {value!r} for"
                    f" {b.metric}; the run has: {', '.join(sorted(map(str, known))) or 'none'}"
                )


def read_json(path: Path) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as e:
        raise HistoryError(f"{path}: not valid JSON: {e}") from None
