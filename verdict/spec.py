"""Campaign-file models of the verdict: `budgets:` entries and `verdict:` options."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from verdict.budgets import METRICS
from verdict.history import Duration, format_duration, parse_duration


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

    @model_validator(mode="before")
    @classmethod
    def _units(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("metric") in METRICS and "max" in data:
            unit = METRICS[data["metric"]].unit
            raw = data["max"]
            if unit == "seconds":
                data = {**data, "max": parse_duration(raw)}
            elif unit == "rate" and isinstance(raw, str) and raw.strip().endswith("%"):
                data = {**data, "max": float(raw.strip()[:-1]) / 100}
        return data

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
    staleness_bound: Duration = 1.0
    #: how many first examples of each anomaly the report keeps
    examples: int = 10
    #: a budget whose metric has no data fails instead of passing
    fail_on_no_data: bool = False
