"""The faults: one pydantic class each, registered in `FAULTS`, placed by `PLACEMENT`.

A fault class knows everything about itself: its campaign-file fields, its sanity limits, the
control-API bodies that apply it on a hothot emulator, what it does to the writers'
`ClientConditions`, the "slots" it occupies (two faults holding one slot at once contradict
each other) and how random mode fills in what a template leaves out. Adding a fault is one
class here, one line in `FAULTS` and one row in `PLACEMENT`.

Fields are optional at parse time so that random-mode templates may omit them; `chaos.validate`
says which ones an explicit fault still lacks.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar, Literal, Protocol

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

    def problems(self, regions: list[str]) -> list[Problem]:
        """Fault-specific checks beyond types: limits and contradictions within the fault."""
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


def _limit(field: str, value: float | None, low: float, high: float, what: str) -> list[Problem]:
    if value is None or low <= value <= high:
        return []
    return [(field, f"{what} {format_duration(value)} is outside {low:g}s..{high:g}s")]


class ClockSkew(FaultSpec):
    """The region's clock runs `offset` ahead (or behind), optionally drifting or strobing."""

    name: ClassVar[str] = "clock_skew"
    durations: ClassVar[tuple[str, ...]] = ("offset", "strobe")
    fault: Literal["clock_skew"] = "clock_skew"
    region: str | None = None
    offset: Duration | None = None
    drift_ppm: float = 0.0
    strobe: Duration | None = None  # period: the clock jumps back and forth every `strobe`

    def required(self) -> list[str]:
        return ["region", "offset"]

    def problems(self, regions: list[str]) -> list[Problem]:
        out = _limit("offset", self.offset, -MAX_OFFSET_S, MAX_OFFSET_S, "clock offset")
        if not abs(self.drift_ppm) <= MAX_DRIFT_PPM:  # nan too
            out.append(("drift_ppm", f"{self.drift_ppm:g} ppm exceeds ±{MAX_DRIFT_PPM:g} ppm"))
        if self.strobe is not None and not MIN_STROBE_S <= self.strobe <= MAX_WINDOW_S:
            out.append(("strobe", f"strobe period must be within 1ms..24h, got {self.strobe:g}s"))
        return out

    def control_bodies(self, regions: list[str]) -> list[dict[str, Any]]:
        return [
            {
                "fault": "clock_skew",
                "region": self.region,
                "offset_s": self.offset or 0.0,
                "drift_ppm": self.drift_ppm,
                "strobe_period_s": self.strobe or 0.0,
            }
        ]

    def apply_client(self, conditions: ClientConditions, regions: list[str]) -> None:
        conditions.set_clock(
            str(self.region), self.offset or 0.0, self.drift_ppm, self.strobe or 0.0
        )

    def heal_client(self, conditions: ClientConditions, regions: list[str]) -> None:
        conditions.clear_clock(str(self.region))

    def draw(self, rng: random.Random, regions: list[str]) -> dict[str, Any]:
        out = super().draw(rng, regions)
        if self.offset is None:
            out["offset"] = round(rng.choice([-1, 1]) * rng.uniform(0.5, 5.0), 3)
        return out


class ReplicationDelay(FaultSpec):
    """Replication on the link `from` -> `to` (and back, with `both_ways`) is slowed."""

    name: ClassVar[str] = "replication_delay"
    durations: ClassVar[tuple[str, ...]] = ("delay", "jitter")
    fault: Literal["replication_delay"] = "replication_delay"
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    delay: Duration | None = None
    jitter: Duration = 0.0
    both_ways: bool = False

    def target_label(self) -> str:
        return f"{self.from_}{'<->' if self.both_ways else '->'}{self.to}"

    def named_regions(self) -> list[tuple[str, str]]:
        return [(f, r) for f, r in (("from", self.from_), ("to", self.to)) if r]

    def required(self) -> list[str]:
        return ["from", "to", "delay"]

    def links(self) -> list[tuple[str, str]]:
        a, b = str(self.from_), str(self.to)
        return [(a, b), (b, a)] if self.both_ways else [(a, b)]

    def problems(self, regions: list[str]) -> list[Problem]:
        out = _limit("delay", self.delay, 0.0, MAX_DELAY_S, "replication delay")
        out += _limit("jitter", self.jitter, 0.0, MAX_DELAY_S, "jitter")
        if self.from_ and self.from_ == self.to:
            out.append(("to", f"a link needs two regions, got {self.from_} -> {self.to}"))
        return out

    def slots(self, regions: list[str]) -> set[str]:
        return {f"replication_delay:{a}->{b}" for a, b in self.links()}

    def control_bodies(self, regions: list[str]) -> list[dict[str, Any]]:
        return [
            {
                "fault": "replication_delay",
                "from": a,
                "to": b,
                "delay_s": self.delay or 0.0,
                "jitter_s": self.jitter,
            }
            for a, b in self.links()
        ]

    def draw(self, rng: random.Random, regions: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.from_ is None:
            out["from"] = rng.choice([r for r in regions if r != self.to] or regions)
        if self.to is None:
            source = out.get("from", self.from_)
            out["to"] = rng.choice([r for r in regions if r != source] or regions)
        if self.delay is None:
            out["delay"] = round(rng.uniform(0.5, 5.0), 3)
        return out


class Partition(FaultSpec):
    """Replication between `regions: [A, B]`, or between `region: A` and every other region,
    stops (queues are held and catch up after healing); `one_way` holds only A -> B."""

    name: ClassVar[str] = "partition"
    fault: Literal["partition"] = "partition"
    regions: list[str] | None = None
    region: str | None = None
    one_way: bool = False

    def target_label(self) -> str:
        arrow = "->" if self.one_way else "<->"
        if self.region:
            return f"{self.region}{arrow}*"
        return arrow.join(self.regions or ["?"])

    def named_regions(self) -> list[tuple[str, str]]:
        named = [(f"regions[{i}]", r) for i, r in enumerate(self.regions or [])]
        return named + super().named_regions()

    def required(self) -> list[str]:
        return []

    def pairs(self, all_regions: list[str]) -> list[tuple[str, str]]:
        """The (A, B) region pairs cut: A -> B held, and B -> A too unless one-way."""
        if self.region:
            return [(self.region, r) for r in all_regions if r != self.region]
        return [(self.regions[0], self.regions[1])] if self.regions else []

    def problems(self, regions: list[str]) -> list[Problem]:
        if self.region and self.regions:
            return [("regions", "give either regions: [A, B] or region: A, not both")]
        if self.regions is not None and (
            len(self.regions) != 2 or self.regions[0] == self.regions[1]
        ):
            return [("regions", f"needs two different regions, got {self.regions}")]
        return []

    def slots(self, regions: list[str]) -> set[str]:
        out: set[str] = set()
        for a, b in self.pairs(regions):
            out.add(f"partition:{a}->{b}")
            if not self.one_way:
                out.add(f"partition:{b}->{a}")
        return out

    def control_bodies(self, regions: list[str]) -> list[dict[str, Any]]:
        return [
            {"fault": "partition", "regions": [a, b], "one_way": self.one_way}
            for a, b in self.pairs(regions)
        ]

    # Client side: writers cannot cut replication. A client-side partition cuts the writers
    # homed on one side off from the regions on the other (failover calls, lag probes that
    # observe one region from another); replication itself is untouched (docs/chaos.md).
    def apply_client(self, conditions: ClientConditions, regions: list[str]) -> None:
        for a, b in self.pairs(regions):
            conditions.set_partition([a, b], True)

    def heal_client(self, conditions: ClientConditions, regions: list[str]) -> None:
        for a, b in self.pairs(regions):
            conditions.set_partition([a, b], False)

    def draw(self, rng: random.Random, regions: list[str]) -> dict[str, Any]:
        if self.region or self.regions:
            return {}
        return {"regions": rng.sample(regions, 2)}


class RegionOutage(FaultSpec):
    """The region refuses every request and stops replicating."""

    name: ClassVar[str] = "region_outage"
    fault: Literal["region_outage"] = "region_outage"
    region: str | None = None

    def control_bodies(self, regions: list[str]) -> list[dict[str, Any]]:
        return [{"fault": "region_outage", "region": self.region}]

    def apply_client(self, conditions: ClientConditions, regions: list[str]) -> None:
        conditions.set_outage(str(self.region), True)

    def heal_client(self, conditions: ClientConditions, regions: list[str]) -> None:
        conditions.set_outage(str(self.region), False)


class RegionLatency(FaultSpec):
    """Every request to the region takes `latency` longer."""

    name: ClassVar[str] = "region_latency"
    durations: ClassVar[tuple[str, ...]] = ("latency",)
    fault: Literal["region_latency"] = "region_latency"
    region: str | None = None
    latency: Duration | None = None

    def required(self) -> list[str]:
        return ["region", "latency"]

    def problems(self, regions: list[str]) -> list[Problem]:
        return _limit("latency", self.latency, 0.0, MAX_LATENCY_S, "latency")

    def control_bodies(self, regions: list[str]) -> list[dict[str, Any]]:
        return [{"fault": "region_latency", "region": self.region, "latency_s": self.latency}]

    def apply_client(self, conditions: ClientConditions, regions: list[str]) -> None:
        conditions.set_latency(str(self.region), self.latency or 0.0)

    def heal_client(self, conditions: ClientConditions, regions: list[str]) -> None:
        conditions.set_latency(str(self.region), 0.0)

    def draw(self, rng: random.Random, regions: list[str]) -> dict[str, Any]:
        out = super().draw(rng, regions)
        if self.latency is None:
            out["latency"] = round(rng.uniform(0.05, 1.0), 3)
        return out


#: fault name -> class: the one registry of faults
FAULTS: dict[str, type[FaultSpec]] = {
    cls.name: cls for cls in (ClockSkew, ReplicationDelay, Partition, RegionOutage, RegionLatency)
}

#: Where each fault acts: fault -> placement -> the injectors that apply it, in order.
#: Placements: "control" (emulator targets, and endpoints targets naming a control URL),
#: "endpoints" (plain DynamoDB-compatible endpoints), "aws" (a real global table),
#: "pglogical" (a pglogical mesh of clusters hothot started), "pglogical_dsn" (a mesh reached
#: through DSNs only: what SQL can do). A missing placement means the fault cannot be applied
#: there (refused at validation).
PLACEMENT: dict[str, dict[str, tuple[str, ...]]] = {
    "clock_skew": {
        "control": ("emulator", "client"),
        "endpoints": ("client",),
        "aws": ("client",),
        "pglogical": ("pglogical", "client"),
    },
    "replication_delay": {
        "control": ("emulator",),
        "pglogical": ("pglogical",),
        "pglogical_dsn": ("pglogical",),
    },
    "partition": {
        "control": ("emulator",),
        "endpoints": ("client",),
        "aws": ("aws",),
        "pglogical": ("pglogical",),
        "pglogical_dsn": ("pglogical",),
    },
    "region_outage": {
        "control": ("emulator",),
        "endpoints": ("client",),
        "aws": ("client",),
        "pglogical": ("pglogical",),
    },
    "region_latency": {
        "control": ("emulator",),
        "endpoints": ("client",),
        "aws": ("client",),
        "pglogical": ("client",),
        "pglogical_dsn": ("client",),
    },
}


def placement(target_kind: str, has_control: bool) -> str:
    """The PLACEMENT column for a target: emulators and controlled endpoints act alike; a
    pglogical mesh is under control when hothot started its clusters."""
    if target_kind == "emulator" or (target_kind == "endpoints" and has_control):
        return "control"
    if target_kind == "pglogical" and not has_control:
        return "pglogical_dsn"
    return target_kind


def injectors_for(fault: str, target_kind: str, has_control: bool) -> tuple[str, ...]:
    return PLACEMENT.get(fault, {}).get(placement(target_kind, has_control), ())
