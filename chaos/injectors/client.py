"""The `client` injector: faults as the writers experience them, through loadgen's
`ClientConditions` (the writers' clock, connection errors, latency). Works on every target,
AWS included; what it changes lives in the run's process, so a killed run leaves nothing."""

from __future__ import annotations

from chaos.fault_base import ClientConditions, FaultSpec
from chaos.injectors.base import Handle, Injector


class ClientInjector(Injector):
    name = "client"

    def __init__(
        self,
        conditions: ClientConditions,
        regions: list[str],
        target_kind: str,
        has_control: bool = False,
    ) -> None:
        super().__init__(regions, target_kind, has_control)
        self.conditions = conditions

    def apply(self, fault: FaultSpec, fault_id: str) -> Handle:
        fault.apply_client(self.conditions, self.regions)
        return {}

    def heal(self, fault: FaultSpec, handle: Handle) -> None:
        fault.heal_client(self.conditions, self.regions)
