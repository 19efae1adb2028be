"""`analyze(report_dir)`: read a report directory, judge it, write verdict.json/junit.xml/report.html."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import ValidationError

from units import link_name, parse_duration
from units.yamlpos import PathKey, YamlError, line_of, load_with_lines, loc_text
from verdict.budgets import METRICS
from verdict.check import Checker, Findings
from verdict.cost import CostSpec
from verdict.errors import HistoryError
from verdict.figures import totals, truth_check, untrusted_truth, workload_rows
from verdict.graph import VersionStore
from verdict.history import CHAOS_LOG, TRUTH_FILE, fault_failures, fault_windows
from verdict.ingest import ingest_history
from verdict.junit import junit_xml
from verdict.spec import BudgetSpec, VerdictOptions

CAMPAIGN_FILE = "campaign.yaml"
VERDICT_FILE = "verdict.json"
JUNIT_FILE = "junit.xml"
REPORT_FILE = "report.html"
#: written by the distributed master: per-worker record counts, and which workers were lost
WORKERS_FILE = "workers.json"


@dataclass
class Verdict:
    """verdict.json's content, with the exit code the CLI returns (DESIGN §7)."""

    data: dict[str, Any]

    @property
    def passed(self) -> bool:
        return bool(self.data["passed"])

    @property
    def partial(self) -> bool:
        return bool(self.data["partial"])

    @property
    def exit_code(self) -> int:
        """2 when the run cannot be trusted: a fault could not be applied or healed (the run
        did not test what the campaign asked, or left the target faulty), or a complete run's
        figures disagree with the emulator's ground truth. Else 0 when every budget holds."""
        if self.data.get("fault_failures") or untrusted_truth(self.data):
            return 2
        return 0 if self.passed else 1


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


def _check_filters(
    budgets: list[BudgetSpec], store: VersionStore, campaign: dict[str, Any]
) -> None:
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


def _read_json(path: Path) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as e:
        raise HistoryError(f"{path}: not valid JSON: {e}") from None


def evaluate(budgets: list[BudgetSpec], f: Findings, opts: VerdictOptions) -> list[dict[str, Any]]:
    out = []
    for b in budgets:
        observed = METRICS[b.metric]().observe(f, b)
        no_data = observed is None
        passed = (not opts.fail_on_no_data) if no_data else observed <= b.max
        out.append(
            {
                "metric": b.metric,
                "max": b.max,
                "observed": observed,
                "passed": passed,
                "workload": b.workload,
                "region": b.region,
                "link": b.link,
                "label": b.label,
                "unit": METRICS[b.metric].unit,
                "no_data": no_data,
            }
        )
    return out


def analyze(
    report_dir: Path,
    budgets: list[BudgetSpec] | None = None,
    *,
    partial: bool | None = None,
    write: bool = True,
    reader: str = "native",
) -> Verdict:
    """Judge a report directory. `budgets` None: the campaign's; `partial` None: detected from
    shard trailers and the campaign's `partial:` flag; `reader`: the first of
    `verdict.ingest.READERS` to try ("records" is the reference the others are tested
    against)."""
    report_dir = Path(report_dir)
    started = time.perf_counter()
    campaign = load_campaign(report_dir)
    if budgets is None:
        budgets = parse_budgets(campaign.get("budgets"), report_dir / CAMPAIGN_FILE)
    try:
        opts = VerdictOptions.model_validate(campaign.get("verdict") or {})
    except ValidationError as e:
        raise _error(f"{report_dir / CAMPAIGN_FILE}: verdict", e) from None
    kinds = {
        str(w.get("name") or w.get("kind")): str(w.get("kind"))
        for w in campaign.get("workloads") or []
        if isinstance(w, dict)
    }
    try:
        cost_spec = CostSpec.model_validate(campaign.get("cost") or {})
    except ValidationError as e:
        raise _error(f"{report_dir / CAMPAIGN_FILE}: cost", e) from None
    store, stats, cost = ingest_history(report_dir, kinds, reader=reader)
    _check_filters(budgets, store, campaign)
    chaos = report_dir / CHAOS_LOG
    events = chaos.read_bytes().splitlines() if chaos.exists() else []
    windows, failures = fault_windows(events), fault_failures(events)
    truth_path = report_dir / TRUTH_FILE
    truth = _read_json(truth_path) if truth_path.exists() else None
    findings = Checker(store, windows, opts.staleness_bound, truth, opts.examples).run()
    regions = (campaign.get("target") or {}).get("regions") or store.regions.names
    duration = _duration_of(campaign, findings)
    findings.cost = cost.result(duration, list(regions), cost_spec) if duration else None
    workers = _read_json(report_dir / WORKERS_FILE) if (report_dir / WORKERS_FILE).exists() else {}
    lost_workers = sorted(name for name, w in workers.items() if w.get("lost"))
    rows = workload_rows(findings)
    tot = totals(rows)
    results = evaluate(budgets, findings, opts)
    if partial is None:
        partial = bool(stats.unterminated) or bool(campaign.get("partial")) or bool(lost_workers)
    data: dict[str, Any] = {
        "name": campaign.get("name", report_dir.name),
        "passed": all(r["passed"] for r in results) and not failures,
        "partial": partial,
        "totals": tot,
        "workloads": rows,
        "lag": findings.lag,
        "budgets": results,
        "faults": findings.attribution.as_json(),
        "fault_failures": failures,
        **truth_check(truth, tot, findings),
        "stale_reads": {
            "bound_s": opts.staleness_bound,
            "regions": findings.stale.region_summary(store.regions.names),
        },
        "convergence": findings.convergence,
        "cost": findings.cost,
        "workers": {"lost": lost_workers, "detail": workers},
        "examples": findings.examples,
        "timeline": findings.timeline,
        "history": {
            "shards": len(stats.shards),
            "records": stats.records,
            "skipped_lines": stats.skipped,
            "skipped_examples": stats.skipped_examples,
            "unterminated_shards": stats.unterminated,
            "duplicate_writes": store.duplicates,
            "keys": len(store.keys.names),
            "reader": stats.reader,
            "reader_refusals": stats.refusals,
        },
        "campaign": {
            "duration": campaign.get("duration"),
            "regions": (campaign.get("target") or {}).get("regions") or store.regions.names,
        },
        "analysis_s": round(time.perf_counter() - started, 3),
    }
    data["passed"] = data["passed"] and not untrusted_truth(data)
    verdict = Verdict(data)
    if write:
        write_reports(report_dir, verdict)
    return verdict


def _duration_of(campaign: dict[str, Any], findings: Any) -> float:
    """The run's length in seconds: the campaign's, else the span of the timeline."""
    raw = campaign.get("duration")
    if raw is not None:
        try:
            return parse_duration(raw)
        except ValueError:
            pass
    timeline = findings.timeline or {}
    return float(timeline.get("bucket_s", 0.0)) * len(timeline.get("ops", []))


def write_reports(report_dir: Path, verdict: Verdict) -> None:
    from verdict.html import render_html

    (report_dir / VERDICT_FILE).write_bytes(
        orjson.dumps(verdict.data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    )
    (report_dir / JUNIT_FILE).write_bytes(junit_xml(verdict.data))
    (report_dir / REPORT_FILE).write_text(render_html(verdict.data), encoding="utf-8")
