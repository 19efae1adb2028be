"""The `emulator` injector: faults through a hothot emulator's control API (DESIGN §3), for
`emulator` targets and `endpoints` targets that name a `control` URL."""

from __future__ import annotations

import uuid
from typing import Any

from chaos.fault_base import FaultSpec
from chaos.injectors.base import FaultGone, Handle, Injector
from globaltable.control import ControlClient, ControlError, check_control_url


class EmulatorInjector(Injector):
    name = "emulator"
    pending_fields = ("control", "label")
    handle_fields = ("control",)

    def __init__(
        self,
        control_url: str,
        regions: list[str],
        target_kind: str = "emulator",
        token: str | None = None,
    ) -> None:
        """`token`: the control API's (None: $HOTHOT_CONTROL_TOKEN); never in a handle."""
        super().__init__(regions, target_kind, has_control=True)
        self.control_url = control_url
        self.control = ControlClient(control_url, token=token)
        self._instance: str | None = None
        self._run = uuid.uuid4().hex[:12]

    def apply(self, fault: FaultSpec, fault_id: str) -> Handle:
        """One control fault per body (a `region: A` partition is one per other region); if
        one is refused, those already applied are healed before the error propagates. The
        handle names the emulator process (`instance`): its fault ids restart with it."""
        ids: list[str] = []
        if self._instance is None:
            self._instance = self.control.state().get("instance")
        try:
            for body in fault.control_bodies(self.regions):
                ids.append(self.control.apply(body | {"label": self._label(fault_id)}))
        except BaseException:
            self._heal_ids(ids)
            raise
        handle: Handle = {"control": self.control_url, "ids": ids}
        if self._instance:
            handle["instance"] = self._instance
        return handle

    def pending(self, fault: FaultSpec, fault_id: str) -> Handle:
        handle: Handle = {"control": self.control_url, "label": self._label(fault_id)}
        if self._instance:
            handle["instance"] = self._instance
        return handle

    def heal_pending(self, fault: FaultSpec, fault_id: str, handle: Handle) -> str:
        """Heal the faults an apply that never returned created: those carrying its label
        (nothing to undo when there are none, or the emulator was restarted since)."""
        self._restarted_since(handle)
        faults = self.control.state().get("faults", {})
        ids = sorted(fid for fid, f in faults.items() if f.get("label") == handle["label"])
        if not self._heal_ids(ids):
            raise FaultGone(f"no fault labelled {handle['label']} on {self.control_url}")
        return f"healed {', '.join(ids)} labelled {handle['label']} on {self.control_url}"

    def _label(self, fault_id: str) -> str:
        """This run's name for a fault on the emulator: fault ids like f1-partition recur
        from run to run against a long-lived emulator, the run token does not."""
        return f"{fault_id}@{self._run}"

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
    def check_handle(cls, handle: Any, applying: bool) -> list[str]:
        """Also: the control URL is http(s) (urllib would follow file:// too) and `ids` is a
        list of fault ids."""
        problems = super().check_handle(handle, applying)
        if problems:
            return problems
        try:
            check_control_url(handle["control"])
        except ControlError as exc:
            problems.append(str(exc))
        ids = handle.get("ids", [])
        if not applying and (
            not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids)
        ):
            problems.append('its "ids" is not a list of control fault ids')
        return problems

    @classmethod
    def for_healing(cls, handle: Handle) -> EmulatorInjector:
        return cls(str(handle["control"]), regions=[])


def _already_healed(err: ControlError) -> bool:
    """The emulator answers 400 "no active fault with id ..." for a fault already healed."""
    return err.status is not None and "no active fault" in str(err)
