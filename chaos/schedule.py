"""The concrete fault schedule of a run: explicit faults plus, in random mode, faults drawn
from the campaign seed. The same seed always draws the same schedule, and `to_campaign`
writes it back in the explicit form, so a failing random run replays as an explicit one.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from chaos.fault_base import FaultSpec
from chaos.faults import FAULTS
from chaos.spec import ChaosSpec

#: random windows shorter than this are not worth applying
MIN_RANDOM_WINDOW_S = 0.5
#: bound on random draws, whatever the run's length and mean interval
MAX_RANDOM_FAULTS = 1000
#: window ends are rounded to the microsecond, so that windows written in decimal touch:
#: `at: 100ms, for: 200ms` ends at 0.3, not 0.30000000000000004, where the next one starts
END_DECIMALS = 6


def window_end(fault: FaultSpec) -> float:
    """Where a fault's window `[at, at + for)` ends, seconds from the run's start."""
    return round((fault.at or 0.0) + (fault.for_ or 0.0), END_DECIMALS)


@dataclass(frozen=True)
class ScheduledFault:
    """One fault with its concrete window, seconds from the run's start."""

    id: str  # unique within the run; pairs chaos.jsonl start/heal events
    fault: FaultSpec
    origin: str  # "chaos[1]", or "random" for drawn faults

    @property
    def start(self) -> float:
        return self.fault.at or 0.0

    @property
    def end(self) -> float:
        return window_end(self.fault)


def window_overlap(a: FaultSpec, b: FaultSpec) -> bool:
    """Windows are half-open [at, at+for): one may start exactly when another heals."""
    return (a.at or 0.0) < window_end(b) and (b.at or 0.0) < window_end(a)


def contradiction(a: FaultSpec, b: FaultSpec, regions: list[str]) -> str | None:
    """The slot two faults both hold at once (e.g. one region's clock), or None."""
    if not window_overlap(a, b):
        return None
    shared = sorted(a.slots(regions) & b.slots(regions))
    return shared[0] if shared else None


def expand(
    spec: ChaosSpec, seed: int | str, regions: list[str], duration: float
) -> list[ScheduledFault]:
    """Explicit faults plus random draws, ordered by start. Assumes `chaos.validate` passed."""
    chosen: list[tuple[FaultSpec, str]] = [(f, spec.path(i)) for i, f in enumerate(spec.faults)]
    if spec.random is not None and spec.random.faults:
        chosen += [(f, "random") for f in _draw(spec, seed, regions, duration, chosen)]
    chosen.sort(key=lambda pair: pair[0].at or 0.0)
    return [
        ScheduledFault(id=f"f{n}-{fault.name}", fault=fault, origin=origin)
        for n, (fault, origin) in enumerate(chosen, start=1)
    ]


def _draw(
    spec: ChaosSpec,
    seed: int | str,
    regions: list[str],
    duration: float,
    explicit: list[tuple[FaultSpec, str]],
) -> list[FaultSpec]:
    """Poisson arrivals (mean `mean_interval`), exponential lengths (mean `mean_duration`),
    cut at the run's end; a draw that would contradict a fault already placed is skipped."""
    assert spec.random is not None
    rng = random.Random(f"hothot-chaos:{seed}")
    placed = [fault for fault, _ in explicit]
    drawn: list[FaultSpec] = []
    t = 0.0
    for _ in range(MAX_RANDOM_FAULTS):
        t += rng.expovariate(1.0 / spec.random.mean_interval)
        at = round(t, 3)  # millisecond precision, so the written-out schedule replays exactly
        wanted = rng.expovariate(1.0 / spec.random.mean_duration)
        length = math.floor(min(wanted, duration - at) * 1000) / 1000
        template = rng.choice(spec.random.faults)
        if at >= duration:
            break
        if length < MIN_RANDOM_WINDOW_S:
            continue
        data: dict[str, Any] = template.model_dump(by_alias=True, exclude_none=True)
        data |= template.draw(rng, regions)
        data |= {"at": at, "for": length}
        fault = FAULTS[template.name].model_validate(data)
        if any(contradiction(fault, other, regions) for other in placed):
            continue
        placed.append(fault)
        drawn.append(fault)
    return drawn


def to_campaign(schedule: list[ScheduledFault]) -> list[dict[str, Any]]:
    """The schedule in the campaign file's explicit form (for the resolved campaign.yaml)."""
    return [scheduled.fault.campaign_form() for scheduled in schedule]
