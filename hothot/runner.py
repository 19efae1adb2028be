"""`hothot run`: the campaign end to end, in the order DESIGN §2-§7 gives.

target up → table ready → metrics, history shard, chaos timeline → Locust users for the
campaign's duration → users stopped → every fault healed → quiesce → final reads → truth →
verdict. Whatever happens in between (Ctrl-C, SIGTERM, a crash), the `finally` path heals the
faults and flushes the history before anything else; `faults.state` covers SIGKILL.
"""

from __future__ import annotations

import atexit
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from rich.console import Console
from rich.markup import escape

import chaos
from chaos.injectors import build as build_injectors
from chaos.timeline import Timeline
from globaltable.control import ControlError
from hothot.campaign import Campaign, resolved_yaml
from hothot.earlystop import AllFailing
from hothot.interruption import Interruption
from hothot.progress import RegionCounts, RunProgress, Snapshot
from hothot.report_files import drop_verdict, unwritable, write_report_file
from hothot.target import (
    AUTO,
    Target,
    TargetError,
    check_control_regions,
    check_existing,
    open_target,
    prepare_table,
    wait_reachable,
)
from loadgen.conditions import ClientConditions
from loadgen.existing import run_keys
from loadgen.metrics import LiveBudget, LiveMetrics, budget_label
from loadgen.plan import LoadPlan
from loadgen.probes import heartbeat_key
from loadgen.recorder import ShardWriter
from loadgen.table import TableUnusable
from loadgen.workloads import build_workloads
from verdict.analyze import analyze
from verdict.errors import HistoryError
from verdict.history import TRUTH_FILE
from verdict.summary import print_summary

if TYPE_CHECKING:
    from loadgen.users import WorkloadExceptions

EXIT_OK, EXIT_BUDGET, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 130
QUIESCE_TIMEOUT_S = 60.0


def new_report_dir(campaign: Campaign, explicit: str | Path | None) -> Path:
    if explicit is not None:
        path = Path(explicit)
    else:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        path = Path(campaign.report.dir) / f"{campaign.name}-{stamp}"
        n = 1
        while path.exists():
            n += 1
            path = Path(campaign.report.dir) / f"{campaign.name}-{stamp}-{n}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_plan(campaign: Campaign, target: Target, worker: str = "w0") -> LoadPlan:
    """The load of a campaign whose key prefix was resolved (`CampaignRun` does it)."""
    prefix = campaign.target.key_prefix or ""
    if prefix == AUTO:
        raise ValueError("target.key_prefix 'auto' must be resolved to the run's prefix first")
    return LoadPlan(
        regions=list(campaign.target.regions),
        endpoints=dict(target.endpoints),
        table=campaign.target.table,
        seed=campaign.seed,
        writers=campaign.writers,
        workloads=list(campaign.workloads),
        observe=campaign.observe,
        worker=worker,
        store_kind="pglogical" if campaign.target.kind == "pglogical" else "dynamodb",
        key_prefix=prefix,
    )


class CampaignRun:
    """One run of a campaign in this process (the distributed master reuses the phases)."""

    def __init__(
        self,
        campaign: Campaign,
        *,
        report_dir: str | Path | None = None,
        console: Console | None = None,
    ) -> None:
        # a copy whose key prefix is this run's own (`auto` drawn now), so the resolved
        # campaign.yaml and distributed workers carry the prefix the run really used
        self.campaign = campaign.model_copy(deep=True)
        self.campaign.target.key_prefix = campaign.target.run_key_prefix()
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
        self.shard: ShardWriter | None = None
        self.notes: list[str] = []
        #: the workloads that recorded an operation, per the verdict
        self.judged_workloads: set[str] = set()

    # -- phases ------------------------------------------------------------------------
    def write_resolved_campaign(self) -> None:
        # random chaos is written out as the explicit schedule it drew, so the run replays
        text = resolved_yaml(self.campaign, chaos=chaos.to_campaign(self.schedule))
        write_report_file(self.report_dir / "campaign.yaml", text.encode())

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

    def live_observer(self) -> Callable[[dict[str, Any]], None]:
        """What feeds the live metrics each record: nothing when no endpoint serves them (the
        provisional conflict tracker is the master's largest per-record cost)."""
        if self.campaign.observe.metrics_port is None:
            return _ignore
        return self.metrics.observe

    def start_metrics(self) -> None:
        # limits from the start, so alert rules comparing live figures with them work mid-run
        self.metrics.limits(
            LiveBudget(b.metric, float(b.max), {f: getattr(b, f, None) for f in BUDGET_FILTERS})
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
            verdict = analyze(self.report_dir, partial=partial or None)
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
        return [self.shard] if self.shard is not None else []

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
        if self.timeline is not None:
            self.timeline.stop()
        if self.shard is not None:
            self.shard.close()
        self.metrics.close()
        if self.target is not None:
            self.target.close()

    # -- the whole run ---------------------------------------------------------------------
    def execute(self) -> int:
        """Run the campaign in this process; returns the exit code of DESIGN §7."""
        from loadgen.session import LoadSession, read_final  # imports Locust (gevent patching)

        self.interruption.install()
        session: LoadSession | None = None
        stopped = False
        atexit.register(self.close)  # a crash past the finally below still heals
        try:
            target = self.begin()
            if target is None:
                return EXIT_INVALID
            plan = load_plan(self.campaign, target)
            self.shard = ShardWriter(self.report_dir, plan.worker)
            shard, observe = self.shard, self.live_observer()

            def sink(record: dict[str, Any]) -> None:
                shard.append(record)
                observe(record)

            self.start_metrics()
            timeline = self.build_timeline()
            session = LoadSession(plan, sink, self.conditions)
            self.console.print(
                f"[bold]{self.campaign.name}[/bold]: {session.user_count} users on "
                f"{target.kind} ({', '.join(plan.regions)}) for {self.campaign.duration:g}s, "
                f"{len(self.schedule)} faults → {self.report_dir}"
            )
            t0 = time.time()
            timeline.start(t0)
            session.start()
            self._watch(t0, session.live, timeline, self.unwritable)
            session.stop()
            stopped = True
            self.metrics.load_ended()
            timeline.stop()
            self.settle()
            if not self.interruption.hurried:
                read_final(
                    plan, session.touched_keys(), sink, workloads=session.workloads, ids=session.ids
                )
            shard.close()
            self.check_written()
            self.fetch_truth()
            code = self.report_raised(session.raised, self.judge(self.interruption.asked))
            return EXIT_INTERRUPTED if self.interruption.asked else code
        finally:
            if session is not None and not stopped:
                session.stop()
            self.close()
            atexit.unregister(self.close)
            self.interruption.uninstall()

    def _watch(
        self,
        t0: float,
        live: Callable[[], dict[str, Any]],
        timeline: Timeline,
        stop_early: Callable[[], str | None] = lambda: None,
    ) -> None:
        """Show progress until the campaign's duration has passed, an interruption, or
        `stop_early` gives a reason (printed) to end the load now."""
        duration = self.campaign.duration
        all_failing = AllFailing(self.campaign.writers.abort_when_all_fail)
        with RunProgress(self.campaign.name, self.console) as progress:
            while not self.interruption.asked:
                elapsed = time.time() - t0
                stats = live()
                progress.update(
                    Snapshot(
                        elapsed=min(elapsed, duration),
                        duration=duration,
                        regions={
                            r: RegionCounts(s.ops, s.errors, s.ops_per_s, s.errors_per_s)
                            for r, s in sorted(stats.items())
                        },
                        faults=timeline.active(),
                    )
                )
                if elapsed >= duration:
                    break
                reason = all_failing.check(stats) or stop_early()
                if reason:
                    self.notes.append(reason)
                    self.console.print(f"[red]{escape(reason)}[/red]")
                    break
                time.sleep(min(0.25, max(0.0, duration - elapsed)))
        if self.interruption.asked:
            self.console.print(
                f"[yellow]interrupted ({', '.join(self.interruption.signals)}): stopping users,"
                " healing faults, flushing the history[/yellow]"
            )


def _ignore(_record: dict[str, Any]) -> None:
    pass


#: the budget filters its `budget` label names, in this order
BUDGET_FILTERS = ("workload", "region", "link")


def _budget_name(budget: dict[str, Any]) -> str:
    """The `budget` label: metric plus filters, as the alert rules and the verdict spell it."""
    return budget_label(budget["metric"], {f: budget.get(f) for f in BUDGET_FILTERS})
