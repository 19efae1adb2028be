"""The `pglogical` injector: faults on a pglogical mesh (pgtarget.control).

Partitions disable the subscriptions of the links they cut, replication delay sets a link's
apply delay (pglogical has no jitter), and on clusters hothot started clock skew rewrites the
region's libfaketime clock file (drift and strobe by a thread that rewrites it every 50 ms)
and an outage stops the cluster with pg_ctl. Handles name the subscriptions, the clock file
or the cluster, so `hothot heal` undoes them from another process.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from chaos.fault_base import FaultSpec
from chaos.faults import ClockSkew, Partition, RegionOutage, ReplicationDelay
from chaos.injectors.base import Handle, Injector
from chaos.injectors.pglogical_handles import check_pglogical_handle
from pgtarget.control import (
    Cluster,
    Link,
    MeshControl,
    RunAs,
    link_of,
    service_user,
    set_apply_delay,
    set_enabled,
    start_cluster,
    stop_cluster,
    write_clock,
)

#: how often a drifting or strobing clock's file is rewritten
CLOCK_TICK_S = 0.05


class PglogicalInjector(Injector):
    name = "pglogical"

    def __init__(self, control: MeshControl, regions: list[str]) -> None:
        super().__init__(regions, "pglogical", has_control=control.owns_clusters)
        self.control = control
        self._clocks: dict[str, threading.Event] = {}

    # -- apply -------------------------------------------------------------------------
    def apply(self, fault: FaultSpec, fault_id: str) -> Handle:
        if isinstance(fault, Partition):
            return self._cut(fault)
        if isinstance(fault, ReplicationDelay):
            done: list[dict[str, Any]] = []
            for a, b in fault.links():
                link = self.control.links[(a, b)]
                before = set_apply_delay(link, fault.delay or 0.0)
                done.append({**link.describe(), "previous_delay_s": before})
            return {"delays": done}
        cluster = self._cluster(fault)
        if isinstance(fault, ClockSkew):
            self._skew(cluster, fault)
            return {"clock_file": cluster.clock_file, "region": cluster.region}
        if isinstance(fault, RegionOutage):
            stop_cluster(cluster, self.control.run_as)
            return {"cluster": cluster.describe()}
        raise ValueError(f"the pglogical injector cannot apply {fault.name}")

    def _cut(self, fault: Partition) -> Handle:
        cut: list[Link] = []
        try:
            for a, b in fault.pairs(self.regions):
                for pair in [(a, b)] if fault.one_way else [(a, b), (b, a)]:
                    link = self.control.links[pair]
                    set_enabled(link, False)
                    cut.append(link)
        except BaseException:
            for link in cut:
                set_enabled(link, True)
            raise
        return {"disabled": [link.describe() for link in cut]}

    def _cluster(self, fault: FaultSpec) -> Cluster:
        region = str(getattr(fault, "region", ""))
        if not self.control.clusters or region not in self.control.clusters:
            raise ValueError(
                f"{fault.name} on region {region} needs a cluster hothot started; this mesh "
                "is reached through DSNs only"
            )
        return self.control.clusters[region]

    def _skew(self, cluster: Cluster, fault: ClockSkew) -> None:
        """The offset now; a drifting or strobing clock keeps being rewritten until healed."""
        self._stop_clock(cluster.clock_file)
        offset, drift, strobe = fault.offset or 0.0, fault.drift_ppm, fault.strobe or 0.0
        write_clock(cluster.clock_file, offset)
        if not (drift or strobe):
            return
        stop = threading.Event()
        self._clocks[cluster.clock_file] = stop
        since = time.time()

        def tick() -> None:
            while not stop.wait(CLOCK_TICK_S):
                elapsed = time.time() - since
                now = offset
                if strobe > 0 and int(elapsed / strobe) % 2 == 1:
                    now = 0.0
                write_clock(cluster.clock_file, now + elapsed * drift * 1e-6)

        threading.Thread(target=tick, daemon=True, name=f"clock-{cluster.region}").start()

    def _stop_clock(self, clock_file: str) -> None:
        stop = self._clocks.pop(clock_file, None)
        if stop is not None:
            stop.set()

    # -- heal --------------------------------------------------------------------------
    def heal(self, fault: FaultSpec, handle: Handle) -> None:
        for data in handle.get("disabled", []):
            set_enabled(link_of(data), True)
        for data in handle.get("delays", []):
            set_apply_delay(link_of(data), float(data.get("previous_delay_s", 0.0)))
        if "clock_file" in handle:
            self._stop_clock(str(handle["clock_file"]))
            write_clock(str(handle["clock_file"]), 0.0)
        if "cluster" in handle:
            start_cluster(self._known(handle["cluster"]), self.control.run_as)

    def _known(self, data: dict[str, Any]) -> Cluster:
        """The run's own Cluster object for a handle (its PID is updated on restart)."""
        region = str(data.get("region"))
        if self.control.clusters and region in self.control.clusters:
            return self.control.clusters[region]
        return Cluster(**data)

    @classmethod
    def check_handle(cls, handle: Any, applying: bool) -> list[str]:
        """Also: links, delays, the clock file and the cluster are what apply wrote, so a
        crafted faults.state cannot make `hothot heal` run a program or write a file."""
        problems = super().check_handle(handle, applying)
        return problems or check_pglogical_handle(handle)

    @classmethod
    def for_healing(cls, handle: Handle) -> PglogicalInjector:
        """In `hothot heal`: subscriptions by DSN, the clock file, the cluster by its data
        directory (started as the user it ran as)."""
        run_as = RunAs()
        user = (handle.get("cluster") or {}).get("user")
        if user:
            run_as = service_user()
        return cls(MeshControl({}, None, run_as), regions=[])
