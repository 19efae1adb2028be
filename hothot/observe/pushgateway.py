"""Push the final verdict figures to a Prometheus Pushgateway (short CI runs end before a
scrape would catch the live metrics)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

from loadgen.metrics import budget_label
from verdict.budgets import FILTERS as BUDGET_FILTERS


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    raise ValueError(f"verdict {where}: expected a number, got {value!r}")


def _section(verdict: dict[str, Any], name: str, kind: type) -> Any:
    value = verdict.get(name, kind())
    if not isinstance(value, kind):
        raise ValueError(f"verdict {name}: expected a {kind.__name__}, got {type(value).__name__}")
    return value


def verdict_registry(verdict: dict[str, Any], campaign: str = "") -> CollectorRegistry:
    """The verdict's figures as gauges on a fresh registry (DESIGN §7 field names)."""
    if not isinstance(verdict, dict) or not isinstance(verdict.get("passed"), bool):
        raise ValueError("verdict: expected a dict with a boolean 'passed' (verdict.json)")
    r = CollectorRegistry()
    labels = ["campaign"]
    Gauge("hothot_verdict_passed", "1 when every budget held.", labels, registry=r).labels(
        campaign
    ).set(verdict["passed"])
    Gauge("hothot_verdict_partial", "1 when the run ended early.", labels, registry=r).labels(
        campaign
    ).set(bool(verdict.get("partial", False)))
    totals = Gauge(
        "hothot_verdict_total", "Run-wide verdict counts.", [*labels, "figure"], registry=r
    )
    for figure, value in _section(verdict, "totals", dict).items():
        totals.labels(campaign, figure).set(_number(value, f"totals.{figure}"))
    per_workload = Gauge(
        "hothot_verdict_workload",
        "Per-workload verdict counts and rates.",
        [*labels, "workload", "figure"],
        registry=r,
    )
    for workload, figures in _section(verdict, "workloads", dict).items():
        for figure, value in figures.items():
            where = f"workloads.{workload}.{figure}"
            per_workload.labels(campaign, workload, figure).set(_number(value, where))
    lag = Gauge(
        "hothot_verdict_lag_seconds",
        "Replication lag statistics per link.",
        [*labels, "source", "target", "stat"],
        registry=r,
    )
    for link, stats in _section(verdict, "lag", dict).items():
        source, arrow, target = link.partition("->")
        if not arrow:
            raise ValueError(f"verdict lag: link {link!r} is not spelt 'source->target'")
        for stat, value in stats.items():
            lag.labels(campaign, source, target, stat).set(_number(value, f"lag.{link}.{stat}"))
    observed = Gauge("hothot_verdict_budget_observed", "", [*labels, "budget"], registry=r)
    limit = Gauge("hothot_verdict_budget_limit", "", [*labels, "budget"], registry=r)
    passed = Gauge("hothot_verdict_budget_passed", "", [*labels, "budget"], registry=r)
    for n, budget in enumerate(_section(verdict, "budgets", list)):
        if not isinstance(budget, dict) or "metric" not in budget:
            raise ValueError(f"verdict budgets[{n}]: expected a dict with 'metric'")
        name = budget_label(budget["metric"], {f: budget.get(f) for f in BUDGET_FILTERS})
        if budget.get("observed") is not None:  # None: no data for this budget
            observed.labels(campaign, name).set(_number(budget["observed"], f"budgets[{n}]"))
        limit.labels(campaign, name).set(_number(budget.get("max"), f"budgets[{n}].max"))
        passed.labels(campaign, name).set(bool(budget.get("passed")))
    return r


def push_verdict(
    url: str, job: str, verdict: dict[str, Any], *, campaign: str = "", timeout: float = 10.0
) -> None:
    """Push the verdict figures under `job` (grouped by campaign when one is given)."""
    registry = verdict_registry(verdict, campaign)
    grouping = {"campaign": campaign} if campaign else {}
    push_to_gateway(url, job=job, registry=registry, grouping_key=grouping, timeout=timeout)
