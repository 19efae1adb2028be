"""What every injector is: apply a fault and return a JSON-able handle; heal from that handle.

The handle goes into `faults.state`, so a fault applied by a run that was SIGKILLed can be
healed later by `hothot heal` in another process (`for_healing` builds such an injector).
Before `apply` starts, `pending` says what is known up front; it is in `faults.state` while
the apply runs, so `heal_pending` can undo an apply that never returned (an FIS experiment
takes tens of seconds to start, and the run may be killed meanwhile).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from chaos.fault_base import FaultSpec
from chaos.faults import injectors_for

Handle = dict[str, Any]


class FaultGone(Exception):
    """Nothing to heal: what the handle names no longer exists (the message says why)."""


class ApplyInterrupted(Exception):
    """An apply cut short by `interrupt()` (the run is stopping). Unlike other apply errors it
    undid nothing: the caller heals the pending part with `heal_pending`."""


class Injector(ABC):
    name: ClassVar[str]
    #: what a `pending` handle must hold for `heal_pending` to search safely
    pending_fields: ClassVar[tuple[str, ...]] = ()
    #: what a handle `apply` returned must hold for `heal` (read back from faults.state)
    handle_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, regions: list[str], target_kind: str, has_control: bool) -> None:
        self.regions = list(regions)
        self.target_kind = target_kind
        self.has_control = has_control
        #: set by `interrupt()`: a long apply stops waiting and raises ApplyInterrupted
        self.interrupted = threading.Event()

    def acts_on(self, fault: FaultSpec) -> bool:
        """Whether the fault's `acts` make this injector act for it on this run's target."""
        return self.name in injectors_for(fault.name, self.target_kind, self.has_control)

    @abstractmethod
    def apply(self, fault: FaultSpec, fault_id: str) -> Handle:
        """Apply `fault`; the handle must be enough to heal it from another process."""

    @abstractmethod
    def heal(self, fault: FaultSpec, handle: Handle) -> None:
        """Undo one `apply`. Healing what is already healed is not an error; an injector may
        raise FaultGone to say so."""

    def pending(self, fault: FaultSpec, fault_id: str) -> Handle:
        """What `heal_pending` needs to find what an apply of `fault` may have left behind,
        known before `apply` starts."""
        return {}

    def heal_pending(self, fault: FaultSpec, fault_id: str, handle: Handle) -> str:
        """Undo an apply that never returned, knowing only `pending`'s handle; returns what
        was undone (for `hothot heal`'s output). An injector that cannot says so by raising,
        and the fault stays in faults.state."""
        raise RuntimeError(f"the {self.name} injector cannot undo an apply that never returned")

    @classmethod
    def check_handle(cls, handle: Any, applying: bool) -> list[str]:
        """What is wrong with a handle read back from faults.state (which anyone may have
        edited), before anything acts on it: every field it needs, as non-empty text."""
        if not isinstance(handle, dict):
            return ["its handle is not a JSON object"]
        needed = cls.pending_fields if applying else cls.handle_fields
        return [
            f'the {cls.name} part{" being applied" if applying else ""} has no "{key}" in its '
            "handle"
            for key in needed
            if not isinstance(handle.get(key), str) or not handle[key]
        ]

    def interrupt(self) -> None:
        """Ask an apply running in another thread to stop waiting (the run is stopping)."""
        self.interrupted.set()

    @classmethod
    def for_healing(cls, handle: Handle) -> Injector | None:
        """An injector able to heal `handle` in a fresh process, or None when what it applied
        died with the run's process (nothing left to undo)."""
        return None
