"""`analyze(report_dir)`: read a report directory, judge it, write verdict.json/junit.xml/report.html."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import ValidationError

from units import link_name, parse_duration
from units.yamlpos import PathKey, YamlError, line_of, load_with_lines, loc_text
from verdict.buckets import BUCKET_BYTES, bucket_count, default_jobs, judge_in_buckets
from verdict.budgets import METRICS
from verdict.check import check
from verdict.cost import CostSpec
from verdict.cost_campaign import CostAccumulator
from verdict.errors import HistoryError
from verdict.figures import totals, truth_check, untrusted_truth, workload_rows
from verdict.findings import Findings, Frame, findings_of
from verdict.graph import VersionStore
from verdict.history import (
    CHAOS_LOG,
    TRUTH_FILE,
    FaultFailure,
    FaultWindow,
    fault_failures,
    fault_windows,
)
from verdict.junit import junit_xml
from verdict.native_reader import available, read_history
from verdict.shards import ReadStats, shard_paths
from verdict.skew import replication_horizons
from verdict.spec import BudgetSpec, VerdictOptions
from verdict.witness import Witness, read_witness, witness_check

CAMPAIGN_FILE = "campaign.yaml"
VERDICT_FILE = "verdict.json"
JUNIT_FILE = "junit.xml"
REPORT_FILE = "report.html"
#: written by the distributed master: per-worker record counts, and which workers were lost
WORKERS_FILE = "workers.json"


@dataclass
class Verdict:
    """verdict.json's content, with the exit code the CLI returns (docs/verdict.md)."""

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


@dataclass
class RunFiles:
    """What a report directory holds beside the history, read and checked."""

    campaign: dict[str, Any]
    options: VerdictOptions
    kinds: dict[str, str]  # workload name -> kind, for the value checks
    cost_spec: CostSpec
    windows: list[FaultWindow]
    fault_failures: list[FaultFailure]
    truth: dict[str, Any] | None
    workers: dict[str, Any]
    witness: Witness | None  # the store's own conflict log (pglogical), if the run kept one

    @property
    def lost_workers(self) -> list[str]:
        return sorted(name for name, w in self.workers.items() if w.get("lost"))


def read_run_files(report_dir: Path) -> RunFiles:
    """campaign.yaml (verdict options, workload kinds, cost), chaos.jsonl, truth.json and
    workers.json; bad content raises HistoryError naming the file."""
    campaign = load_campaign(report_dir)
    try:
        options = VerdictOptions.model_validate(campaign.get("verdict") or {})
    except ValidationError as e:
        raise _error(f"{report_dir / CAMPAIGN_FILE}: verdict", e) from None
    try:
        cost_spec = CostSpec.model_validate(campaign.get("cost") or {})
    except ValidationError as e:
        raise _error(f"{report_dir / CAMPAIGN_FILE}: cost", e) from None
    kinds = {
        str(w.get("name") or w.get("kind")): str(w.get("kind"))
        for w in campaign.get("workloads") or []
        if isinstance(w, dict)
    }
    chaos = report_dir / CHAOS_LOG
    events = chaos.read_bytes().splitlines() if chaos.exists() else []
    truth = _read_json(report_dir / TRUTH_FILE) if (report_dir / TRUTH_FILE).exists() else None
    workers_path = report_dir / WORKERS_FILE
    workers = _read_json(workers_path) if workers_path.exists() else {}
    return RunFiles(campaign, options, kinds, cost_spec, fault_windows(events),
                    fault_failures(events), truth, workers, read_witness(report_dir))  # fmt: skip


def analyze(
    report_dir: Path,
    budgets: list[BudgetSpec] | None = None,
    *,
    partial: bool | None = None,
    write: bool = True,
    reader: str = "native",
    jobs: int | None = None,
    bucket_bytes: int = BUCKET_BYTES,
) -> Verdict:
    """Judge a report directory. `budgets` None: the campaign's; `partial` None: detected from
    shard trailers, lost workers and the campaign's `partial:` flag; `reader`: the first of
    `verdict.native_reader.READERS` to try ("records" is the reference); a history of more
    than `bucket_bytes` is judged in key buckets by `jobs` processes (None: every core)."""
    report_dir = Path(report_dir)
    started, cpu = time.perf_counter(), time.process_time()
    run = read_run_files(report_dir)
    if budgets is None:
        budgets = parse_budgets(run.campaign.get("budgets"), report_dir / CAMPAIGN_FILE)
    judged = judge(report_dir, run, reader, jobs or default_jobs(), bucket_bytes)
    store = judged.findings.store
    _check_filters(budgets, store, run.campaign)
    findings = judged.findings
    regions = (run.campaign.get("target") or {}).get("regions") or store.regions.names
    duration = _duration_of(run.campaign, findings)
    # DynamoDB's cost model: meaningless for a store priced otherwise (pglogical)
    dynamodb = (run.campaign.get("target") or {}).get("kind") != "pglogical"
    findings.cost = (
        judged.cost.result(duration, list(regions), run.cost_spec)
        if duration and dynamodb
        else None
    )
    stats = judged.stats
    if partial is None:
        partial = bool(stats.unterminated or run.campaign.get("partial") or run.lost_workers)
    data = verdict_json(report_dir.name, run, budgets, findings, partial)
    data["history"] = _history_json(stats, store, judged.keys)
    data["campaign"] = {"duration": run.campaign.get("duration"), "regions": regions}
    data["analysis_s"] = round(time.perf_counter() - started, 3)
    # this process's and, judged in buckets, its workers' (docs/performance.md measures it)
    data["analysis_cpu_s"] = round(time.process_time() - cpu + stats.worker_cpu_s, 3)
    verdict = Verdict(data)
    if write:
        write_reports(report_dir, verdict)
    return verdict


@dataclass
class Judged:
    findings: Findings
    stats: ReadStats
    cost: CostAccumulator
    keys: int


def judge(report_dir: Path, run: RunFiles, reader: str, jobs: int, bucket_bytes: int) -> Judged:
    """Read and judge the history: in key buckets when it is larger than `bucket_bytes` and
    the native reader is there, else in memory (the same figures)."""
    opts = run.options
    refusals = []
    buckets = bucket_count(shard_paths(report_dir), bucket_bytes)
    # a store's witness is checked against every key's judgement at once (verdict.witness)
    if buckets > 1 and reader == "native" and available() and run.witness is None:
        truth = (run.truth or {}).get("keys") if run.truth else None

        def frame_of(store: VersionStore, t_min: float, t_max: float, t_comp: float) -> Frame:
            horizons = replication_horizons(store)
            t_comp_max = t_comp if math.isfinite(t_comp) else None
            return Frame(run.windows, opts.staleness_bound, opts.examples, truth, horizons,
                         t_min, t_max, t_comp_max)  # fmt: skip

        got = judge_in_buckets(report_dir, run.kinds, frame_of, buckets, jobs)
        if not isinstance(got, str):
            store, stats, cost, merged, frame, keys = got
            stats.buckets = buckets
            return Judged(findings_of(merged, store, frame), stats, cost, keys)
        refusals.append(got)
    store, stats, cost = read_history(report_dir, run.kinds, reader=reader)
    stats.refusals = refusals + stats.refusals
    findings = check(store, run.windows, opts.staleness_bound, run.truth, opts.examples)
    return Judged(findings, stats, cost, len(store.keys.names))


def verdict_json(
    name: str, run: RunFiles, budgets: list[BudgetSpec], findings: Findings, partial: bool
) -> dict[str, Any]:
    """verdict.json's figures (docs/verdict.md), but for `history`, `campaign` and timing."""
    rows = workload_rows(findings)
    tot = totals(rows)
    results = evaluate(budgets, findings, run.options)
    data: dict[str, Any] = {
        "name": run.campaign.get("name", name),
        "passed": all(r["passed"] for r in results) and not run.fault_failures,
        "partial": partial,
        "totals": tot,
        "workloads": rows,
        "lag": findings.lag,
        "budgets": results,
        "faults": findings.attribution.as_json(),
        "fault_failures": run.fault_failures,
        **truth_check(run.truth, tot, findings),
        **witness_check(run.witness, findings.store),
        "stale_reads": {
            "bound_s": run.options.staleness_bound,
            "regions": findings.stale.region_summary(findings.store.regions.names),
        },
        "convergence": findings.convergence,
        "cost": findings.cost,
        "workers": {"lost": run.lost_workers, "detail": run.workers},
        "examples": findings.examples,
        "timeline": findings.timeline,
    }
    data["passed"] = data["passed"] and not untrusted_truth(data)
    return data


def _history_json(stats: ReadStats, store: VersionStore, keys: int) -> dict[str, Any]:
    return {
        "shards": len(stats.shards),
        "records": stats.records,
        "skipped_lines": stats.skipped,
        "skipped_examples": stats.skipped_examples,
        "unterminated_shards": stats.unterminated,
        "duplicate_writes": store.duplicates,
        "keys": keys,
        "reader": stats.reader,
        "reader_refusals": stats.refusals,
        "buckets": stats.buckets,
    }


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
