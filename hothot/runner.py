"""`hothot run`: the campaign end to end, in the order DESIGN §2-§7 gives, written once
(`CampaignRun.phases`) for every way the load runs.

target up → table ready → metrics, history shards, chaos timeline → the load engine for the
campaign's duration → load stopped → every fault healed → quiesce → final reads → truth →
verdict. Whatever happens in between (Ctrl-C, SIGTERM, a crash), the `finally` path heals the
faults and flushes the history before anything else; `faults.state` covers SIGKILL.

Every record passes through one `loadgen.hub.RecordHub`: the shards and the live metrics
subscribe here, the engine's progress counts and written keys subscribe in the engine.
"""

from __future__ import annotations

import atexit
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from rich.console import Console
from rich.markup import escape

import chaos
from chaos.injectors import build as build_injectors
from chaos.timeline import Timeline
from globaltable.control import ControlError
from hothot.campaign import Campaign, load_plan, new_report_dir, resolved_yaml
from hothot.interruption import Interruption
from hothot.report_files import drop_verdict, unwritable, write_report_file
from hothot.target import (
    Target,
    TargetError,
    check_control_regions,
    check_existing,
    open_target,
    prepare_table,
    wait_reachable,
)
from hothot.watch import LoadWatch
from loadgen.conditions import ClientConditions
from loadgen.engine import EngineError, LoadEngine
from loadgen.existing import run_keys
from loadgen.hub import RecordHub
from loadgen.metrics import LiveBudget, LiveMetrics, budget_label
from loadgen.plan import LoadPlan
from loadgen.probes import heartbeat_key
from loadgen.recorder import ShardSet, ShardWriter
from loadgen.table import TableUnusable
from loadgen.workloads import build_workloads
from units import plural
from verdict.analyze import analyze
from verdict.budgets import FILTERS
from verdict.errors import HistoryError
from verdict.history import TRUTH_FILE
from verdict.report_dir import CAMPAIGN_FILE
from verdict.summary import print_summary

if TYPE_CHECKING:
    from loadgen.users import WorkloadExceptions

EXIT_OK, EXIT_BUDGET, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 130
QUIESCE_TIMEOUT_S = 60.0


class CampaignRun:
    """One run of a campaign, its load in this process (`DistributedRun` swaps the engine)."""

    #: the shard this process's own records go to (users here, probes, final reads)
    own_shard = "w0"

    def __init__(
        self,
        campaign: Campaign,
        *,
        report_dir: str | Path | None = None,
        console: Console | None = None,
        accept_partial: bool = False,
    ) -> None:
        # a copy whose key prefix is this run's own (`auto` drawn now), so the resolved
        # campaign.yaml and distributed workers carry the prefix the run really used
        self.campaign = campaign.model_copy(deep=True)
        self.campaign.target.key_prefix = campaign.target.run_key_prefix()
        self.accept_partial = accept_partial
        if console is None:
            console = Console(stderr=True)
            # a log, not a screen: keep each line whole (the report path, the cost line)
            console.soft_wrap = not console.is_terminal
        self.console = console
        #: the verdict's summary: stdout, so `hothot run … > out.txt` keeps it (progress and
        #: notes stay on stderr)
        self.out = Console()
        self.out.soft_wrap = not self.out.is_terminal
        self.report_dir = new_report_dir(campaign, report_dir)
        self.schedule = chaos.expand(
            campaign.chaos, campaign.seed, list(campaign.target.regions), campaign.duration
        )
        self.interruption = Interruption()
        self.target: Target | None = None
        self.timeline: Timeline | None = None
        self.metrics = LiveMetrics(campaign.name)
        self.conditions = ClientConditions()
        self.hub = RecordHub()
        self.shards: ShardSet | None = None
        self.engine: LoadEngine | None = None
        self.notes: list[str] = []
        #: the workloads that recorded an operation, per the verdict
        self.judged_workloads: set[str] = set()

    # -- phases ------------------------------------------------------------------------
    def write_resolved_campaign(self) -> None:
        # random chaos is written out as the explicit schedule it drew, so the run replays
        text = resolved_yaml(self.campaign, chaos=chaos.to_campaign(self.schedule))
        write_report_file(self.report_dir / CAMPAIGN_FILE, text.encode())

    def begin(self) -> Target | None:
        """The resolved campaign written, the target up and its table ready; None, after
        saying why, when the target is unusable (exit 2)."""
        self.write_resolved_campaign()
        try:
            return self.start_target()
        except (TargetError, TableUnusable) as exc:
            self.console.print(f"[red]target unusable:[/red] {exc}")
            return None

    def start_target(self) -> Target:
        spec = self.campaign.target
        self.target = open_target(
            spec, seed=self.campaign.seed, say=self.say, report_dir=self.report_dir
        )
        wait_reachable(self.target)
        check_control_regions(self.target, list(spec.regions))
        state = prepare_table(spec, self.target, say=self.say)
        if state == "emptied":
            self.note(
                f"table {spec.table!r} on the emulator held an earlier run's "
                "items: recreated it empty, so ground truth counts this run only"
            )
        elif self.target.kind not in ("emulator", "pglogical"):  # a table outliving runs
            prefix = spec.key_prefix or ""
            workloads = build_workloads(self.campaign.workloads, spec.regions, prefix)
            heartbeats = [heartbeat_key(r, prefix) for r in spec.regions]
            keys = run_keys(workloads.values(), heartbeats)
            check_existing(spec, self.target, keys, prefix, self.say)
        return self.target

    def say(self, text: str) -> None:
        """A line about the target (what was created, what is there), dim: not a warning."""
        self.console.print(f"[dim]{escape(text)}[/dim]")

    def subscribe(self) -> None:
        """The history shards, and the live metrics when an endpoint serves them (the
        provisional conflict tracker is the master's largest per-record cost)."""
        self.shards = ShardSet(self.report_dir, self.own_shard).subscribe(self.hub)
        if self.campaign.observe.metrics_port is not None:
            self.hub.every_record(self.metrics.observe)

    def start_metrics(self) -> None:
        # limits from the start, so alert rules comparing live figures with them work mid-run
        self.metrics.limits(
            LiveBudget(b.metric, float(b.max), {f: getattr(b, f, None) for f in FILTERS})
            for b in self.campaign.budgets
        )
        port = self.campaign.observe.metrics_port
        if port is None:
            return
        if self.target is not None and self.target.metrics is not None:
            # the emulator child listens on free ports: its series reach Prometheus through
            # the runner's endpoint, the one the shipped configs scrape
            from hothot.observe.relay import EmulatorRelay

            relay = EmulatorRelay(self.target.metrics, self.campaign.name)
            self.metrics.registry.register(relay)  # type: ignore[arg-type]
        try:
            bound = self.metrics.serve(port)
        except OSError as exc:
            self.note(f"metrics port {port} is unavailable ({exc.strerror}); metrics not served")
            return
        self.console.print(f"[dim]metrics: http://127.0.0.1:{bound}/metrics[/dim]")

    def build_timeline(self) -> Timeline:
        assert self.target is not None
        injectors = build_injectors(
            self.campaign.target.kind,
            list(self.campaign.target.regions),
            control_url=self.target.control,
            control_token=self.target.control_token,
            mesh=self.target.mesh.control if self.target.mesh is not None else None,
            conditions=self.conditions,
            aws=self.campaign.chaos.aws,
            table=self.campaign.target.table,
        )
        self.timeline = Timeline(
            self.schedule, injectors, self.report_dir, on_change=self._fault_changed()
        )
        return self.timeline

    def _fault_changed(self) -> Callable[[str, str, bool], None]:
        hooks: list[Callable[[str, str, bool], None]] = [self.metrics.fault]
        url = self.campaign.observe.grafana_url
        if url:
            from hothot.observe.grafana import GrafanaAnnotations

            hooks.append(
                GrafanaAnnotations(
                    url, os.environ.get("HOTHOT_GRAFANA_TOKEN"), campaign=self.campaign.name
                ).fault
            )

        def on_change(fault: str, target: str, active: bool) -> None:
            for hook in hooks:
                try:
                    hook(fault, target, active)
                except Exception as exc:  # observability must never stop a heal
                    self.note(f"fault hook failed: {exc}")

        return on_change

    def settle(self) -> None:
        """Let replication drain before the final reads (DESIGN §5 'quiesced')."""
        assert self.target is not None
        if self.interruption.hurried:
            return
        if self.target.mesh is not None:  # marker rows seen in every region
            answer = self.target.mesh.quiesce(self.campaign.target.table, QUIESCE_TIMEOUT_S)
            if not answer.get("converged", False):
                self.note(
                    f"the mesh did not quiesce within {QUIESCE_TIMEOUT_S:g}s: "
                    f"{answer.get('error') or answer.get('missing')}"
                )
            return
        if self.target.control is not None:
            try:
                answer = self.target.control_client().quiesce(QUIESCE_TIMEOUT_S)
            except (ControlError, OSError) as exc:
                self.note(f"quiesce failed: {exc}")
                return
            if not answer.get("converged", False):
                self.note(f"replication did not drain within {QUIESCE_TIMEOUT_S:g}s")
            return
        deadline = time.monotonic() + self.campaign.target.settle
        while time.monotonic() < deadline and not self.interruption.hurried:
            time.sleep(0.2)

    def fetch_truth(self) -> None:
        """The target's own account of the run: the emulator's ground truth, or the conflict
        logs of the pglogical clusters hothot started (kept as they stop)."""
        assert self.target is not None
        if self.target.mesh is not None:
            self.target.mesh.close(self.report_dir)
        if self.target.control is None:
            return
        try:
            truth = self.target.control_client().truth(self.campaign.target.table)
        except (ControlError, OSError) as exc:
            self.note(f"could not fetch the emulator's ground truth: {exc}")
            return
        write_report_file(self.report_dir / TRUTH_FILE, orjson.dumps(truth))

    def judge(self, partial: bool) -> int:
        try:
            verdict = analyze(
                self.report_dir, partial=partial or None, accept_partial=self.accept_partial
            )
        except HistoryError as exc:
            self.console.print(f"[red]verdict: {exc}[/red]")
            return EXIT_INVALID
        except OSError as exc:  # verdict.json, junit.xml, report.html
            drop_verdict(self.report_dir, exc)
            raise unwritable(self.report_dir, exc) from None
        self.judged_workloads = set(verdict.data.get("workloads", {}))
        self.metrics.budgets(
            (_budget_name(b), float(b["observed"]), float(b["max"]))
            for b in verdict.data.get("budgets", [])
            if b.get("observed") is not None
        )
        print_summary(verdict, self.report_dir, console=self.out)
        if not self.interruption.asked:
            self.metrics.last_scrape()
        gateway = self.campaign.observe.pushgateway
        if gateway:
            from hothot.observe.pushgateway import push_verdict

            try:
                push_verdict(gateway, "hothot", verdict.data, campaign=self.campaign.name)
            except Exception as exc:
                self.note(f"pushgateway {gateway}: {exc}")
        return verdict.exit_code

    def report_raised(self, raised: WorkloadExceptions, code: int) -> int:
        """A line per workload whose own code raised; exit 2 when one never recorded anything
        (its PASSED would judge an empty history)."""
        for line in raised.lines():
            self.console.print(f"[yellow]{escape(line)}[/yellow]")
        never = raised.never_ran(self.judged_workloads)
        for line in never:
            self.console.print(f"[red]{escape(line)}[/red]")
        return EXIT_INVALID if never else code

    def shard_writers(self) -> list[ShardWriter]:
        return list(self.shards.shards.values()) if self.shards is not None else []

    def unwritable(self) -> str | None:
        """Why the report directory stopped taking the history or the chaos files (full,
        read-only): the run then ends early, and with exit 2 (`check_written`)."""
        refused = [s.error for s in self.shard_writers() if s.error is not None]
        if self.timeline is not None and self.timeline.write_error is not None:
            refused.append(self.timeline.write_error)
        return f"the report directory refused a write: {refused[0]}" if refused else None

    def check_written(self) -> None:
        """Raise ReportUnwritable once the history or the chaos files lost a write."""
        refused = self.unwritable()
        if refused is not None:
            raise unwritable(self.report_dir, refused.split(": ", 1)[1])

    def note(self, text: str) -> None:
        self.notes.append(text)
        self.console.print(f"[yellow]note:[/yellow] {text}")

    def close(self) -> None:
        """Load stopped, faults healed, shards flushed: safe at any point, and again."""
        if self.engine is not None:
            self.engine.close()
        if self.timeline is not None:
            self.timeline.stop()
        if self.shards is not None:
            self.shards.close()
        self.metrics.close()
        if self.target is not None:
            self.target.close()

    # -- the whole run ---------------------------------------------------------------------
    def preflight(self) -> str:
        """Why the run cannot start before touching anything ("" when it can)."""
        return ""

    def make_engine(self, plan: LoadPlan, target: Target) -> LoadEngine:
        from loadgen.session import LoadSession  # imports Locust (gevent patching)

        return LoadSession(plan, self.hub, self.conditions)

    def execute(self) -> int:
        """Run the campaign; returns the exit code of DESIGN §7."""
        problem = self.preflight()
        if problem:
            self.console.print(f"[red]{escape(problem)}[/red]")
            return EXIT_INVALID
        self.interruption.install()
        atexit.register(self.close)  # a crash past the finally below still heals
        try:
            return self.phases()
        finally:
            self.close()
            atexit.unregister(self.close)
            self.interruption.uninstall()

    def phases(self) -> int:
        """The phase order, the one place it is written."""
        from loadgen.session import read_final

        target = self.begin()
        if target is None:
            return EXIT_INVALID
        plan = load_plan(self.campaign, target, worker=self.own_shard)
        self.subscribe()
        self.start_metrics()
        engine = self.engine = self.make_engine(plan, target)
        try:
            engine.prepare(lambda: self.interruption.asked)
        except EngineError as exc:
            self.console.print(f"[red]{escape(str(exc))}[/red]")
            return EXIT_INTERRUPTED if self.interruption.asked else EXIT_INVALID
        from hothot.abort import live_budgets  # imports Locust, as the engines do

        live = live_budgets(
            self.campaign.budgets, plan, engine, self.hub, self.metrics.anomaly_cells,
            served=self.campaign.observe.metrics_port is not None,
        )  # fmt: skip
        self.metrics.provisional(live.provisional)  # the gauge reads what abort_on_fail reads
        watch = LoadWatch(self.campaign, engine, self.console, self.interruption,
                          self.report_dir, live, unwritable=self.unwritable)  # fmt: skip
        timeline = self.build_timeline()
        self.console.print(
            f"[bold]{self.campaign.name}[/bold]: {engine.describe()} against {target.kind} "
            f"({', '.join(plan.regions)}) for {self.campaign.duration:g}s, "
            f"{plural(len(self.schedule), 'fault')} → {self.report_dir}"
        )
        t0 = time.time()
        timeline.start(t0)
        engine.start()
        watch.run(t0, timeline)
        stopped = time.time()  # the load's end: what came due until now was requested
        if watch.stopped_early:
            self.notes.append(watch.stopped_early)
        engine.stop()
        self.metrics.load_ended()
        watch.save(stopped - t0, complete=True)
        timeline.stop()
        self.settle()
        if not self.interruption.hurried:
            keys = engine.written_keys()
            read_final(plan, keys, self.hub.sink, workloads=engine.workloads, ids=engine.ids)
        assert self.shards is not None
        self.shards.close()
        self.check_written()
        engine.save(self.report_dir)
        self.fetch_truth()
        lost = engine.lost_workers()
        code = self.judge(partial=self.interruption.asked or bool(lost))
        code = self.report_raised(engine.raised(), code)
        return EXIT_INTERRUPTED if self.interruption.asked else code


def _budget_name(budget: dict[str, Any]) -> str:
    """The `budget` label: metric plus filters, as the alert rules and the verdict spell it."""
    return budget_label(budget["metric"], {f: budget.get(f) for f in FILTERS})
