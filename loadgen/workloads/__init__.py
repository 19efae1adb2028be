"""The workload table: kind -> class. A new workload is one class added here."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from loadgen.workloads.accumulate import Cart, Counter
from loadgen.workloads.base import KeyChooser, Workload
from loadgen.workloads.guarded import Guarded
from loadgen.workloads.items import ClientLww, HomeRegion, Profile, SplitAttributes
from loadgen.workloads.reader import Reader

if TYPE_CHECKING:  # hints only: loadgen.spec imports this package to check a kind
    from loadgen.spec import WorkloadSpec

WORKLOADS: dict[str, type[Workload]] = {
    w.kind: w
    for w in (Profile, SplitAttributes, Counter, Cart, Guarded, HomeRegion, ClientLww, Reader)
}

__all__ = ["WORKLOADS", "KeyChooser", "Workload", "build_workloads", "mix_of", "resolve"]


def resolve(kind: str) -> type[Workload]:
    """A registered kind, or `package.module.Class` / `package.module:Class` of a user's own."""
    if kind in WORKLOADS:
        return WORKLOADS[kind]
    if "." not in kind and ":" not in kind:
        raise ValueError(
            f"unknown workload kind {kind!r}; known: {', '.join(sorted(WORKLOADS))}, or a dotted path to a class"
        )
    module_name, _, attr = kind.replace(":", ".").rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"workload kind {kind!r}: cannot import it ({exc})") from None
    if not (isinstance(found, type) and issubclass(found, Workload)):
        raise ValueError(f"workload kind {kind!r} is not a subclass of loadgen.workloads.Workload")
    return found


def build_workloads(
    specs: Sequence[WorkloadSpec], regions: Sequence[str], key_prefix: str = ""
) -> dict[str, Workload]:
    """One instance per workload spec, by name, bound to each other; every key they write
    starts with `key_prefix` (a run's own key space on a table that outlives runs)."""
    built = {spec.name: resolve(spec.kind)(spec, regions) for spec in specs}
    for workload in built.values():
        workload.key_prefix = key_prefix
        workload.bind(built)
    return built


def mix_of(workloads: dict[str, Workload]) -> list[Workload]:
    """The workloads that run (weight above 0), in campaign order."""
    mix = [w for w in workloads.values() if w.spec.weight > 0]
    if not mix:
        raise ValueError("every workload has weight 0: there is nothing to run")
    return mix
