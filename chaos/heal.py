"""Undo what a killed run left applied, from its report directory's `faults.state`.

Each entry names the injectors that applied the fault and their handles (the control URL and
fault ids, the FIS experiment and template). Healed entries leave the state file and get a
`heal` event in `chaos.jsonl` (in the timeline's format), so the run's fault windows close; a
fault whose apply never returned opened no window and gets none; failures stay for a retry.
A part marked `applying` (the run died before its apply returned) holds only what the injector
knew up front; its injector's `heal_pending` finds and undoes what that apply left.

The file may have been damaged or crafted: every entry is checked before anything is undone
(a known fault and injector, handles with what their injector needs, http(s) control URLs),
and the file is rewritten after each entry, so a later failure never repeats a heal that
succeeded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from chaos.fault_base import FaultSpec
from chaos.faults import FAULTS
from chaos.injectors import INJECTORS, Injector
from chaos.injectors.base import FaultGone
from chaos.state import STATE_FILE, StateFileError, write_state
from verdict.history import CHAOS_LOG, LATE_HEAL, FaultEvent


class HealError(Exception):
    """The report directory or its state file cannot be used; the message says why."""


@dataclass
class HealResult:
    healed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    #: what went wrong beside healing (chaos.jsonl could not be appended)
    warnings: list[str] = field(default_factory=list)


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
    """The entries of `report_dir/faults.state`; none when a run's report directory has no
    such file (a run removes it when a full disk keeps it from writing `[]`)."""
    path = report_dir / STATE_FILE
    if not path.is_file():
        if (report_dir / CHAOS_LOG).is_file():
            return []
        raise HealError(f"{path} not found: not a hothot report directory, or nothing was applied")
    try:
        entries = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as err:
        raise HealError(f"{path}: not valid JSON ({err})") from None
    except OSError as err:
        raise HealError(f"{path}: cannot read: {err.strerror or err}") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise HealError(f"{path}: expected a JSON list of applied faults")
    return entries


def heal_report(report_dir: Path, injectors: dict[str, Injector] | None = None) -> HealResult:
    """Heal every fault in `report_dir/faults.state`. `injectors` overrides, by name, the
    injector used for a kind (tests pass a FIS injector whose client is stubbed)."""
    result = HealResult()
    entries = read_state(report_dir)
    problems = [p for number, entry in enumerate(entries, 1) for p in check_entry(number, entry)]
    if problems:
        raise HealError("; ".join(problems) + " (nothing was healed)")
    remaining: list[dict[str, Any]] = []
    for index, entry in enumerate(entries):
        left = _heal_entry(entry, result, injectors or {})
        if left:
            remaining.append(entry | {"applied": left})
        elif not entry.get("applying"):  # an apply that never returned opened no window
            try:
                _log_heal(report_dir, entry, FAULTS[entry["fault"]].model_validate(entry["spec"]))
            except OSError as err:
                result.warnings.append(
                    f"{report_dir / CHAOS_LOG}: the heal of {entry['id']} was not logged "
                    f"({err.strerror or err})"
                )
        try:  # after each entry: a failure further on never repeats this one
            write_state(report_dir, remaining + entries[index + 1 :])
        except StateFileError as err:
            raise HealError(f"{err} (healed so far: {', '.join(result.healed)})") from None
    return result


def _heal_entry(
    entry: dict[str, Any], result: HealResult, injectors: dict[str, Injector]
) -> list[dict[str, Any]]:
    """Undo each part of one checked entry; returns the parts that could not be undone."""
    label = f"{entry['id']} {entry['fault']} {entry.get('target', '')}"
    fault = FAULTS[entry["fault"]].model_validate(entry["spec"])
    left = []
    for part in entry.get("applied", []):
        name, handle = part["injector"], part["handle"]
        injector = injectors.get(name) or INJECTORS[name].for_healing(handle)
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
    return left


def check_entry(number: int, entry: dict[str, Any]) -> list[str]:
    """What keeps entry `number` from being healed safely, each naming the entry. An
    `applying` part is healed by searching (FIS templates by tag in a region, emulator faults
    by label): without the fault id or what the search needs it could touch another fault."""
    where = f"{STATE_FILE} entry {number} ({entry.get('id', 'no id')} {entry.get('fault', '?')})"
    if not isinstance(entry.get("id"), str) or not entry["id"]:
        if entry.get("applying"):
            return [f'{where}: a fault being applied needs its "id" to be found']
        return [f'{where}: it has no "id"']
    kind = entry.get("fault")
    if kind not in FAULTS:
        return [f"{where}: unknown fault {kind!r}; known: {', '.join(FAULTS)}"]
    try:
        FAULTS[kind].model_validate(entry.get("spec"))
    except ValueError as err:
        return [f"{where}: unreadable spec ({' '.join(str(err).split())})"]
    parts = entry.get("applied", [])
    if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
        return [f'{where}: "applied" is not a list of injector parts']
    problems = []
    for part in parts:
        name = part.get("injector")
        if name not in INJECTORS:
            problems.append(f"{where}: unknown injector {name!r} in {STATE_FILE}")
            continue
        problems += [
            f"{where}: {p}"
            for p in INJECTORS[name].check_handle(part.get("handle"), bool(part.get("applying")))
        ]
    return problems


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
