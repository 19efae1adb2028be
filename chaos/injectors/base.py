"""What every injector is: apply a fault and return a JSON-able handle; heal from that handle.

The handle goes into `faults.state`, so a fault applied by a run that was SIGKILLed can be
healed later by `hothot heal` in another process (`for_healing` builds such an injector).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from chaos.faults import FaultSpec, injectors_for

Handle = dict[str, Any]


class FaultGone(Exception):
    """Nothing to heal: what the handle names no longer exists (the message says why)."""


class Injector(ABC):
    name: ClassVar[str]

    def __init__(self, regions: list[str], target_kind: str, has_control: bool) -> None:
        self.regions = list(regions)
        self.target_kind = target_kind
        self.has_control = has_control

    def acts_on(self, fault: FaultSpec) -> bool:
        """Whether PLACEMENT makes this injector act for `fault` on this run's target."""
        return self.name in injectors_for(fault.name, self.target_kind, self.has_control)

    @abstractmethod
    def apply(self, fault: FaultSpec, fault_id: str) -> Handle:
        """Apply `fault`; the handle must be enough to heal it from another process."""

    @abstractmethod
    def heal(self, fault: FaultSpec, handle: Handle) -> None:
        """Undo one `apply`. Healing what is already healed is not an error; an injector may
        raise FaultGone to say so."""

    @classmethod
    def for_healing(cls, handle: Handle) -> Injector | None:
        """An injector able to heal `handle` in a fresh process, or None when what it applied
        died with the run's process (nothing left to undo)."""
        return None
