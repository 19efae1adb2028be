"""The load phase of a run, watched: progress on the terminal, load.json kept current, and the
reasons to end the load before its time (every worker lost, every call failing, an
`abort_on_fail` budget that can no longer hold, an interruption)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
from rich.console import Console
from rich.markup import escape

from chaos.timeline import Timeline
from hothot.campaign import Campaign
from hothot.earlystop import AllFailing
from hothot.interruption import Interruption
from hothot.progress import RunProgress, snapshot
from hothot.report_files import unwritable as refused_write
from loadgen.engine import LoadEngine
from loadgen.tally import load_document
from verdict.report_dir import LOAD_FILE

if TYPE_CHECKING:
    from verdict.live import LiveFigures


@dataclass
class LoadWatch:
    campaign: Campaign
    engine: LoadEngine
    console: Console
    interruption: Interruption
    report_dir: Path
    #: the abort_on_fail budgets (None: none asked for)
    live: LiveFigures | None = None
    #: why an abort_on_fail budget stopped the load
    aborted: str | None = None
    #: why the load ended early, whatever the cause
    stopped_early: str | None = None
    #: why the report directory stopped taking writes (CampaignRun.unwritable), or None
    unwritable: Callable[[], str | None] | None = None

    def save(self, elapsed: float, *, complete: bool) -> None:
        """load.json: what the load requested and delivered in its `elapsed` seconds
        (docs/verdict.md, "Load"). Written each second of the load too, so a killed run
        keeps its figures."""
        document = load_document(
            self.campaign.writers,
            self.campaign.duration,
            elapsed,
            self.engine.load_figures(),
            complete=complete,
        )
        document["aborted"] = self.aborted
        path = self.report_dir / LOAD_FILE
        partial = path.with_suffix(".tmp")
        try:
            partial.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
            partial.replace(path)
        except OSError as exc:  # a full or read-only disk: the shards say so too
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            if complete:
                raise refused_write(self.report_dir, exc) from None

    def _broken_budget(self) -> str | None:
        """An abort_on_fail budget that can no longer hold: the load stops (then heal, final
        reads, verdict: the budget fails there too, exit 1)."""
        self.aborted = self.live.broken() if self.live is not None else None
        return self.aborted

    def run(self, t0: float, timeline: Timeline) -> None:
        """Until the campaign's duration has passed, an interruption, or a reason (printed)
        to end the load now."""
        duration, saved, engine = self.campaign.duration, t0, self.engine
        all_failing = AllFailing(self.campaign.writers.abort_when_all_fail)
        with RunProgress(self.campaign.name, self.console) as progress:
            while not self.interruption.asked:
                elapsed = time.time() - t0
                dropped = {
                    r: sum(c[2] for c in f["workloads"].values())
                    for r, f in engine.load_figures()["regions"].items()
                }
                live = engine.live()
                progress.update(
                    snapshot(min(elapsed, duration), duration, live, timeline.active(), dropped)
                )
                if elapsed >= duration:
                    break
                reason = (
                    engine.exhausted()
                    or self._broken_budget()
                    or all_failing.check(live)
                    or (self.unwritable() if self.unwritable is not None else None)
                )
                if reason:
                    self.stopped_early = reason
                    self.console.print(f"[red]{escape(reason)}[/red]")
                    break
                if time.time() - saved >= 1.0:
                    self.save(time.time() - t0, complete=False)
                    saved = time.time()
                time.sleep(min(0.25, max(0.0, duration - elapsed)))
        if self.interruption.asked:
            self.console.print(
                f"[yellow]interrupted ({', '.join(self.interruption.signals)}): stopping the "
                "load, healing faults, flushing the history[/yellow]"
            )
