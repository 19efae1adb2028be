"""`start_clusters`: make and start one cluster per region; `LocalClusters.stop` ends them.

Anything that goes wrong on the way (missing packages, a port in use, a cluster that does not
start) raises `ClusterError` with one line, after stopping every cluster started so far.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pgtarget.clusters import (
    SETTINGS,
    Binaries,
    Cluster,
    ClusterError,
    RunAs,
    check_port_free,
    find_binaries,
    free_port,
    service_user,
    usable_area,
)

#: PostgreSQL 15.19+ loads output plugins only from this list (when the setting exists)
PLUGIN_LIST = "output_plugin_libraries"


@dataclass
class LocalClusters:
    """The clusters hothot started for a run, and the directory they live in."""

    clusters: dict[str, Cluster]
    area: Path
    run_as: RunAs
    removable: list[Path] = field(default_factory=list)

    @property
    def dsns(self) -> dict[str, str]:
        return {region: c.dsn for region, c in self.clusters.items()}

    def stop(self, *, remove: bool = True) -> None:
        """Stop every cluster by its postmaster PID; remove the data directories."""
        for cluster in self.clusters.values():
            cluster.stop()
        if remove:
            for path in self.removable:
                shutil.rmtree(path, ignore_errors=True)


def start_clusters(
    regions: list[str],
    area: Path,
    *,
    port: int = 0,
    timeout_s: float = 30.0,
    on_change: Callable[[LocalClusters], None] | None = None,
) -> LocalClusters:
    """One cluster per region under `area` (ports `port`, `port`+1, ...; 0: free ones).
    `on_change` hears of each cluster before it starts and once it runs, so a record of them
    (`hothot heal`'s) never misses one a kill of this process would leave running."""
    binaries = find_binaries()
    run_as = service_user()
    ports = [port + i for i in range(len(regions))] if port else []
    for region, chosen in zip(regions, ports, strict=False):
        check_port_free(chosen, region)
    base = usable_area(area, run_as)  # after every check: nothing to remove on a refusal
    run_as.own(base)
    started = LocalClusters({}, base, run_as, list(dict.fromkeys([base, area])))
    try:
        plugin_list = _has_setting(binaries, run_as, PLUGIN_LIST)
        for i, region in enumerate(regions):
            cluster = _make(binaries, run_as, base, region, ports[i] if ports else free_port())
            if plugin_list:
                cluster.extra[PLUGIN_LIST] = "'pglogical_output'"
            _configure(cluster)
            started.clusters[region] = cluster
            if on_change is not None:
                on_change(started)
            cluster.start(run_as, timeout_s)
            if on_change is not None:
                on_change(started)
    except BaseException:
        started.stop()
        raise
    return started


def _slug(region: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", region.lower()).strip("_") or "region"


def _make(binaries: Binaries, run_as: RunAs, base: Path, region: str, port: int) -> Cluster:
    home = base / _slug(region)
    home.mkdir(parents=True, exist_ok=True)
    run_as.own(home)
    cluster = Cluster(
        region=region,
        port=port,
        datadir=str(home / "data"),
        clock_file=str(home / "clock"),
        server_log=str(home / "server.log"),
        pg_ctl=binaries.program("pg_ctl"),
        faketime=binaries.faketime,
        user=run_as.name,
    )
    Path(cluster.clock_file).write_text("+0\n")
    Path(cluster.clock_file).chmod(0o644)
    done = subprocess.run(
        [binaries.program("initdb"), "-D", cluster.datadir, "-U", "hothot", "--auth=trust",
         "-E", "UTF8", "--no-sync", "--locale=C"],
        capture_output=True, timeout=120, **run_as.kwargs(),
    )  # fmt: skip
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip().splitlines()
        raise ClusterError(
            f"initdb for region {region} failed in {cluster.datadir}: {(err or ['?'])[-1]}"
        )
    return cluster


def _configure(cluster: Cluster) -> None:
    settings = {**SETTINGS, "port": str(cluster.port), **cluster.extra}
    conf = Path(cluster.datadir, "postgresql.conf")
    with conf.open("a") as out:
        out.write("\n# hothot: a pglogical mesh region\n")
        out.writelines(f"{k} = {v}\n" for k, v in settings.items())
    with Path(cluster.datadir, "pg_hba.conf").open("a") as out:
        out.write("host replication all 127.0.0.1/32 trust\n")


def _has_setting(binaries: Binaries, run_as: RunAs, name: str) -> bool:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(
            [binaries.program("postgres"), "--describe-config"],
            capture_output=True, timeout=30, **run_as.kwargs(),
        )  # fmt: skip
        return any(ln.split("\t", 1)[0] == name for ln in done.stdout.decode().splitlines())
    return False
