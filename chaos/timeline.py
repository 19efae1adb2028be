"""The timeline: applies each scheduled fault at its time and heals it when its window ends.

Each fault has a thread of its own (plain threads and `Event.wait`: under Locust the process
is gevent-monkey-patched and a thread becomes a greenlet), so a slow apply or heal (an FIS
experiment takes seconds to tens of seconds to start or stop) never delays another fault's
start or heal. The one ordering kept: a fault waits for the heal of an earlier fault that
holds the same slot (one region's clock, one link) and ends by its start. Each event records
when it was asked for (`requested`) beside when it happened (`t`). Every apply and heal is logged
to `chaos.jsonl` and mirrored in `faults.state` (what is applied right now, with the handles
to undo it), so `hothot heal` can clean up after a run killed with SIGKILL. A fault whose apply
has not returned yet is there too, marked `applying`, with what its injector knew up front.

Healing guarantees: window end (the timeline's thread), run end and crashes (`stop()` from
the runner's `finally` or the context manager), Ctrl-C and SIGTERM (`install_signal_healing`),
interpreter exit (atexit). `stop()` is idempotent and re-entrant; it interrupts an apply in
progress (an FIS experiment starting) and heals what that apply left.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from chaos.injectors.base import ApplyInterrupted, FaultGone, Handle, Injector
from chaos.schedule import ScheduledFault
from chaos.signals import install_signal_healing
from chaos.state import STATE_FILE, StateFileError, write_state
from verdict.history import CHAOS_LOG, FaultEvent

log = logging.getLogger("hothot.chaos")

#: on_change(fault name, target label, active)
OnChange = Callable[[str, str, bool], None]


@dataclass
class AppliedFault:
    scheduled: ScheduledFault
    started: float
    parts: list[tuple[Injector, Handle]] = field(default_factory=list)
    #: the injector whose apply has not returned, with its `pending` handle
    pending: tuple[Injector, Handle] | None = None
    #: when the schedule wanted it applied (None: not from the schedule)
    requested: float | None = None

    def state_entry(self, regions: list[str]) -> dict[str, Any]:
        fault = self.scheduled.fault
        applied = [{"injector": inj.name, "handle": handle} for inj, handle in self.parts]
        entry: dict[str, Any] = {
            "id": self.scheduled.id,
            "fault": fault.name,
            "target": fault.target_label(),
            "spec": fault.campaign_form(),
            "regions": regions,
            "t": self.started,
            "applied": applied,
        }
        if self.pending is not None:
            injector, handle = self.pending
            applied.append({"injector": injector.name, "handle": handle, "applying": True})
            entry["applying"] = True
        return entry


class Timeline:
    #: how long stop() lets an interrupted apply in another thread wind down before healing
    #: what it left itself
    interrupt_wait_s = 30.0

    def __init__(
        self,
        schedule: Iterable[ScheduledFault],
        injectors: Iterable[Injector],
        report_dir: str | os.PathLike[str],
        on_change: OnChange | None = None,
    ) -> None:
        self.schedule = sorted(schedule, key=lambda s: s.start)
        self.injectors = list(injectors)
        self.report_dir = Path(report_dir)
        self.on_change = on_change
        self.errors: list[str] = []
        #: the first failure to write chaos.jsonl or faults.state (a full or read-only disk):
        #: no fault is applied after it, and the runner ends the run
        self.write_error: str | None = None
        self._acting = {
            s.id: [i for i in self.injectors if i.acts_on(s.fault)] for s in self.schedule
        }
        missing = [s for s in self.schedule if not self._acting[s.id]]
        if missing:
            names = ", ".join(f"{s.id} ({s.fault.name})" for s in missing)
            have = ", ".join(i.name for i in self.injectors) or "none"
            raise ValueError(f"no injector can apply {names}; injectors given: {have}")
        self._regions = self.injectors[0].regions if self.injectors else []
        self._lock = threading.RLock()
        self._apply_ended = threading.Condition(self._lock)
        self._in_flight: dict[str, threading.Thread] = {}  # fault id -> thread applying it
        self._applied: dict[str, AppliedFault] = {}
        self._healing: dict[str, AppliedFault] = {}  # heals under way (injectors called)
        self._unhealed: list[dict[str, Any]] = []
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        #: fault id -> set once its thread is done (healed, or never to be applied)
        self._done = {s.id: threading.Event() for s in self.schedule}
        self.t0: float | None = None

    # -- lifecycle --------------------------------------------------------------------
    def start(self, t0: float | None = None) -> None:
        """Run the schedule with offsets counted from `t0` (wall clock; default now)."""
        if self.t0 is not None:
            raise RuntimeError("timeline already started")
        self.t0 = time.time() if t0 is None else t0
        self.report_dir.mkdir(parents=True, exist_ok=True)
        (self.report_dir / CHAOS_LOG).touch()
        self._write_state()
        for scheduled in self.schedule:
            thread = threading.Thread(
                target=self._drive,
                args=(scheduled, self._predecessors(scheduled)),
                name=f"hothot-chaos-{scheduled.id}",
                daemon=True,
            )
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        """Cancel what has not started and heal everything applied. Safe to call twice, from
        a signal handler, from atexit."""
        self._stopped.set()
        for injector in self.injectors:
            injector.interrupt()
        me = threading.current_thread()
        with self._lock:
            # an apply in another thread sees the interruption and heals what it left; one
            # that hangs, or runs in this very thread (a signal), is healed below
            deadline = time.monotonic() + self.interrupt_wait_s
            while any(t is not me for t in self._in_flight.values()):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._apply_ended.wait(left)
            applied = list(self._applied)
        for fault_id in applied:
            self.heal(fault_id)
        with self._lock:  # heals under way in the faults' own threads (their injectors time out)
            while any(a.scheduled.id not in applied for a in self._healing.values()):
                self._apply_ended.wait(1.0)
        deadline = time.monotonic() + 5.0
        for thread in self._threads:
            if thread is not me:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))

    @property
    def stopped(self) -> bool:
        """stop() was called (by the runner, a signal, atexit): the schedule will not go on."""
        return self._stopped.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the schedule has run out (every window healed); True if it has."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    def __enter__(self) -> Timeline:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def active(self) -> list[str]:
        """Faults applied now, those being healed included (not undone yet)."""
        with self._lock:
            return [*self._applied, *self._healing]

    # -- the schedule -----------------------------------------------------------------
    def _predecessors(self, scheduled: ScheduledFault) -> list[str]:
        """Faults that hold a slot of `scheduled` and end by its start: healed before it is
        applied (else undoing one could undo the other, e.g. a client-side outage flag)."""
        mine = scheduled.fault.slots(self._regions)
        return [
            other.id
            for other in self.schedule
            if other is not scheduled
            and other.end <= scheduled.start
            and mine & other.fault.slots(self._regions)
        ]

    def _drive(self, scheduled: ScheduledFault, predecessors: list[str]) -> None:
        """One fault's life: wait for its start, apply, wait for its end, heal."""
        assert self.t0 is not None
        try:
            due = self.t0 + scheduled.start
            if self._stopped.wait(max(0.0, due - time.time())):
                return
            for other in predecessors:
                while not self._done[other].wait(0.2):
                    if self._stopped.is_set():
                        return
            self.apply(scheduled, requested=due)
            due = self.t0 + scheduled.end
            if self._stopped.wait(max(0.0, due - time.time())):
                return
            self.heal(scheduled.id, requested=due)
        finally:
            self._done[scheduled.id].set()

    def apply(self, scheduled: ScheduledFault, requested: float | None = None) -> None:
        """Apply now; `requested`: when the schedule wanted it (logged beside the actual)."""
        fault = scheduled.fault
        with self._lock:
            if self._stopped.is_set() or scheduled.id in self._applied:
                return
            if self.write_error is not None:
                log.error("%s not applied: the report cannot be written", scheduled.id)
                return
            applied = AppliedFault(scheduled, started=time.time(), requested=requested)
            self._applied[scheduled.id] = applied
            self._in_flight[scheduled.id] = threading.current_thread()
        try:
            error = self._apply_parts(applied)
            if error is not None:  # logged before stop() may heal it
                message = (
                    f"{scheduled.id} {fault.name} {fault.target_label()}: apply failed: {error}"
                )
                log.error(message)
                self.errors.append(message)
                self._log("start", scheduled, applied.started, requested, error=str(error))
        finally:
            with self._lock:
                self._in_flight.pop(scheduled.id, None)
                self._apply_ended.notify_all()
        if error is not None:
            self.heal(scheduled.id)
            return
        with self._lock:
            # (a failed write here leaves the entry as written above, with an earlier `t`)
            # the window opens once every injector has applied it: an FIS experiment may take
            # a while to run, and anomalies before that are not this fault's
            applied.started = time.time()
            self._write_state()
            self._log("start", scheduled, applied.started, requested)
        self._notify(scheduled, True)

    def _apply_parts(self, applied: AppliedFault) -> Exception | None:
        """Apply through each acting injector, its `pending` part in faults.state while its
        apply runs. Returns the error that ended it: the failed part undid itself; an
        interrupted one stays pending, for `heal` to undo with `heal_pending`."""
        fault, fault_id = applied.scheduled.fault, applied.scheduled.id
        for injector in self._acting[fault_id]:
            with self._lock:
                if self._stopped.is_set():
                    return ApplyInterrupted("the run stopped before the fault was applied")
                applied.pending = (injector, injector.pending(fault, fault_id))
                if not self._write_state():  # nothing would record it: never apply
                    applied.pending = None
                    return StateFileError(f"faults.state cannot be written: {self.write_error}")
            try:
                handle = injector.apply(fault, fault_id)
            except ApplyInterrupted as err:
                return err
            except Exception as err:
                with self._lock:
                    applied.pending = None
                    self._write_state()
                return err
            with self._lock:
                applied.pending = None
                applied.parts.append((injector, handle))
                if self._applied.get(fault_id) is not applied:
                    # stop() gave up waiting and healed the rest: this part is left to undo
                    self._applied[fault_id] = applied
                    return ApplyInterrupted("the run stopped while the fault was applied")
                if not self._write_state():  # recorded only as being applied: undo it now
                    return StateFileError(f"faults.state cannot be written: {self.write_error}")
        return None

    def heal(self, fault_id: str, requested: float | None = None) -> None:
        """Undo every part of one applied fault; parts that fail to heal stay in faults.state
        (for `hothot heal`) and in `errors`, and are not retried here. `requested`: when the
        window was due to end (None: a stop, an apply that failed). The injectors are called
        without the lock, so a slow heal (an FIS experiment stopping) holds up no other fault;
        meanwhile the fault stays in faults.state."""
        with self._lock:
            applied = self._applied.pop(fault_id, None)
            if applied is None:
                return
            self._healing[fault_id] = applied
        failed, pending, reasons = _undo(applied)
        with self._lock:
            self._healing.pop(fault_id, None)
            self._apply_ended.notify_all()
            if failed or pending is not None:
                left = AppliedFault(applied.scheduled, applied.started, failed, pending)
                self._unhealed.append(left.state_entry(self._regions))
                message = f"{fault_id}: heal failed: {'; '.join(reasons)}"
                log.error(message)
                self.errors.append(message)
            self._log("heal", applied.scheduled, time.time(), requested, error="; ".join(reasons))
            self._write_state()
        self._notify(applied.scheduled, False)

    # -- records ----------------------------------------------------------------------
    def _log(
        self,
        event: str,
        scheduled: ScheduledFault,
        t: float,
        requested: float | None = None,
        error: str = "",
    ) -> None:
        fault = scheduled.fault
        record = FaultEvent(
            event=event,
            id=scheduled.id,
            fault=fault.name,
            target=fault.target_label(),
            params=fault.params(),
            t=t,
        )
        if requested is not None:
            record["requested"] = requested
        if error:
            record["error"] = error
        try:
            with open(self.report_dir / CHAOS_LOG, "ab") as out:
                out.write(orjson.dumps(record) + b"\n")
        except OSError as exc:  # healing goes on; the runner ends the run
            self._write_failed(f"{self.report_dir / CHAOS_LOG}: {exc.strerror or exc}")

    def _write_state(self) -> bool:
        """Make faults.state hold what is applied now, (or being healed) now, plus failed heals (chaos.state's rules
        when the disk refuses). False when it could not."""
        live = [*self._applied.values(), *self._healing.values()]
        entries = [a.state_entry(self._regions) for a in live]
        try:
            write_state(self.report_dir, entries + self._unhealed)
        except StateFileError as exc:
            self._write_failed(str(exc))
            return False
        return True

    def _write_failed(self, message: str) -> None:
        if self.write_error is None:
            self.write_error = message
            log.error("the report cannot be written: %s", message)

    def _notify(self, scheduled: ScheduledFault, active: bool) -> None:
        if self.on_change is None:
            return
        try:
            self.on_change(scheduled.fault.name, scheduled.fault.target_label(), active)
        except Exception:
            log.exception("on_change failed for %s", scheduled.id)


def _undo(applied: AppliedFault) -> tuple[list[tuple[Injector, Handle]], Any, list[str]]:
    """Heal each part of `applied`, the pending one first (it was applied last). Returns the
    parts that failed, the pending part if it failed, and the reasons."""
    fault, fault_id = applied.scheduled.fault, applied.scheduled.id
    failed: list[tuple[Injector, Handle]] = []
    reasons: list[str] = []
    pending = applied.pending
    if pending is not None:
        try:
            pending[0].heal_pending(fault, fault_id, pending[1])
            pending = None
        except FaultGone:
            pending = None
        except Exception as err:
            reasons.append(f"{pending[0].name}: {err}")
    for injector, handle in reversed(applied.parts):
        try:
            injector.heal(fault, handle)
        except FaultGone:
            pass  # healed by someone else: nothing left applied
        except Exception as err:
            failed.append((injector, handle))
            reasons.append(f"{injector.name}: {err}")
    return failed, pending, reasons


__all__ = ["STATE_FILE", "AppliedFault", "Timeline", "install_signal_healing", "write_state"]
