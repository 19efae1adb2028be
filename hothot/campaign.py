"""The campaign file (DESIGN §6): each part's section model composed into one, loaded with
file:line:field errors, `--set` overrides, and a resolved copy for the report directory."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from chaos.spec import ChaosSpec
from hothot.target import Target
from hothot.targetspec import AUTO, TargetSpec
from loadgen.plan import LoadPlan
from loadgen.spec import ObserveSpec, WorkloadSpec, WritersSpec
from loadgen.workloads import build_workloads
from units import Duration, format_duration
from units.yamlpos import PathKey, YamlError, line_of, load_text, load_with_lines, loc_text
from verdict.cost import CostSpec
from verdict.spec import BudgetSpec, VerdictOptions

#: counts of a campaign's lists (README "Limits")
MAX_WORKLOADS = 100
MAX_BUDGETS = 1000


class ReportSpec(BaseModel):
    """Where reports go: a relative path inside the directory hothot runs in. A campaign file
    may come from anyone; writing elsewhere is the operator's choice (`--report-dir`)."""

    model_config = ConfigDict(extra="forbid")
    dir: str = Field("reports", min_length=1, max_length=1024)

    @field_validator("dir")
    @classmethod
    def _inside_cwd(cls, value: str) -> str:
        path = PurePath(value)
        if path.is_absolute() or ".." in path.parts or "\0" in value:
            raise ValueError(
                f"{value!r} leaves the working directory; report.dir is a relative path "
                "inside it (give --report-dir to write elsewhere)"
            )
        return value


class Campaign(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)
    #: what the campaign shows, repeated on the run's last line (e.g. that it fails on purpose)
    description: str = Field("", max_length=300)
    seed: int = Field(0, ge=-(2**63), le=2**63 - 1)
    duration: Duration
    target: TargetSpec = Field(default_factory=TargetSpec)
    writers: WritersSpec = Field(default_factory=WritersSpec)
    workloads: list[WorkloadSpec] = Field(min_length=1, max_length=MAX_WORKLOADS)
    chaos: ChaosSpec = Field(default_factory=ChaosSpec)
    budgets: list[BudgetSpec] = Field(default_factory=list, max_length=MAX_BUDGETS)
    observe: ObserveSpec = Field(default_factory=ObserveSpec)
    report: ReportSpec = Field(default_factory=ReportSpec)
    verdict: VerdictOptions = Field(default_factory=VerdictOptions)
    cost: CostSpec = Field(default_factory=CostSpec)

    @field_validator("duration")
    @classmethod
    def _positive(cls, v: float) -> float:
        if not 0 < v <= 7 * 24 * 3600:
            raise ValueError("duration must be more than 0s and at most a week")
        return v


class CampaignError(ValueError):
    """Every problem found, one per line, each `file:line: field: message`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _override_path(dotted: str) -> PathKey:
    """`chaos.0.at`, or `chaos[0].at` as error messages spell the same place."""
    return tuple(int(p) if p.isdigit() else p for p in _split_loc(dotted))


def _set(data: dict[str, Any], dotted: str, raw: str) -> None:
    """`--set writers.client=fast` / `--set workloads.0.keys=10`; the value is YAML."""
    value = load_text(raw, f"--set {dotted}")[0] if raw.strip() else ""
    parts = list(_override_path(dotted))
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        if isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        elif isinstance(node, dict):
            node = node.setdefault(part, [] if isinstance(nxt, int) else {})
        else:
            raise ValueError(f"--set {dotted}: {loc_text(tuple(parts[: i + 1]))} does not exist")
    last = parts[-1]
    if (
        isinstance(node, list)
        and isinstance(last, int)
        and last < len(node)
        or isinstance(node, dict)
    ):
        node[last] = value
    else:
        raise ValueError(f"--set {dotted}: cannot set {loc_text(tuple(parts))}")


def _cross_checks(c: Campaign) -> list[tuple[PathKey, str]]:
    """Rules that span sections (each section's model checks itself)."""
    from chaos import validate as validate_chaos

    problems: list[tuple[PathKey, str]] = []
    regions = c.target.regions
    names = [w.name for w in c.workloads]
    for i, name in enumerate(names):
        if names.index(name) != i:
            problems.append((("workloads", i, "name"), f"workload name {name!r} is used twice"))
    built = {}
    if len(set(names)) == len(names):
        try:  # what depends on the regions (reader targets, home_region key counts)
            built = build_workloads(c.workloads, regions)
        except ValueError as exc:
            problems.append((("workloads",), str(exc)))
    failover = c.writers.failover
    if failover not in ("none", "nearest") and failover not in regions:
        problems.append((("writers", "failover"), f"unknown region {failover!r}"))
    stages = c.writers.stages
    if stages and abs(sum(stage.for_ for stage in stages) - c.duration) > 1e-6:
        total = sum(stage.for_ for stage in stages)
        problems.append((
            ("writers", "stages"),
            f"the stages last {format_duration(total)} and the campaign "
            f"{format_duration(c.duration)}: together they must last exactly the duration",
        ))  # fmt: skip
    for i, b in enumerate(c.budgets):
        if b.workload is not None and b.workload not in names:
            problems.append(
                (("budgets", i, "workload"), f"unknown workload {b.workload!r} (have {names})")
            )
        if b.region is not None and b.region not in regions:
            problems.append((("budgets", i, "region"), f"unknown region {b.region!r}"))
        issuing = [w for w in built.values() if b.workload in (None, w.name)]
        if b.op is not None and issuing and not any(b.op in w.ops for w in issuing):
            made = "; ".join(f"{w.name}: {', '.join(sorted(w.ops))}" for w in issuing)
            problems.append((("budgets", i, "op"), f"no workload issues {b.op} ({made})"))
    for msg in validate_chaos(
        c.chaos,
        regions=regions,
        target_kind=c.target.kind,
        has_control=c.target.has_control,
        allow_real_aws=c.target.allow_real_aws,
        duration=c.duration,
    ):
        field, _, text = msg.partition(": ")
        loc: PathKey = tuple(int(p) if p.isdigit() else p for p in _split_loc(field))
        problems.append((loc, text or msg))
    return problems


def _split_loc(field: str) -> list[str]:
    return [p for p in field.replace("[", ".").replace("]", "").split(".") if p]


def parse_campaign(
    data: Any,
    *,
    source: str = "<campaign>",
    lines: dict[PathKey, int] | None = None,
    overrides: dict[PathKey, str] | None = None,
) -> Campaign:
    """`overrides` maps each `--set` path to its argument, so a problem in an overridden value
    names the `--set` that caused it, not the file line holding the value it replaced."""
    lines = lines or {}
    overrides = overrides or {}

    def where(loc: PathKey) -> str:
        line = line_of(lines, loc)
        here = f"{source}:{line}" if line else source
        for path, item in overrides.items():
            if loc[: len(path)] == path:
                return f"--set {item}"
            if loc and path[: len(loc)] == loc:  # the problem is in a section the --set changed
                return f"{here} (with --set {item})"
        return here

    if not isinstance(data, dict):
        raise CampaignError([f"{source}: a campaign is a YAML mapping (name, duration, ...)"])
    try:
        campaign = Campaign.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
            msg = err["msg"].removeprefix("Value error, ")  # pydantic's wrapper, not the user's
            problems.append(f"{where(loc)}: {loc_text(loc)}: {msg}")
        raise CampaignError(problems) from None
    cross = _cross_checks(campaign)
    if cross:
        raise CampaignError([f"{where(loc)}: {loc_text(loc)}: {msg}" for loc, msg in cross])
    return campaign


def load_campaign(path: str | Path, overrides: list[str] | None = None) -> Campaign:
    """Read, override, validate. Raises CampaignError naming file, line and field."""
    path = Path(path)
    try:
        data, lines = load_with_lines(path)
    except YamlError as exc:
        raise CampaignError(exc.problems) from None
    applied: dict[PathKey, str] = {}
    for item in overrides or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise CampaignError([f"--set {item!r}: expected key=value"])
        if not isinstance(data, dict):
            data = {}
        try:
            _set(data, key.strip(), raw)
        except YamlError as exc:
            raise CampaignError(exc.problems) from None
        except ValueError as exc:
            raise CampaignError([str(exc)]) from None
        applied[_override_path(key.strip())] = item
    return parse_campaign(data, source=str(path), lines=lines, overrides=applied)


def resolved_yaml(campaign: Campaign, *, chaos: Any = None) -> str:
    """The campaign as run: defaults filled in, durations in seconds, ready to replay.
    `chaos` replaces the chaos section (the runner passes the schedule random mode drew)."""
    data = campaign.model_dump(mode="json", by_alias=True)
    if chaos is not None:
        aws = data.get("chaos", {}).get("aws")
        data["chaos"] = {"faults": chaos, "aws": aws} if aws else chaos
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def new_report_dir(campaign: Campaign, explicit: str | Path | None) -> Path:
    if explicit is not None:
        path = Path(explicit)
    else:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        path = Path(campaign.report.dir) / f"{campaign.name}-{stamp}"
        n = 1
        while path.exists():
            n += 1
            path = Path(campaign.report.dir) / f"{campaign.name}-{stamp}-{n}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_plan(campaign: Campaign, target: Target, worker: str = "w0") -> LoadPlan:
    """The load of a campaign whose key prefix was resolved (`CampaignRun` does it)."""
    prefix = campaign.target.key_prefix or ""
    if prefix == AUTO:
        raise ValueError("target.key_prefix 'auto' must be resolved to the run's prefix first")
    return LoadPlan(
        regions=list(campaign.target.regions),
        endpoints=dict(target.endpoints),
        table=campaign.target.table,
        seed=campaign.seed,
        writers=campaign.writers,
        workloads=list(campaign.workloads),
        observe=campaign.observe,
        worker=worker,
        store_kind="pglogical" if campaign.target.kind == "pglogical" else "dynamodb",
        key_prefix=prefix,
        duration=campaign.duration,
    )
