"""The `emulator` injector: faults through a hothot emulator's control API (DESIGN §3), for
`emulator` targets and `endpoints` targets that name a `control` URL."""

from __future__ import annotations

from chaos.faults import FaultSpec
from chaos.injectors.base import Handle, Injector
from globaltable.control import ControlClient, ControlError


class EmulatorInjector(Injector):
    name = "emulator"

    def __init__(self, control_url: str, regions: list[str], target_kind: str = "emulator") -> None:
        super().__init__(regions, target_kind, has_control=True)
        self.control_url = control_url
        self.control = ControlClient(control_url)

    def apply(self, fault: FaultSpec, fault_id: str) -> Handle:
        """One control fault per body (a `region: A` partition is one per other region); if
        one is refused, those already applied are healed before the error propagates."""
        ids: list[str] = []
        try:
            for body in fault.control_bodies(self.regions):
                ids.append(self.control.apply(body))
        except BaseException:
            self._heal_ids(ids)
            raise
        return {"control": self.control_url, "ids": ids}

    def heal(self, fault: FaultSpec, handle: Handle) -> None:
        self._heal_ids(list(handle.get("ids", [])))

    def _heal_ids(self, ids: list[str]) -> None:
        failures: list[str] = []
        for control_id in ids:
            try:
                self.control.heal(control_id)
            except ControlError as err:
                if not _already_healed(err):
                    failures.append(f"{control_id}: {err}")
        if failures:
            raise ControlError(f"healing on {self.control_url} failed: {'; '.join(failures)}")

    @classmethod
    def for_healing(cls, handle: Handle) -> EmulatorInjector:
        return cls(str(handle["control"]), regions=[])


def _already_healed(err: ControlError) -> bool:
    """The emulator answers 400 "no active fault with id ..." for a fault already healed."""
    return err.status is not None and "no active fault" in str(err)
