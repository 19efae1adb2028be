"""Undo what a killed run left applied, from its report directory's `faults.state`.

Each entry names the injectors that applied the fault and their handles (the control URL and
fault ids, the FIS experiment and template). Healed entries leave the state file and get a
`heal` event in `chaos.jsonl` (in the timeline's format), so the run's fault windows close; a
fault whose apply never returned opened no window and gets none; failures stay for a retry.
A part marked `applying` (the run died before its apply returned) holds only what the injector
knew up front; its injector's `heal_pending` finds and undoes what that apply left.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from chaos.faults import FAULTS, FaultSpec
from chaos.injectors import INJECTORS, Injector
from chaos.injectors.base import FaultGone
from chaos.timeline import STATE_FILE, write_state
from verdict.history import CHAOS_LOG, LATE_HEAL, FaultEvent


class HealError(Exception):
    """The report directory or its state file cannot be used; the message says why."""


@dataclass
class HealResult:
    healed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def newest_report(base: Path, also: tuple[str, ...] = ()) -> Path:
    """The most recently modified report directory under `base` that has a faults.state (or
    one of the files `also` names: what else a killed run leaves to undo)."""
    if not base.is_dir():
        raise HealError(f"no REPORT_DIR given and {base} is not a directory")
    names = (STATE_FILE, *also)
    marked = [((d / n).stat().st_mtime, d) for d in base.iterdir() for n in names
              if (d / n).is_file()]  # fmt: skip
    if not marked:
        raise HealError(f"no report directory with a {' or '.join(names)} under {base}")
    return max(marked)[1]


def read_state(report_dir: Path) -> list[dict[str, Any]]:
    path = report_dir / STATE_FILE
    if not path.is_file():
        raise HealError(f"{path} not found: not a hothot report directory, or nothing was applied")
    try:
        entries = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as err:
        raise HealError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise HealError(f"{path}: expected a JSON list of applied faults")
    return entries


def heal_report(report_dir: Path, injectors: dict[str, Injector] | None = None) -> HealResult:
    """Heal every fault in `report_dir/faults.state`. `injectors` overrides, by name, the
    injector used for a kind (tests pass a FIS injector whose client is stubbed)."""
    result = HealResult()
    remaining: list[dict[str, Any]] = []
    entries = read_state(report_dir)
    for number, entry in enumerate(entries, 1):
        _check_applying(number, entry)
    for entry in entries:
        label = f"{entry.get('id', '?')} {entry.get('fault', '?')} {entry.get('target', '')}"
        try:
            fault = FAULTS[entry["fault"]].model_validate(entry["spec"])
        except (KeyError, ValueError) as err:
            result.failed.append(f"{label}: unreadable entry ({err})")
            remaining.append(entry)
            continue
        left = []
        for part in entry.get("applied", []):
            name, handle = part.get("injector"), part.get("handle", {})
            injector = (injectors or {}).get(name) or _for_healing(name, handle)
            if injector is None:
                result.healed.append(f"{label} via {name}: nothing to undo, it ended with the run")
                continue
            try:
                if part.get("applying"):
                    what = f"({injector.heal_pending(fault, entry['id'], handle)})"
                else:
                    injector.heal(fault, handle)
                    what = _where(handle)
            except FaultGone as gone:
                result.healed.append(f"{label} via {name}: nothing to undo, {gone}")
                continue
            except Exception as err:
                result.failed.append(f"{label}: {name}: {err}")
                left.append(part)
                continue
            result.healed.append(f"{label} via {name} {what}".rstrip())
        if left:
            remaining.append(entry | {"applied": left})
        elif not entry.get("applying"):  # an apply that never returned opened no window
            _log_heal(report_dir, entry, fault)
    write_state(report_dir, remaining)
    return result


def _for_healing(name: str | None, handle: dict[str, Any]) -> Injector | None:
    if name not in INJECTORS:
        raise HealError(f"unknown injector {name!r} in {STATE_FILE}")
    return INJECTORS[name].for_healing(handle)


def _check_applying(number: int, entry: dict[str, Any]) -> None:
    """An `applying` part is healed by searching (FIS templates by tag, in a region): without
    the fault id or the region the search could touch what is not this fault's."""
    for part in entry.get("applied", []):
        if not part.get("applying"):
            continue
        where = (
            f"{STATE_FILE} entry {number} ({entry.get('id', 'no id')} {entry.get('fault', '?')})"
        )
        if not isinstance(entry.get("id"), str) or not entry["id"]:
            raise HealError(f'{where}: a fault being applied needs its "id" to be found')
        handle = part.get("handle")
        name = part.get("injector")
        known = INJECTORS.get(str(name))
        for key in known.pending_fields if known else ():
            if not isinstance(handle, dict) or not handle.get(key):
                raise HealError(
                    f'{where}: the {name} part being applied has no "{key}" in its handle'
                )


def _where(handle: dict[str, Any]) -> str:
    if "control" in handle:
        return f"({handle['control']}, control ids {', '.join(handle.get('ids', []))})"
    if "experiment_id" in handle:
        return f"(FIS experiment {handle['experiment_id']} in {handle.get('region')})"
    return ""


def _log_heal(report_dir: Path, entry: dict[str, Any], fault: FaultSpec) -> None:
    """The heal event, in the timeline's own format (parameters as `FaultSpec.params()`)."""
    event = FaultEvent(
        event="heal",
        id=str(entry.get("id")),
        fault=fault.name,
        target=fault.target_label(),
        params=fault.params(),
        t=time.time(),
        note=LATE_HEAL,
    )
    with open(report_dir / CHAOS_LOG, "ab") as out:
        out.write(orjson.dumps(event) + b"\n")
