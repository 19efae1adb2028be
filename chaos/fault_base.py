"""What every fault is (`FaultSpec`) and what chaos needs of the writers' client side
(`ClientConditions`); the faults themselves are in `chaos.faults`.

Fields are optional at parse time so that random-mode templates may omit them; `missing` says
which ones an explicit fault still lacks (`chaos.validate` asks it).
"""

from __future__ import annotations

import random
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field

from units import Duration, format_duration

#: sanity limits: beyond these a value is a typo, not an experiment
MAX_WINDOW_S = 24 * 3600.0
MAX_OFFSET_S = 3600.0
MAX_DELAY_S = 600.0
MAX_LATENCY_S = 60.0
MAX_DRIFT_PPM = 100_000.0
#: a clock strobing faster than this is noise, not a clock (and the emulator's own minimum)
MIN_STROBE_S = 0.001


class ClientConditions(Protocol):
    """What chaos needs of the writers' client-side fault state (loadgen implements it)."""

    def set_clock(
        self, region: str, offset_s: float, drift_ppm: float = 0.0, strobe_period_s: float = 0.0
    ) -> None: ...

    def clear_clock(self, region: str) -> None: ...

    def set_outage(self, region: str, on: bool) -> None: ...

    def set_partition(self, regions: list[str], on: bool) -> None: ...

    def set_latency(self, region: str, seconds: float) -> None: ...


Problem = tuple[str, str]  # (field path below the fault, message)


class FaultSpec(BaseModel):
    """Fields and behaviour shared by every fault."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    at: Duration | None = None
    for_: Duration | None = Field(default=None, alias="for")

    name: ClassVar[str]
    #: where the fault acts: placement (see `placement`) -> the injectors that apply it, in
    #: order; a placement missing means the fault cannot be applied there (refused)
    acts: ClassVar[dict[str, tuple[str, ...]]]
    #: whether it acts on replication links, so needs two regions
    on_links: ClassVar[bool] = False

    # -- description ------------------------------------------------------------------
    def target_label(self) -> str:
        """Human-readable target for chaos.jsonl and the `target` metric label."""
        return getattr(self, "region", None) or "?"

    def params(self) -> dict[str, Any]:
        """The fault's own parameters (no at/for), as in the campaign file."""
        return self.model_dump(by_alias=True, exclude={"at", "for_", "fault"}, exclude_none=True)

    def campaign_form(self) -> dict[str, Any]:
        """The DESIGN §6 form, durations spelled out: what the resolved campaign.yaml holds."""
        out: dict[str, Any] = {"at": format_duration(self.at or 0.0)}
        out["for"] = format_duration(self.for_ or 0.0)
        out["fault"] = self.name
        own = self.model_dump(
            by_alias=True, exclude={"at", "for_", "fault"}, exclude_none=True, exclude_defaults=True
        )
        for key, value in own.items():
            out[key] = format_duration(value) if key in self.durations else value
        return out

    #: fields (by their campaign-file name) holding durations, spelled "2s" when written out
    durations: ClassVar[tuple[str, ...]] = ()

    # -- checks -----------------------------------------------------------------------
    def named_regions(self) -> list[tuple[str, str]]:
        """(field path, region) for every region the fault names."""
        region = getattr(self, "region", None)
        return [("region", region)] if region else []

    def required(self) -> list[str]:
        """Fields an explicit (non-template) fault must set."""
        return ["region"] if "region" in type(self).model_fields else []

    def missing(self) -> list[Problem]:
        """What an explicit (non-template) fault lacks; a template leaves it to the draw."""
        data = self.model_dump(by_alias=True)
        return [
            (f, f"missing; {self.name} needs it") for f in self.required() if data.get(f) is None
        ]

    def problems(self, regions: list[str]) -> list[Problem]:
        """Fault-specific checks beyond types: limits and contradictions within the fault."""
        return []

    def placement_problems(
        self, acting: tuple[str, ...], regions: list[str], target: str
    ) -> list[Problem]:
        """What the injectors `acting` for this fault on the run's target (`target`, in words)
        cannot do of it: a limit of the way it is applied, not of the fault."""
        return []

    def slots(self, regions: list[str]) -> set[str]:
        """What the fault holds while active; two faults holding one slot at once contradict."""
        return {f"{self.name}:{self.target_label()}"}

    # -- application ------------------------------------------------------------------
    def control_bodies(self, regions: list[str]) -> list[dict[str, Any]]:
        """`POST /faults` bodies applying this fault on a hothot emulator (docs/architecture.md)."""
        raise NotImplementedError

    def apply_client(self, conditions: ClientConditions, regions: list[str]) -> None:
        raise NotImplementedError

    def heal_client(self, conditions: ClientConditions, regions: list[str]) -> None:
        raise NotImplementedError

    # -- random mode ------------------------------------------------------------------
    def draw(self, rng: random.Random, regions: list[str]) -> dict[str, Any]:
        """Values for the fields this template leaves out, drawn from `rng`."""
        return {"region": rng.choice(regions)} if getattr(self, "region", 1) is None else {}


def limit(field: str, value: float | None, low: float, high: float, what: str) -> list[Problem]:
    if value is None or low <= value <= high:
        return []
    return [(field, f"{what} {format_duration(value)} is outside {low:g}s..{high:g}s")]


def placement(target_kind: str, has_control: bool) -> str:
    """Which of a fault's `acts` entries applies to a target. Placements: "control" (emulator
    targets, and endpoints targets naming a control URL), "endpoints" (plain
    DynamoDB-compatible endpoints), "aws" (a real global table), "pglogical" (a pglogical mesh
    of clusters hothot started), "pglogical_dsn" (a mesh reached through DSNs only: what SQL
    can do)."""
    if target_kind == "emulator" or (target_kind == "endpoints" and has_control):
        return "control"
    if target_kind == "pglogical" and not has_control:
        return "pglogical_dsn"
    return target_kind
