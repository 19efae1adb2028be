"""The faults: one pydantic class each, registered in `FAULTS`.

A fault class knows everything about itself: its campaign-file fields, its sanity limits, where
it acts (`acts`: which injectors apply it on which target) and what those injectors cannot do
of it, the control-API bodies that apply it on a hothot emulator, what it does to the writers'
`ClientConditions`, the "slots" it occupies (two faults holding one slot at once contradict
each other) and how random mode fills in what a template leaves out. Adding a fault is one
class here and one entry in `FAULTS`.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar, Literal

from pydantic import Field

from chaos.fault_base import (
    MAX_DELAY_S,
    MAX_DRIFT_PPM,
    MAX_LATENCY_S,
    MAX_OFFSET_S,
    MAX_WINDOW_S,
    MIN_STROBE_S,
    ClientConditions,
    FaultSpec,
    Problem,
    limit,
    placement,
)
from units import Duration, format_duration

#: a libfaketime jump beyond wal_sender_timeout (60 s by default) drops pglogical's links
MAX_PG_OFFSET_S = 30.0


class ClockSkew(FaultSpec):
    """The region's clock runs `offset` ahead (or behind), optionally drifting or strobing."""

    name: ClassVar[str] = "clock_skew"
    acts: ClassVar[dict[str, tuple[str, ...]]] = {
        "control": ("emulator", "client"),
        "endpoints": ("client",),
        "aws": ("client",),
        "pglogical": ("pglogical", "client"),
    }
    durations: ClassVar[tuple[str, ...]] = ("offset", "strobe")
    fault: Literal["clock_skew"] = "clock_skew"
    region: str | None = None
    offset: Duration | None = None
    drift_ppm: float = 0.0
    strobe: Duration | None = None  # period: the clock jumps back and forth every `strobe`

    def required(self) -> list[str]:
        return ["region", "offset"]

    def problems(self, regions: list[str]) -> list[Problem]:
        out = limit("offset", self.offset, -MAX_OFFSET_S, MAX_OFFSET_S, "clock offset")
        if not abs(self.drift_ppm) <= MAX_DRIFT_PPM:  # nan too
            out.append(("drift_ppm", f"{self.drift_ppm:g} ppm exceeds ±{MAX_DRIFT_PPM:g} ppm"))
        if self.strobe is not None and not MIN_STROBE_S <= self.strobe <= MAX_WINDOW_S:
            out.append(("strobe", f"strobe period must be within 1ms..24h, got {self.strobe:g}s"))
        return out

    def placement_problems(
        self, acting: tuple[str, ...], regions: list[str], target: str
    ) -> list[Problem]:
        if "pglogical" in acting and self.offset is not None and abs(self.offset) > MAX_PG_OFFSET_S:
            return [
                (
                    "offset",
                    f"{format_duration(self.offset)} is beyond ±{MAX_PG_OFFSET_S:g}s on a "
                    "pglogical mesh: a clock jump past wal_sender_timeout (60s) drops its links",
                )
            ]
        return []

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
    acts: ClassVar[dict[str, tuple[str, ...]]] = {
        "control": ("emulator",),
        "pglogical": ("pglogical",),
        "pglogical_dsn": ("pglogical",),
    }
    on_links: ClassVar[bool] = True
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
        out = limit("delay", self.delay, 0.0, MAX_DELAY_S, "replication delay")
        out += limit("jitter", self.jitter, 0.0, MAX_DELAY_S, "jitter")
        if self.from_ and self.from_ == self.to:
            out.append(("to", f"a link needs two regions, got {self.from_} -> {self.to}"))
        return out

    def placement_problems(
        self, acting: tuple[str, ...], regions: list[str], target: str
    ) -> list[Problem]:
        if "pglogical" in acting and self.jitter:
            return [("jitter", "pglogical's apply delay is one fixed value per link; no jitter")]
        return []

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
    acts: ClassVar[dict[str, tuple[str, ...]]] = {
        "control": ("emulator",),
        "endpoints": ("client",),
        "aws": ("aws",),
        "pglogical": ("pglogical",),
        "pglogical_dsn": ("pglogical",),
    }
    on_links: ClassVar[bool] = True
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

    def missing(self) -> list[Problem]:
        if self.region or self.regions:
            return []
        return [("regions", "missing; partition needs regions: [A, B] or region: A")]

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

    def placement_problems(
        self, acting: tuple[str, ...], regions: list[str], target: str
    ) -> list[Problem]:
        """A client-side partition and AWS FIS cut both directions; FIS pauses a whole
        replica, so on more than two regions it can only isolate one."""
        if "client" in acting and self.one_way:
            return [
                (
                    "one_way",
                    f"a client-side partition (on {target}) cuts both directions; "
                    "one_way needs an emulator or a control URL",
                )
            ]
        if "aws" in acting and self.one_way:
            return [("one_way", "AWS FIS pauses replication both ways; one_way is not possible")]
        if "aws" in acting and self.regions and len(regions) > 2:
            return [
                (
                    "regions",
                    f"AWS FIS pauses a whole replica, so on a {len(regions)}-region table a "
                    "partition must isolate one region: use region: A",
                )
            ]
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
    acts: ClassVar[dict[str, tuple[str, ...]]] = {
        "control": ("emulator",),
        "endpoints": ("client",),
        "aws": ("client",),
        "pglogical": ("pglogical",),
    }
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
    acts: ClassVar[dict[str, tuple[str, ...]]] = {
        "control": ("emulator",),
        "endpoints": ("client",),
        "aws": ("client",),
        "pglogical": ("client",),
        "pglogical_dsn": ("client",),
    }
    durations: ClassVar[tuple[str, ...]] = ("latency",)
    fault: Literal["region_latency"] = "region_latency"
    region: str | None = None
    latency: Duration | None = None

    def required(self) -> list[str]:
        return ["region", "latency"]

    def problems(self, regions: list[str]) -> list[Problem]:
        return limit("latency", self.latency, 0.0, MAX_LATENCY_S, "latency")

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


def injectors_for(fault: str, target_kind: str, has_control: bool) -> tuple[str, ...]:
    """The injectors that apply `fault` on a target, in order; () where it cannot act."""
    cls = FAULTS.get(fault)
    return cls.acts.get(placement(target_kind, has_control), ()) if cls else ()
