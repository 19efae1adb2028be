"""Injectors: one class per way of applying faults, registered in `INJECTORS`.

Which injectors act for a (fault, target kind) is each fault class's `acts` (`chaos.faults`);
`build` makes the injectors a run needs from what the runner has (a control URL, loadgen's
`ClientConditions`, the campaign's `chaos.aws`).
"""

from __future__ import annotations

from chaos.fault_base import ClientConditions
from chaos.injectors.aws import AwsFisInjector, FisFactory, default_fis
from chaos.injectors.base import Handle, Injector
from chaos.injectors.client import ClientInjector
from chaos.injectors.emulator import EmulatorInjector
from chaos.injectors.pglogical import PglogicalInjector
from chaos.spec import AwsChaos
from pgtarget.control import MeshControl

#: injector name (as in a fault's `acts` and faults.state) -> class
INJECTORS: dict[str, type[Injector]] = {
    cls.name: cls for cls in (EmulatorInjector, ClientInjector, AwsFisInjector, PglogicalInjector)
}


def build(
    target_kind: str,
    regions: list[str],
    *,
    control_url: str | None = None,
    control_token: str | None = None,
    conditions: ClientConditions | None = None,
    aws: AwsChaos | None = None,
    table: str = "",
    fis: FisFactory = default_fis,
    mesh: MeshControl | None = None,
) -> list[Injector]:
    """Every injector this run can use; the timeline refuses a fault none of them applies.
    `mesh`: the pglogical mesh of a pglogical target."""
    has_control = control_url is not None or (mesh is not None and mesh.owns_clusters)
    out: list[Injector] = []
    if mesh is not None:
        out.append(PglogicalInjector(mesh, regions))
    if control_url is not None:
        out.append(EmulatorInjector(control_url, regions, target_kind, control_token))
    if conditions is not None:
        out.append(ClientInjector(conditions, regions, target_kind, has_control))
    if target_kind == "aws" and aws is not None and aws.role_arn:
        out.append(AwsFisInjector(aws.role_arn, table, regions, aws.table_arn, fis))
    return out


__all__ = [
    "INJECTORS",
    "AwsFisInjector",
    "ClientInjector",
    "EmulatorInjector",
    "Handle",
    "PglogicalInjector",
    "Injector",
    "build",
]
