"""The campaign file's `writers`, `workloads` and `observe` sections (DESIGN §6).

`hothot/campaign.py` composes these models; they live here because loadgen is what reads them.
A workload's own options sit flat beside the common fields (`{kind: split_attributes,
attributes: [address, phone]}`) and are checked against the workload class's `Options` model,
so a misspelt option fails validation naming the workload and the option.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from units import Duration, Rate, Size

_REGION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")

#: upper bounds (README "Limits"): beyond them a value is a typo, and some would exhaust the
#: machine before the run says anything (a zipf table of 10^38 keys, 10^23 users)
MAX_USERS_PER_REGION = 10_000
MAX_SPAWN_RATE = 10_000.0
MAX_RETRIES = 10
MAX_TIMEOUT_S = 600.0
MAX_THINK_TIME_S = 3600.0
MAX_WEIGHT = 1_000_000.0
MAX_KEYS = 1_000_000_000
#: zipf keeps a cumulative weight per key (8 bytes and more each)
MAX_ZIPF_KEYS = 1_000_000
MAX_ZIPF_S = 10.0
#: DynamoDB's item limit
MAX_ITEM_SIZE = 400 * 1024
MIN_PROBE_INTERVAL_S = 0.001
MAX_PROBE_INTERVAL_S = 3600.0
#: ramps of the open model
MAX_STAGES = 100
#: the highest rate accepted, per region: far beyond one machine (a fast-client worker
#: process drives a few thousand operations a second), so a larger figure is a typo
MAX_RATE = 100_000.0
#: users per region of the closed model when neither `per_region` nor a rate is given
DEFAULT_USERS = 8


def _check_rate(rate: float, zero: bool = False) -> float:
    if rate != rate or rate < 0 or (rate == 0 and not zero):  # NaN too
        raise ValueError(f"a rate must be above 0/s, got {rate:g}/s")
    if rate > MAX_RATE:
        raise ValueError(f"at most {MAX_RATE:g}/s per region, got {rate:g}/s")
    return rate


class Stage(BaseModel):
    """One of `writers.stages`: the rate moves linearly to `rate` over `for` (k6's stages)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    for_: Duration = Field(alias="for", ge=0, description="how long the ramp lasts (0s: a step)")
    rate: Rate = Field(description="the rate reached at the stage's end (0/s allowed)")

    @field_validator("rate")
    @classmethod
    def _rate(cls, value: float) -> float:
        return _check_rate(value, zero=True)


class WritersSpec(BaseModel):
    """Who writes: Locust users pinned to regions (closed model), or operations started at a
    rate in each region (open model: `rate`, `stages`, `max_in_flight`)."""

    model_config = ConfigDict(extra="forbid")

    per_region: int | None = Field(
        None,
        ge=0,
        le=MAX_USERS_PER_REGION,
        description=f"closed model: Locust users per region, each as fast as the target "
        f"answers (machine-dependent; {DEFAULT_USERS} when no rate is given)",
    )
    rate: Rate | None = Field(
        None,
        description="open model: operations started per second in each region, split over "
        "the workloads by weight (the start rate when `stages` are given)",
    )
    stages: list[Stage] | None = Field(
        None,
        max_length=MAX_STAGES,
        description="open model: ramps, k6-style; together they last the duration",
    )
    max_in_flight: int = Field(
        64,
        ge=1,
        le=100_000,
        description="open model: operations in flight per region at most; an arrival that "
        "finds none free is dropped and counted",
    )
    client: Literal["boto3", "fast"] = "boto3"
    failover: str = Field(
        "none",
        description="where a writer goes when its region is unreachable: none, nearest, or a region",
    )
    spawn_rate: float = Field(
        50.0, gt=0, le=MAX_SPAWN_RATE, description="closed model: users started per second"
    )
    retries: int = Field(
        0, ge=0, le=MAX_RETRIES, description="client retries; 0 keeps the history honest"
    )
    timeout: Duration = Field(
        5.0, gt=0, le=MAX_TIMEOUT_S, description="per-call connect/read timeout"
    )
    think_time: Duration = Field(
        0.0,
        ge=0,
        le=MAX_THINK_TIME_S,
        description="closed model: pause between a user's operations",
    )
    abort_when_all_fail: Duration = Field(
        30.0,
        ge=0,
        description="stop the load early once every operation has failed for this long "
        "(the target is not reached at all); 0: never",
    )

    @field_validator("failover")
    @classmethod
    def _failover_shape(cls, value: str) -> str:
        if not _REGION_NAME.match(value):
            raise ValueError(f"failover must be none, nearest or a region name, got {value!r}")
        return value

    @field_validator("rate")
    @classmethod
    def _rate(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is None:
            return None
        if info.data.get("per_region") is not None:
            raise ValueError(_BOTH)
        return _check_rate(value)

    @field_validator("stages")
    @classmethod
    def _stages(cls, value: list[Stage] | None, info: ValidationInfo) -> list[Stage] | None:
        if value is None:
            return None
        if info.data.get("per_region") is not None:
            raise ValueError(_BOTH)
        if not value:
            raise ValueError("give at least one stage, or leave `stages` out")
        if all(stage.rate == 0 for stage in value) and not info.data.get("rate"):
            raise ValueError("every stage's rate is 0/s: nothing would run")
        return value

    @model_validator(mode="after")
    def _closed_default(self) -> WritersSpec:
        if self.per_region is None and not self.open:
            self.per_region = DEFAULT_USERS
        return self

    @property
    def open(self) -> bool:
        """Open model: operations start at a rate, whatever the target answers."""
        return self.rate is not None or self.stages is not None

    @property
    def stop_timeout(self) -> float:
        """How long a stopping load waits for the operations in flight: a stopping user
        finishes its operation, so that no write that was sent goes unrecorded."""
        return float(self.timeout) * 8 + 1.0

    @property
    def users(self) -> int:
        """Closed model: Locust users per region (0 in the open model)."""
        return 0 if self.open else int(self.per_region or 0)


_BOTH = "`rate` (open model) and `per_region` (closed model) exclude each other: give one"


class WorkloadSpec(BaseModel):
    """One workload of the mix. Unknown fields are the workload kind's own options."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="a registered workload name or a dotted path to a class")
    name: str = Field("", description="name in the history and the verdict; default: kind")
    weight: float = Field(1.0, ge=0, le=MAX_WEIGHT)
    keys: int = Field(100, ge=1, le=MAX_KEYS, description="number of distinct items")
    key_distribution: Literal["uniform", "zipf"] = "uniform"
    zipf_s: float = Field(
        1.1, gt=0, le=MAX_ZIPF_S, description="zipf exponent: larger = hotter hot keys"
    )
    item_size: Size = Field(
        0, ge=0, le=MAX_ITEM_SIZE, description="pad items to about this size (0: no padding)"
    )
    options: dict[str, Any] = Field(default_factory=dict, description="kind-specific options")

    @model_validator(mode="before")
    @classmethod
    def _gather_options(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        common = set(cls.model_fields)
        extra = {k: v for k, v in data.items() if k not in common}
        if not extra:
            return data
        kept = {k: v for k, v in data.items() if k in common}
        kept["options"] = {**dict(data.get("options") or {}), **extra}
        return kept

    @model_validator(mode="after")
    def _check_kind_and_options(self) -> WorkloadSpec:
        from loadgen.workloads import resolve  # late: workloads load when a kind is checked

        if not self.name:  # a dotted kind (`pkg.mod.Class` or `pkg.mod:Class`): the class name
            self.name = re.split(r"[.:]", self.kind)[-1]
        if "#" in self.name:
            raise ValueError(f"workload name {self.name!r} may not contain '#'")
        if self.key_distribution == "zipf" and self.keys > MAX_ZIPF_KEYS:
            raise ValueError(
                f"keys: {self.keys} is more than {MAX_ZIPF_KEYS:,}, the most a zipf key "
                "distribution takes (it keeps a weight per key); use uniform for more keys"
            )
        workload_class = resolve(self.kind)
        try:
            parsed = workload_class.Options.model_validate(self.options)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}"
                for e in exc.errors()
            )
            raise ValueError(f"workload {self.name!r} ({self.kind}): {problems}") from None
        self.options = parsed.model_dump()
        return self


class ObserveSpec(BaseModel):
    """Live observation: metrics endpoint and lag probes."""

    model_config = ConfigDict(extra="forbid")

    metrics_port: int | None = Field(9646, ge=0, le=65535, description="None: no endpoint")
    probe_interval: Duration = Field(
        0.1,
        ge=MIN_PROBE_INTERVAL_S,
        le=MAX_PROBE_INTERVAL_S,
        description="heartbeat period per region",
    )
    probe_sample: float = Field(
        0.01, ge=0, le=1, description="fraction of real writes polled until visible elsewhere"
    )
    grafana_url: str | None = None
    pushgateway: str | None = None
