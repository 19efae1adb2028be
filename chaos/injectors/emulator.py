"""The `emulator` injector: faults through a hothot emulator's control API (DESIGN §3), for
`emulator` targets and `endpoints` targets that name a `control` URL."""

from __future__ import annotations

from chaos.faults import FaultSpec
from chaos.injectors.base import FaultGone, Handle, Injector
from globaltable.control import ControlClient, ControlError


class EmulatorInjector(Injector):
    name = "emulator"
    pending_fields = ("control",)

    def __init__(self, control_url: str, regions: list[str], target_kind: str = "emulator") -> None:
        super().__init__(regions, target_kind, has_control=True)
        self.control_url = control_url
        self.control = ControlClient(control_url)
        self._instance: str | None = None

    def apply(self, fault: FaultSpec, fault_id: str) -> Handle:
        """One control fault per body (a `region: A` partition is one per other region); if
        one is refused, those already applied are healed before the error propagates. The
        handle names the emulator process (`instance`): its fault ids restart with it."""
        ids: list[str] = []
        if self._instance is None:
            self._instance = self.control.state().get("instance")
        try:
            for body in fault.control_bodies(self.regions):
                ids.append(self.control.apply(body))
        except BaseException:
            self._heal_ids(ids)
            raise
        handle: Handle = {"control": self.control_url, "ids": ids}
        if self._instance:
            handle["instance"] = self._instance
        return handle

    def pending(self, fault: FaultSpec, fault_id: str) -> Handle:
        handle: Handle = {"control": self.control_url}
        if self._instance:
            handle["instance"] = self._instance
        return handle

    def heal_pending(self, fault: FaultSpec, fault_id: str, handle: Handle) -> str:
        """The emulator numbers its faults itself and keeps no label of ours, so the faults an
        unfinished apply created cannot be told from anyone else's. Nothing to undo when the
        emulator was restarted since or holds no fault of this kind; otherwise a person has
        to look, and the entry stays."""
        self._restarted_since(handle)
        state = self.control.state()
        kinds = {body["fault"] for body in fault.control_bodies(list(state.get("regions", [])))}
        alike = sorted(fid for fid, f in state.get("faults", {}).items() if f["fault"] in kinds)
        if not alike:
            raise FaultGone(f"no {'/'.join(sorted(kinds))} fault is applied on {self.control_url}")
        raise ControlError(
            f"an apply that never returned may have created {', '.join(alike)} on the emulator "
            f"at {self.control_url}, which keeps no label saying whose they are; look at GET "
            "/state there, DELETE /faults/<id> what is this run's, then run hothot heal again"
        )

    def heal(self, fault: FaultSpec, handle: Handle) -> None:
        """Heal the handle's control ids. Raises FaultGone when the emulator was restarted
        since (its faults died with it, and ids now name other faults: never touch them) or
        when every id was already healed."""
        self._restarted_since(handle)
        if not self._heal_ids(list(handle.get("ids", []))):
            raise FaultGone(f"already healed on {self.control_url}")

    def _restarted_since(self, handle: Handle) -> None:
        """FaultGone when the emulator process is not the one that applied `handle`."""
        applied_by = handle.get("instance")
        if applied_by and self.control.state().get("instance") != applied_by:
            raise FaultGone(
                f"the emulator at {self.control_url} was restarted since the fault was "
                "applied, and its faults ended with it"
            )

    def _heal_ids(self, ids: list[str]) -> int:
        """Heal each id; returns how many were still applied."""
        failures: list[str] = []
        healed = 0
        for control_id in ids:
            try:
                self.control.heal(control_id)
                healed += 1
            except ControlError as err:
                if not _already_healed(err):
                    failures.append(f"{control_id}: {err}")
        if failures:
            raise ControlError(f"healing on {self.control_url} failed: {'; '.join(failures)}")
        return healed

    @classmethod
    def for_healing(cls, handle: Handle) -> EmulatorInjector:
        return cls(str(handle["control"]), regions=[])


def _already_healed(err: ControlError) -> bool:
    """The emulator answers 400 "no active fault with id ..." for a fault already healed."""
    return err.status is not None and "no active fault" in str(err)
