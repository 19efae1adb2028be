"""`analyze(report_dir)`: read a report directory, judge it, write verdict.json/junit.xml/report.html."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from units import parse_duration
from verdict.buckets import BUCKET_BYTES, bucket_count, default_jobs, judge_in_buckets
from verdict.budgets import METRICS
from verdict.check import check
from verdict.cost_campaign import CostAccumulator
from verdict.figures import totals, truth_check, workload_rows
from verdict.findings import Findings, Frame, findings_of
from verdict.graph import VersionStore
from verdict.junit import junit_xml
from verdict.load import load_section
from verdict.native_reader import available, read_history
from verdict.report_dir import (
    JUNIT_FILE,
    REPORT_FILE,
    VERDICT_FILE,
    Inputs,
    check_filters,
    read_inputs,
)
from verdict.run_info import run_info
from verdict.shards import ReadStats, shard_paths
from verdict.skew import replication_horizons
from verdict.spec import BudgetSpec, VerdictOptions
from verdict.trust import untrusted
from verdict.witness import witness_check

#: the interval every rate and budget figure carries in verdict.json (`<name>_ci95`)
CI = 0.95


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
    def trusted(self) -> bool:
        return bool(self.data.get("trusted", True))

    @property
    def exit_code(self) -> int:
        """2 when the run cannot be trusted (verdict.trust: the reasons are in `untrusted`),
        whatever the budgets say; else 0 when every budget holds, 1 when one is exceeded."""
        if not self.trusted:
            return 2
        return 0 if self.passed else 1


def evaluate(budgets: list[BudgetSpec], f: Findings, opts: VerdictOptions) -> list[dict[str, Any]]:
    """Each budget's figure, its 95 % interval where the metric has one, and whether it
    holds (with `confidence`: whether the upper bound at that level is within `max`)."""
    out = []
    for b in budgets:
        metric = METRICS[b.metric]()
        observed = metric.observe(f, b)
        no_data = observed is None
        judged = observed
        result: dict[str, Any] = {"metric": b.metric, "max": b.max, "observed": observed}
        if metric.has_interval and not no_data:
            result["observed_ci95"] = metric.interval(f, b, CI)
        if b.confidence is not None and not no_data:
            bounds = metric.interval(f, b, b.confidence)
            upper = bounds[1] if bounds is not None else None
            result["upper_bound"] = upper  # None: too few samples to bound it at all
            judged = float("inf") if upper is None else upper
        passed = (not opts.fail_on_no_data) if judged is None else judged <= b.max
        out.append(
            {
                **result,
                "passed": passed,
                **b.filter_values,
                "confidence": b.confidence,
                "abort_on_fail": b.abort_on_fail,
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
    accept_partial: bool = False,
    jobs: int | None = None,
    bucket_bytes: int = BUCKET_BYTES,
) -> Verdict:
    """Judge a report directory. `budgets` None: the campaign's; `partial` None: detected from
    shard trailers, lost workers and the campaign's `partial:` flag; `accept_partial`: a
    partial history alone does not make the run untrusted; `reader`: the first of
    `verdict.native_reader.READERS` to try ("records" is the reference); a history of more
    than `bucket_bytes` is judged in key buckets by `jobs` processes (None: every core)."""
    report_dir = Path(report_dir)
    started, cpu = time.perf_counter(), time.process_time()
    inputs = read_inputs(report_dir, budgets)
    judged = judge(report_dir, inputs, reader, jobs or default_jobs(), bucket_bytes)
    findings, stats = judged.findings, judged.stats
    check_filters(inputs.budgets, findings.store, inputs.campaign)
    if partial is None:
        partial = bool(stats.unterminated or inputs.campaign.get("partial") or inputs.lost_workers)
    data = figures(report_dir.name, inputs, findings, partial)
    data["history"] = _history_json(stats, findings.store, judged.keys)
    data["run"] = run_info(report_dir)  # the report header: version, seed, command line
    data["untrusted"] = untrusted(data, accept_partial=accept_partial)
    data["trusted"] = not data["untrusted"]
    data["accept_partial"] = accept_partial
    data["passed"] = all(r["passed"] for r in data["budgets"]) and data["trusted"]
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
    keys: int


def judge(report_dir: Path, inputs: Inputs, reader: str, jobs: int, bucket_bytes: int) -> Judged:
    """Read and judge the history (in key buckets when it is larger than `bucket_bytes` and
    the native reader is there, else in memory: the same figures); the bill and the load
    attached (budgets read them)."""
    opts = inputs.options
    refusals = []
    buckets = bucket_count(shard_paths(report_dir), bucket_bytes)
    got: Any = None
    # a store's witness is checked against every key's judgement at once (verdict.witness)
    if buckets > 1 and reader == "native" and available() and inputs.witness is None:
        truth = (inputs.truth or {}).get("keys") if inputs.truth else None

        def frame_of(store: VersionStore, t_min: float, t_max: float, t_comp: float) -> Frame:
            horizons = replication_horizons(store)
            t_comp_max = t_comp if math.isfinite(t_comp) else None
            return Frame(inputs.windows, opts.staleness_bound, opts.examples, truth, horizons,
                         t_min, t_max, t_comp_max)  # fmt: skip

        got = judge_in_buckets(report_dir, inputs.kinds, frame_of, buckets, jobs)
        if isinstance(got, str):
            refusals.append(got)
    if got is not None and not isinstance(got, str):
        store, stats, cost, merged, frame, keys = got
        stats.buckets = buckets
        findings = findings_of(merged, store, frame)
    else:
        store, stats, cost = read_history(report_dir, inputs.kinds, reader=reader)
        stats.refusals = refusals + stats.refusals
        findings = check(store, inputs.windows, opts.staleness_bound, inputs.truth, opts.examples)
        keys = len(store.keys.names)
    _attach(inputs, findings, cost)
    return Judged(findings, stats, keys)


def _attach(inputs: Inputs, findings: Findings, cost: CostAccumulator) -> None:
    regions = (inputs.campaign.get("target") or {}).get("regions") or findings.store.regions.names
    duration = _duration_of(inputs.campaign, findings)
    # DynamoDB's cost model: meaningless for a store priced otherwise (pglogical)
    dynamodb = (inputs.campaign.get("target") or {}).get("kind") != "pglogical"
    findings.cost = (
        cost.result(duration, list(regions), inputs.cost) if duration and dynamodb else None
    )
    findings.load = inputs.load


def figures(name: str, inputs: Inputs, findings: Findings, partial: bool) -> dict[str, Any]:
    """verdict.json's figures (docs/verdict.md), before `history`, the trust rules, the
    gate and timing."""
    rows = workload_rows(findings)
    tot = totals(rows)
    store = findings.store
    regions = (inputs.campaign.get("target") or {}).get("regions") or store.regions.names
    duration = _duration_of(inputs.campaign, findings)
    return {
        "name": inputs.campaign.get("name", name),
        "partial": partial,
        "totals": tot,
        "workloads": rows,
        "load": load_section(inputs.load, findings, rows, inputs.key_counts, duration),
        "lag": findings.lag,
        "budgets": evaluate(inputs.budgets, findings, inputs.options),
        "faults": findings.attribution.as_json(),
        "fault_failures": inputs.fault_failures,
        **truth_check(inputs.truth, tot, findings),
        **witness_check(inputs.witness, store),
        "stale_reads": {
            "bound_s": inputs.options.staleness_bound,
            "regions": findings.stale.region_summary(store.regions.names),
        },
        "convergence": findings.convergence,
        "cost": findings.cost,
        "workers": {"lost": inputs.lost_workers, "detail": inputs.workers},
        "examples": findings.examples,
        "timeline": findings.timeline,
        "latency": store.latency.by_op_region(store.regions.names),
        "campaign": {"duration": inputs.campaign.get("duration"), "regions": regions},
    }


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
