"""The faults chaos can apply through the control API. One pydantic model per fault,
registered in `FAULTS`; `impose` writes the fault's effect into a `FaultEffects`, which the
engine recomputes from the active faults after every apply or heal (so healing one fault never
undoes another)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

#: upper bounds of the control API (docs/emulator.md): a fault beyond them is a typo or an
#: attack, and unbounded values break the emulator's arithmetic (a clock strobing every
#: 1e-320 s, an image due in 1e308 s). Campaigns have tighter bounds (docs/chaos.md).
MAX_OFFSET_S = 86_400.0
MAX_DRIFT_PPM = 1_000_000.0
MIN_STROBE_S = 0.001
MAX_STROBE_S = 86_400.0
MAX_DELAY_S = 3_600.0
MAX_LATENCY_S = 600.0


@dataclass
class FaultEffects:
    regions: list[str]
    clocks: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    delays: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    paused: set[tuple[str, str]] = field(default_factory=set)
    outages: set[str] = field(default_factory=set)
    latency: dict[str, float] = field(default_factory=dict)


class Fault(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)
    name: ClassVar[str]
    #: the applier's own name for the fault, echoed by GET /state: a fault id is the
    #: emulator's, so a client that died before reading it finds its faults by label
    label: str | None = Field(default=None, min_length=1, max_length=200)

    def regions_named(self) -> list[str]:
        raise NotImplementedError

    def target(self) -> str:
        raise NotImplementedError

    def impose(self, fx: FaultEffects) -> None:
        raise NotImplementedError


class ClockSkew(Fault):
    name = "clock_skew"
    fault: Literal["clock_skew"]
    region: str
    offset_s: float = Field(ge=-MAX_OFFSET_S, le=MAX_OFFSET_S)
    drift_ppm: float = Field(0.0, ge=-MAX_DRIFT_PPM, le=MAX_DRIFT_PPM)
    strobe_period_s: float = Field(0.0, ge=0, le=MAX_STROBE_S)

    @field_validator("strobe_period_s")
    @classmethod
    def _strobe(cls, value: float) -> float:
        if 0 < value < MIN_STROBE_S:
            raise ValueError(f"must be 0 (no strobe) or at least {MIN_STROBE_S:g} s")
        return value

    def regions_named(self) -> list[str]:
        return [self.region]

    def target(self) -> str:
        return self.region

    def impose(self, fx: FaultEffects) -> None:
        fx.clocks[self.region] = (self.offset_s, self.drift_ppm, self.strobe_period_s)


class ReplicationDelay(Fault):
    name = "replication_delay"
    fault: Literal["replication_delay"]
    source: str = Field(alias="from")
    dest: str = Field(alias="to")
    delay_s: float = Field(ge=0, le=MAX_DELAY_S)
    jitter_s: float = Field(0.0, ge=0, le=MAX_DELAY_S)

    def regions_named(self) -> list[str]:
        return [self.source, self.dest]

    def target(self) -> str:
        return f"{self.source}->{self.dest}"

    def impose(self, fx: FaultEffects) -> None:
        fx.delays[(self.source, self.dest)] = (self.delay_s, self.jitter_s)


class Partition(Fault):
    name = "partition"
    fault: Literal["partition"]
    regions: list[str] = Field(min_length=2, max_length=2)
    one_way: bool = False

    def regions_named(self) -> list[str]:
        return list(self.regions)

    def target(self) -> str:
        a, b = self.regions
        return f"{a}->{b}" if self.one_way else f"{a}<->{b}"

    def impose(self, fx: FaultEffects) -> None:
        a, b = self.regions
        fx.paused.add((a, b))
        if not self.one_way:
            fx.paused.add((b, a))


class RegionOutage(Fault):
    name = "region_outage"
    fault: Literal["region_outage"]
    region: str

    def regions_named(self) -> list[str]:
        return [self.region]

    def target(self) -> str:
        return self.region

    def impose(self, fx: FaultEffects) -> None:
        fx.outages.add(self.region)
        for other in fx.regions:
            if other != self.region:
                fx.paused.add((self.region, other))
                fx.paused.add((other, self.region))


class RegionLatency(Fault):
    name = "region_latency"
    fault: Literal["region_latency"]
    region: str
    latency_s: float = Field(ge=0, le=MAX_LATENCY_S)

    def regions_named(self) -> list[str]:
        return [self.region]

    def target(self) -> str:
        return self.region

    def impose(self, fx: FaultEffects) -> None:
        fx.latency[self.region] = self.latency_s


FAULTS: dict[str, type[Fault]] = {
    cls.name: cls for cls in (ClockSkew, ReplicationDelay, Partition, RegionOutage, RegionLatency)
}


class FaultError(ValueError):
    """A control call the emulator cannot apply; the message says what and where."""


def parse_fault(body: Any, regions: list[str]) -> Fault:
    if not isinstance(body, dict):
        raise FaultError('fault body must be a JSON object like {"fault": "partition", ...}')
    kind = body.get("fault")
    cls = FAULTS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise FaultError(f"unknown fault {kind!r}; known faults: {', '.join(FAULTS)}")
    try:
        fault = cls.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(_problem(cls, err) for err in exc.errors())
        raise FaultError(f"fault {kind}: {problems}") from None
    named = fault.regions_named()
    for region in named:
        if region not in regions:
            raise FaultError(f"fault {kind}: unknown region {region!r}; regions: {regions}")
    if len(set(named)) != len(named):
        raise FaultError(f"fault {kind}: a region cannot be paired with itself ({named})")
    return fault


def _problem(cls: type[Fault], err: Any) -> str:
    """`delay_s: 1e+308 is outside 0..3600`: the field, what was sent and what is allowed."""
    where = ".".join(str(p) for p in err["loc"]) or "body"
    message = err["msg"].removeprefix("Value error, ")
    bounds = _bounds(cls, str(err["loc"][0])) if err["loc"] else None
    if bounds is not None and err["type"] in _RANGE_ERRORS:
        return f"{where}: {err['input']!r} is outside {bounds[0]:g}..{bounds[1]:g}"
    return f"{where}: {message}"


_RANGE_ERRORS = {"greater_than_equal", "less_than_equal", "finite_number"}


def _bounds(cls: type[Fault], name: str) -> tuple[float, float] | None:
    """A numeric field's [ge, le] from its pydantic metadata (by field name or alias)."""
    for field_name, info in cls.model_fields.items():
        if name in (field_name, info.alias):
            low = next((m.ge for m in info.metadata if hasattr(m, "ge")), None)
            high = next((m.le for m in info.metadata if hasattr(m, "le")), None)
            return None if low is None or high is None else (low, high)
    return None
