"""Campaign-file models of the verdict: `budgets:` entries and `verdict:` options."""

from __future__ import annotations

from typing import Any, Literal

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
from verdict.budgets import FILTERS, METRICS


class BudgetSpec(BaseModel):
    """`{metric, max, <filters>, confidence?, abort_on_fail?}`: the budget holds while the
    observed figure (with `confidence`: its interval's upper bound) is at most `max`."""

    model_config = ConfigDict(extra="forbid")

    metric: str
    max: float
    workload: str | None = None
    region: str | None = None
    link: str | None = None
    op: Literal["put", "update", "delete", "get"] | None = None
    error: str | None = None
    #: holds only when the upper bound of the figure's interval at this level is within max
    confidence: float | None = None
    #: stop the load as soon as the budget can no longer hold (k6's abortOnFail)
    abort_on_fail: bool = False

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

    @field_validator("confidence")
    @classmethod
    def _confidence(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is None:
            return None
        if not 0 < value < 1:
            raise ValueError(f"a confidence is strictly between 0 and 1 (e.g. 0.95), got {value:g}")
        metric = info.data.get("metric")
        if metric in METRICS and not METRICS[metric].has_interval:
            raise ValueError(
                f"{metric} has no interval: confidence applies to rates and latency percentiles"
            )
        return value

    @field_validator("abort_on_fail")
    @classmethod
    def _live(cls, value: bool, info: ValidationInfo) -> bool:
        metric = info.data.get("metric")
        if value and metric in METRICS and not METRICS[metric].live:
            live = ", ".join(sorted(n for n, m in METRICS.items() if m.live))
            raise ValueError(
                f"{metric} is only known once the run is over, so it cannot stop the load "
                f"(abort_on_fail works on {live})"
            )
        return value

    @model_validator(mode="after")
    def _filters(self) -> BudgetSpec:
        allowed = METRICS[self.metric].filters
        used = {f for f in FILTERS if getattr(self, f) is not None}
        if used - allowed:
            bad = ", ".join(sorted(used - allowed))
            ok = ", ".join(sorted(allowed)) or "none"
            raise ValueError(f"metric {self.metric!r} cannot be filtered by {bad} (it takes: {ok})")
        return self

    @property
    def name(self) -> str:
        """`lost_update_rate{workload=home_region}`: the metric and its filters, the `budget`
        label of the live metrics (loadgen.metrics.budget_label spells it alike)."""
        filters = ",".join(f"{f}={getattr(self, f)}" for f in FILTERS if getattr(self, f))
        return f"{self.metric}{{{filters}}}" if filters else self.metric

    @property
    def label(self) -> str:
        """`lost_update_rate{workload=home_region} <= 0`: the budget's name in reports (with
        `@95%` when it holds on an interval's upper bound)."""
        limit = (
            format_duration(self.max) if METRICS[self.metric].unit == "seconds" else f"{self.max:g}"
        )
        sure = f" @{self.confidence:.0%}" if self.confidence is not None else ""
        return f"{self.name} <= {limit}{sure}"

    @property
    def filter_values(self) -> dict[str, str | None]:
        return {f: getattr(self, f) for f in FILTERS}


class VerdictOptions(BaseModel):
    """The campaign's `verdict:` section."""

    model_config = ConfigDict(extra="forbid")

    #: a read older than this (behind the newest version) counts as a stale read
    staleness_bound: Duration = Field(1.0, ge=0, le=3600)
    #: how many first examples of each anomaly the report keeps
    examples: int = Field(10, ge=0, le=10_000)
    #: a budget whose metric has no data fails instead of passing
    fail_on_no_data: bool = False
