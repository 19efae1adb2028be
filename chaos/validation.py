"""`chaos.validate`: everything wrong with a parsed `chaos:` section, before anything starts.

Types and unknown fields are pydantic's job (`ChaosSpec.model_validate`); this module checks
what needs the campaign's context: regions, the target kind, the run's duration, opt-ins.
Every message starts with the field path (`chaos[1].region: ...`) so the campaign loader can
point at the file's line.
"""

from __future__ import annotations

import re

from chaos.fault_base import MAX_WINDOW_S, FaultSpec, placement
from chaos.faults import FAULTS, injectors_for
from chaos.schedule import contradiction
from chaos.spec import ChaosSpec
from units import format_duration

_WHERE = {
    "control": "emulator targets and endpoints targets with a control URL",
    "endpoints": "endpoints targets",
    "aws": "aws targets",
    "pglogical": "pglogical targets whose clusters hothot starts",
    "pglogical_dsn": "pglogical targets given by dsn:",
}
_ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:role/\S+$")


def validate(
    spec: ChaosSpec,
    regions: list[str],
    target_kind: str,
    has_control: bool,
    allow_real_aws: bool,
    duration: float,
) -> list[str]:
    """Clear messages for every problem; an empty list means the section can run."""
    errors: list[str] = []
    uses_fis: list[str] = []
    for i, fault in enumerate(spec.faults):
        path = spec.path(i)
        errors += _window(path, fault, duration)
        errors += _fault(path, fault, regions, target_kind, has_control, template=False)
        if "aws" in injectors_for(fault.name, target_kind, has_control):
            uses_fis.append(path)
    for i, j, slot in _contradictions(spec.faults, regions):
        a, b = spec.faults[i], spec.faults[j]
        errors.append(
            f"{spec.path(j)}: {b.name} {_span(b)} contradicts {spec.path(i)} {a.name} "
            f"{_span(a)}: both hold {slot} at once"
        )
    if spec.random is not None:
        errors += _random(spec, regions, target_kind, has_control, uses_fis)
    if uses_fis:
        errors += _fis(spec, allow_real_aws, uses_fis)
    return errors


def _span(fault: FaultSpec) -> str:
    start = fault.at or 0.0
    return f"({format_duration(start)}..{format_duration(start + (fault.for_ or 0.0))})"


def _window(path: str, fault: FaultSpec, duration: float) -> list[str]:
    missing = [k for k, v in (("at", fault.at), ("for", fault.for_)) if v is None]
    if missing:
        return [f"{path}.{k}: missing; every fault needs at: and for:" for k in missing]
    assert fault.at is not None and fault.for_ is not None
    errors = []
    if not 0 <= fault.at <= MAX_WINDOW_S:
        errors.append(f"{path}.at: start {format_duration(fault.at)} must be within 0s..24h")
    if not 0 < fault.for_ <= MAX_WINDOW_S:
        errors.append(f"{path}.for: length {format_duration(fault.for_)} must be within 0s..24h")
    elif fault.at + fault.for_ > duration + 1e-9:
        errors.append(
            f"{path}.for: window {_span(fault)} ends after the run's duration "
            f"{format_duration(duration)}"
        )
    return errors


def _fault(
    path: str,
    fault: FaultSpec,
    regions: list[str],
    target_kind: str,
    has_control: bool,
    template: bool,
) -> list[str]:
    errors = (
        [] if template else [f"{path}.{field}: {message}" for field, message in fault.missing()]
    )
    known = ", ".join(regions)
    errors += [
        f"{path}.{field}: unknown region {region!r}; the target's regions are {known}"
        for field, region in fault.named_regions()
        if region not in regions
    ]
    errors += [f"{path}.{field}: {message}" for field, message in fault.problems(regions)]
    errors += _placement(path, fault, regions, target_kind, has_control)
    return errors


def _placement(
    path: str, fault: FaultSpec, regions: list[str], target_kind: str, has_control: bool
) -> list[str]:
    """Refuse what the target's injectors cannot apply, naming fault and target; what they
    cannot do of an applicable fault, the fault says (`placement_problems`)."""
    where = placement(target_kind, has_control)
    target = {
        "endpoints": "an endpoints target without a control URL",
        "pglogical_dsn": "a pglogical target given by dsn: (hothot reaches those clusters "
        "through SQL only: partition, replication_delay and region_latency)",
    }.get(
        where,
        f"an {target_kind} target"
        if target_kind in ("emulator", "aws")
        else f"a {target_kind} target",
    )
    acting = injectors_for(fault.name, target_kind, has_control)
    if not acting:
        able = _able(fault.name)
        return [f"{path}.fault: {fault.name} cannot be applied on {target}; only on {able}"]
    return [f"{path}.{f}: {m}" for f, m in fault.placement_problems(acting, regions, target)]


def _able(fault: str) -> str:
    """Where `fault` can be applied, in words (both pglogical placements: all of them)."""
    places = FAULTS[fault].acts
    both = "pglogical" in places and "pglogical_dsn" in places
    words = [
        "pglogical targets" if both and p == "pglogical" else _WHERE[p]
        for p in places
        if not (both and p == "pglogical_dsn")
    ]
    return " or ".join(words)


def _contradictions(faults: list[FaultSpec], regions: list[str]) -> list[tuple[int, int, str]]:
    out = []
    for j, b in enumerate(faults):
        for i in range(j):
            slot = contradiction(faults[i], b, regions)
            if slot:
                out.append((i, j, slot))
    return out


def _random(
    spec: ChaosSpec, regions: list[str], target_kind: str, has_control: bool, uses_fis: list[str]
) -> list[str]:
    assert spec.random is not None
    errors: list[str] = []
    for field in ("mean_interval", "mean_duration"):
        value = getattr(spec.random, field)
        if not 0 < value <= MAX_WINDOW_S:
            errors.append(f"chaos.random.{field}: {format_duration(value)} must be within 0s..24h")
    if not spec.random.faults:
        errors.append("chaos.random.faults: empty; name at least one fault to draw")
    for i, template in enumerate(spec.random.faults):
        path = f"chaos.random.faults[{i}]"
        if template.at is not None or template.for_ is not None:
            errors.append(f"{path}: random templates take no at:/for:; windows are drawn")
        errors += _fault(path, template, regions, target_kind, has_control, template=True)
        if "aws" in injectors_for(template.name, target_kind, has_control):
            uses_fis.append(path)
    if len(regions) < 2 and any(t.on_links for t in spec.random.faults):
        errors.append("chaos.random.faults: links need at least two regions")
    return errors


def _fis(spec: ChaosSpec, allow_real_aws: bool, uses: list[str]) -> list[str]:
    errors = []
    who = ", ".join(uses)
    if not allow_real_aws:
        errors.append(
            f"{uses[0]}.fault: partition on an aws target uses AWS FIS ({who}); "
            "it needs allow_real_aws: true"
        )
    role = spec.aws.role_arn if spec.aws else None
    if not role:
        errors.append(
            f"chaos.aws.role_arn: missing; AWS FIS needs the IAM role it assumes ({who}), "
            "e.g. chaos: {faults: [...], aws: {role_arn: arn:aws:iam::123456789012:role/hothot-fis}}"
        )
    elif not _ROLE_ARN.match(role):
        errors.append(
            f"chaos.aws.role_arn: {role!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
        )
    return errors
