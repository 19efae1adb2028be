"""Readers: GetItem of other workloads' keys, recording the version read (stale-read input)."""

from __future__ import annotations

import random

from pydantic import BaseModel, ConfigDict, Field

from loadgen.ops import Read
from loadgen.recording import RecordingClient
from loadgen.workloads.base import Workload
from verdict.history import Op


class Reader(Workload):
    """Reads keys of the writing workloads (default: all of them), preferring keys homed in
    other regions, from the reader's own region."""

    kind = "reader"
    ops = frozenset({"get"})
    per_run = (1, 0)
    writes = False

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        workloads: list[str] = Field(default_factory=list, description="names read; [] = all")
        consistent: bool = False

    def bind(self, workloads: dict[str, Workload]) -> None:
        names = self.options.workloads or [n for n, w in workloads.items() if w.writes]
        unknown = [n for n in names if n not in workloads or not workloads[n].writes]
        if unknown:
            raise ValueError(f"reader {self.name!r}: no writing workload named {unknown}")
        if not names:
            raise ValueError(f"reader {self.name!r}: there is no writing workload to read")
        self.targets = [workloads[n] for n in names]

    def choose_key(self, rng: random.Random, home: str) -> str:
        target = rng.choice(self.targets)
        others = [r for r in self.regions if r != home] or [home]
        return target.choose_key(rng, rng.choice(others))

    def run(self, calls: RecordingClient, key: str, rng: random.Random) -> None:
        rec = calls.record(self.name, key, Op.GET)
        if self.options.consistent:
            rec["consistent"] = True
        calls.perform(rec, Read(key, consistent=self.options.consistent))
