"""The dashboard's panels as data: one `Chart` per panel, grouped in `Row`s.

Adding a panel is one `Chart(...)` line in `ROWS`; `hothot.observe.dashboards` turns them into
Grafana JSON with grafana-foundation-sdk. Expressions use the dashboard's template variables
(`$campaign`, `$region`) and Grafana's `$__rate_interval`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# label matchers shared by every loadgen / emulator expression
C = 'campaign=~"$campaign"'
#: emulator series: relayed by the run's runner they carry its campaign; an emulator started
#: by hand and scraped directly has no campaign label (the empty alternative)
EC = 'campaign=~"$campaign|"'
RG = 'region=~"$region"'
SRC = 'source=~"$region"'
RATE = "[$__rate_interval]"
WRITES = 'op=~"put|update|delete"'


def _quantile(q: float, metric: str, by: str, matchers: str) -> str:
    return f"histogram_quantile({q}, sum by (le, {by}) (rate({metric}_bucket{{{matchers}}}{RATE})))"


@dataclass(frozen=True)
class Chart:
    """One panel: a title, a unit and `(legend, PromQL)` per series."""

    title: str
    unit: str
    series: tuple[tuple[str, str], ...]
    description: str = ""
    kind: str = "timeseries"  # or "stat"
    width: int = 12


def _stat(title: str, unit: str, expr: str) -> Chart:
    """A quarter-width single-number panel for the top row."""
    return Chart(title, unit, (("", expr),), kind="stat", width=6)


@dataclass(frozen=True)
class Row:
    title: str
    charts: tuple[Chart, ...] = field(default_factory=tuple)


ROWS: tuple[Row, ...] = (
    Row(
        "At a glance (provisional until the verdict)",
        (
            _stat("Operations/s", "ops", f"sum(rate(hothot_operations_total{{{C}, {RG}}}{RATE}))"),
            _stat("Conflicts", "short", f"sum(hothot_conflicts_total{{{C}}})"),
            _stat("Lost updates (provisional)", "short", f"sum(hothot_lost_updates_total{{{C}}})"),
            _stat("Faults active", "short", f"sum(hothot_fault_active{{{C}}})"),
        ),
    ),
    Row(
        "Load",
        (
            Chart(
                "Operations/s by region",
                "ops",
                (
                    (
                        "{{region}}",
                        f"sum by (region) (rate(hothot_operations_total{{{C}, {RG}}}{RATE}))",
                    ),
                ),
            ),
            Chart(
                "Errors/s by region and outcome",
                "ops",
                (
                    (
                        "{{region}} {{outcome}}",
                        "sum by (region, outcome) (rate(hothot_operations_total"
                        f'{{{C}, {RG}, outcome!="ok"}}{RATE}))',
                    ),
                ),
                "fail: the store refused; unknown: timeout or connection error.",
            ),
            Chart(
                "Write latency p50 / p99 by region",
                "s",
                (
                    (
                        "{{region}} p50",
                        _quantile(
                            0.5,
                            "hothot_operation_duration_seconds",
                            "region",
                            f"{C}, {RG}, {WRITES}",
                        ),
                    ),
                    (
                        "{{region}} p99",
                        _quantile(
                            0.99,
                            "hothot_operation_duration_seconds",
                            "region",
                            f"{C}, {RG}, {WRITES}",
                        ),
                    ),
                ),
            ),
            Chart(
                "Emulator requests/s by region and status",
                "reqps",
                (
                    (
                        "{{region}} {{status}}",
                        "sum by (region, status) "
                        f"(rate(hothot_emulator_requests_total{{{EC}, {RG}}}{RATE}))",
                    ),
                ),
                "What the store saw (only when the target is the emulator).",
            ),
        ),
    ),
    Row(
        "Replication",
        (
            Chart(
                "Heartbeat age by link (live lag)",
                "s",
                (
                    (
                        "{{source}}->{{target}}",
                        "max by (source, target) "
                        f"(hothot_replication_heartbeat_age_seconds{{{C}, {SRC}}})",
                    ),
                ),
                "How old the newest heartbeat from the source seen in the target is, on one "
                "monotonic clock: about the lag plus the probe interval on a healthy link, "
                "rising one second per second while the link is cut.",
                width=24,
            ),
            Chart(
                "Replication lag p99 by link: probes beside emulator ground truth",
                "s",
                (
                    (
                        "{{source}}->{{target}} probe",
                        _quantile(
                            0.99, "hothot_replication_lag_seconds", "source, target", f"{C}, {SRC}"
                        ),
                    ),
                    (
                        "{{source}}->{{target}} emulator",
                        _quantile(
                            0.99,
                            "hothot_emulator_replication_apply_lag_seconds",
                            "source, target",
                            f"{EC}, {SRC}",
                        ),
                    ),
                ),
                "Black-box: write in one region, poll another (one monotonic clock). Ground "
                "truth: the emulator's apply lag (only when the target is the emulator).",
            ),
            Chart(
                "Replication lag p50 by link",
                "s",
                (
                    (
                        "{{source}}->{{target}} probe",
                        _quantile(
                            0.5, "hothot_replication_lag_seconds", "source, target", f"{C}, {SRC}"
                        ),
                    ),
                    (
                        "{{source}}->{{target}} emulator",
                        _quantile(
                            0.5,
                            "hothot_emulator_replication_apply_lag_seconds",
                            "source, target",
                            f"{EC}, {SRC}",
                        ),
                    ),
                ),
            ),
            Chart(
                "Replication backlog by link (emulator)",
                "short",
                (
                    (
                        "{{source}}->{{target}}",
                        f"sum by (source, target) (hothot_emulator_replication_backlog{{{EC}, {SRC}}})",
                    ),
                ),
                "Writes acknowledged but not yet applied on the link; grows under partitions.",
            ),
            Chart(
                "Clock offset by region (emulator)",
                "s",
                (
                    (
                        "{{region}}",
                        f"max by (region) (hothot_emulator_clock_offset_seconds{{{EC}, {RG}}})",
                    ),
                ),
            ),
        ),
    ),
    Row(
        "Conflicts and lost updates (provisional; the verdict confirms)",
        (
            Chart(
                "Conflict rate by workload",
                "percentunit",
                (
                    (
                        "{{workload}}",
                        f"sum by (workload) (hothot_conflicts_total{{{C}}}) / sum by (workload) "
                        f'(hothot_operations_total{{{C}, {WRITES}, outcome="ok"}})',
                    ),
                ),
                "Conflicts per acknowledged write since the start, as the conflict_rate budget.",
            ),
            Chart(
                "Lost-update rate by workload",
                "percentunit",
                (
                    (
                        "{{workload}}",
                        f"sum by (workload) (hothot_lost_updates_total{{{C}}}) / sum by (workload) "
                        f'(hothot_operations_total{{{C}, {WRITES}, outcome="ok"}})',
                    ),
                ),
                "A write counts once a conflicting branch superseded it everywhere it was seen.",
            ),
            Chart(
                "Conflicts/s and lost updates/s by workload",
                "ops",
                (
                    (
                        "{{workload}} conflicts",
                        f"sum by (workload) (rate(hothot_conflicts_total{{{C}}}{RATE}))",
                    ),
                    (
                        "{{workload}} lost",
                        f"sum by (workload) (rate(hothot_lost_updates_total{{{C}}}{RATE}))",
                    ),
                ),
            ),
            Chart(
                "Skew-inverted wins by workload and LWW overwrites/s",
                "short",
                (
                    (
                        "{{workload}} skew-inverted",
                        f"sum by (workload) (hothot_skew_inverted_total{{{C}}})",
                    ),
                    (
                        "{{region}} LWW overwrites/s (emulator)",
                        "sum by (region) (rate(hothot_emulator_lww_overwrites_total"
                        f"{{{EC}, {RG}}}{RATE}))",
                    ),
                ),
                "Skew-inverted: the discarded write began after the winner completed.",
            ),
        ),
    ),
    Row(
        "Budgets and faults",
        (
            Chart(
                "Budgets: observed vs limit",
                "short",
                (
                    ("{{budget}} observed", f"hothot_budget_observed{{{C}}}"),
                    ("{{budget}} limit", f"hothot_budget_limit{{{C}}}"),
                ),
            ),
            Chart(
                "Faults active",
                "short",
                (("{{fault}} {{target}}", f"hothot_fault_active{{{C}}}"),),
                "1 while the fault is applied; the same windows are shaded as annotations.",
            ),
        ),
    ),
)

#: fault windows, shaded on every panel: one region per series while it is 1
FAULT_ANNOTATION_EXPR = f"hothot_fault_active{{{C}}} == 1"
