"""Campaign-file models of the verdict: `budgets:` entries and `verdict:` options."""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from units import Duration, format_duration, parse_duration
from verdict.budgets import METRICS


class BudgetSpec(BaseModel):
    """`{metric, max, workload?, region?, link?}`: the budget holds while observed <= max."""

    model_config = ConfigDict(extra="forbid")

    metric: str
    max: float
    workload: str | None = None
    region: str | None = None
    link: str | None = None

    @field_validator("metric")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in METRICS:
            raise ValueError(
                f"unknown budget metric {v!r}; known metrics: {', '.join(sorted(METRICS))}"
            )
        return v

    #: where the budget was written ("budgets.yaml:4: budgets[1]"), for later errors
    _origin: str = PrivateAttr(default="")

    @field_validator("max", mode="before")
    @classmethod
    def _units(cls, raw: Any, info: ValidationInfo) -> Any:
        """`max` in the metric's unit: `3s`/`800ms` for seconds, `5%` for rates."""
        metric = info.data.get("metric")
        if metric not in METRICS:
            return raw
        unit = METRICS[metric].unit
        if unit == "seconds":
            return parse_duration(raw)
        if unit == "rate" and isinstance(raw, str) and raw.strip().endswith("%"):
            try:
                return float(raw.strip()[:-1]) / 100
            except ValueError:
                raise ValueError(f"not a percentage: {raw!r}") from None
        return raw

    @field_validator("max")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not 0 <= v < float("inf"):  # nan and inf compare with nothing usefully
            raise ValueError(f"max must be a finite number of at least 0, got {v}")
        return v

    @model_validator(mode="after")
    def _filters(self) -> BudgetSpec:
        allowed = METRICS[self.metric].filters
        used = {f for f in ("workload", "region", "link") if getattr(self, f) is not None}
        if used - allowed:
            bad = ", ".join(sorted(used - allowed))
            ok = ", ".join(sorted(allowed)) or "none"
            raise ValueError(f"metric {self.metric!r} cannot be filtered by {bad} (it takes: {ok})")
        return self

    @property
    def label(self) -> str:
        """`lost_update_rate{workload=home_region} <= 0`: the budget's name in reports."""
        filters = ",".join(
            f"{f}={getattr(self, f)}" for f in ("workload", "region", "link") if getattr(self, f)
        )
        limit = (
            format_duration(self.max) if METRICS[self.metric].unit == "seconds" else f"{self.max:g}"
        )
        return f"{self.metric}{{{filters}}} <= {limit}" if filters else f"{self.metric} <= {limit}"


class VerdictOptions(BaseModel):
    """The campaign's `verdict:` section."""

    model_config = ConfigDict(extra="forbid")

    #: a read older than this (behind the newest version) counts as a stale read
    staleness_bound: Duration = Field(1.0, ge=0, le=3600)
    #: how many first examples of each anomaly the report keeps
    examples: int = Field(10, ge=0, le=10_000)
    #: a budget whose metric has no data fails instead of passing
    fail_on_no_data: bool = False
