"""Target kind `pglogical`: bringing the mesh up for a run, quiescing it, keeping its
conflict logs, and stopping what hothot started.

Without `dsn:` the run makes one cluster per region in the report's temporary area
(`<report>/tmp/`, removed at the end), joins them into a full mesh and waits until every
subscription replicates; with `dsn:` it drives the user's clusters through those DSNs only
(creating the campaign table and adding it to the `default` replication set).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgtarget import mesh
from pgtarget.clusters import Cluster, ClusterError, running_postmaster
from pgtarget.control import MeshControl
from pgtarget.local import LocalClusters, start_clusters
from pgtarget.mesh import MeshError
from verdict.witness import CONFLICTS_SUFFIX, WITNESS_DIR

#: where the clusters' data lives during a run, inside the report directory
TMP_DIR = "tmp"
#: the clusters hothot started, in the report's pglogical/ folder
CLUSTERS_FILE = "clusters.json"


class PgTargetError(RuntimeError):
    """The mesh cannot be used (exit 2); everything started for it is already stopped."""


@dataclass
class PgMesh:
    """The mesh a run drives: DSNs per region, the control the injectors use, and the local
    clusters when hothot started them."""

    dsns: dict[str, str]
    control: MeshControl
    local: LocalClusters | None = None

    def quiesce(self, table: str, timeout_s: float) -> dict[str, Any]:
        try:
            return mesh.quiesce(self.dsns, table, timeout_s)
        except MeshError as exc:
            return {"converged": False, "error": str(exc)}

    def close(self, report_dir: Path) -> None:
        """Stop the clusters hothot started (by PID), keep their conflict logs in the
        report, then remove their data. Safe to call twice."""
        local, self.local = self.local, None
        if local is None:
            return
        local.stop(remove=False)
        keep_conflicts(local.clusters, report_dir)
        local.stop(remove=True)
        shutil.rmtree(report_dir / TMP_DIR, ignore_errors=True)


def check_pglogical_spec(regions: list[str], dsn: dict[str, str], port: int) -> None:
    """`target:` of kind pglogical: a DSN for every region or none, room for the ports."""
    if dsn:
        missing = [r for r in regions if r not in dsn]
        if missing:
            raise ValueError(f"kind pglogical with dsn needs a DSN for {', '.join(missing)}")
        extra = [r for r in dsn if r not in regions]
        if extra:
            raise ValueError(f"dsn names regions not in target.regions: {extra}")
        if port:
            raise ValueError("port is for the clusters hothot starts; with dsn it has none")
    if len(regions) < 2:
        raise ValueError("kind pglogical needs at least two regions to replicate between")
    if port and port + len(regions) - 1 > 65535:
        raise ValueError(f"port {port} leaves no room for {len(regions)} clusters")


def open_mesh(
    regions: list[str],
    table: str,
    report_dir: Path,
    *,
    dsn: dict[str, str],
    port: int = 0,
    startup_timeout_s: float = 30.0,
) -> PgMesh:
    """The mesh, ready: every subscription replicating. Raises PgTargetError in one line,
    after stopping whatever it started."""
    from loadgen.pgstore import schema  # psycopg: imported late (pgtarget.mesh._psycopg)

    local: LocalClusters | None = None
    try:
        if dsn:
            dsns = {r: dsn[r] for r in regions}
        else:
            local = start_clusters(
                regions, report_dir / TMP_DIR, port=port, timeout_s=startup_timeout_s,
                on_change=lambda started: record_clusters(started, report_dir),
            )  # fmt: skip
            dsns = local.dsns
        mesh.prepare_nodes(dsns, table, schema(table))
        if local is not None:
            mesh.subscribe_all(dsns)
        links = mesh.links(dsns)
        mesh.wait_replicating(dsns, links, startup_timeout_s)
    except (ClusterError, MeshError) as exc:
        if local is not None:
            local.stop()
        raise PgTargetError(str(exc)) from None
    except BaseException:
        if local is not None:
            local.stop()
        raise
    clusters = local.clusters if local is not None else None
    run_as = local.run_as if local is not None else MeshControl({}).run_as
    return PgMesh(dsns, MeshControl(links, clusters, run_as), local)


def record_clusters(local: LocalClusters, report_dir: Path) -> None:
    """`<report>/pglogical/clusters.json`: where each cluster lives and its postmaster PID,
    for `hothot heal` after a kill (and a person checking what a run left running). Written
    whole beside it and renamed over it, so a kill mid-write leaves the previous list."""
    out = report_dir / WITNESS_DIR
    out.mkdir(parents=True, exist_ok=True)
    described = {region: c.describe() for region, c in local.clusters.items()}
    spare = out / f"{CLUSTERS_FILE}.new"
    spare.write_text(json.dumps(described, indent=1) + "\n")
    spare.replace(out / CLUSTERS_FILE)


def keep_conflicts(clusters: dict[str, Cluster], report_dir: Path) -> None:
    """Each region's conflict-log lines, as the server wrote them (jsonlog), into
    `<report>/pglogical/<region>.conflicts.jsonl` for the verdict's witness."""
    out = report_dir / WITNESS_DIR
    out.mkdir(parents=True, exist_ok=True)
    for region, cluster in clusters.items():
        try:
            lines = Path(cluster.json_log).read_bytes().splitlines()
        except OSError:
            lines = []
        kept = [ln for ln in lines if b'"message":"CONFLICT' in ln]
        (out / f"{region}{CONFLICTS_SUFFIX}").write_bytes(b"".join(ln + b"\n" for ln in kept))


def _made_by_hothot(datadir: Any, report_dir: Path) -> bool:
    """Where pgtarget.local puts a cluster: `<area>/<region>/data`, the area being the report's
    tmp/ or a `hothot-pg-*` directory in the system's temporary area (symlinks resolved)."""
    if not isinstance(datadir, str) or not datadir:
        return False
    data = Path(datadir).resolve()
    area = data.parent.parent
    in_report = area == (report_dir / TMP_DIR).resolve()
    in_tmp = area.parent == Path(tempfile.gettempdir()).resolve() and area.name.startswith(
        "hothot-pg-"
    )
    return data.name == "data" and (in_report or in_tmp)


@dataclass
class LeftClusters:
    """What `hothot heal` did to the clusters a killed run left: one line each."""

    stopped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def stop_left_clusters(report_dir: Path) -> LeftClusters:
    """Stop the clusters a killed run started (`clusters.json`): each by the postmaster that
    serves its data directory now (an outage healed during the run restarted it under another
    PID), checked by command line; then, when all are down, keep their conflict logs in the
    report as the run would have and remove their data. A cluster not listed is not touched."""
    result = LeftClusters()
    listed = report_dir / WITNESS_DIR / CLUSTERS_FILE
    if not listed.is_file():
        return result
    try:
        clusters = {r: Cluster(**fields) for r, fields in json.loads(listed.read_text()).items()}
    except (OSError, ValueError, TypeError, AttributeError) as err:
        result.failed.append(f"{listed}: unreadable ({err})")
        return result
    strangers = [
        f"{listed}: region {region}: {cluster.datadir!r} is not a data directory hothot makes "
        f"(<home>/data under {report_dir / TMP_DIR} or {tempfile.gettempdir()}/hothot-pg-*); "
        "nothing was stopped or removed"
        for region, cluster in clusters.items()
        if not _made_by_hothot(cluster.datadir, report_dir)
    ]
    if strangers:  # a crafted or damaged file: it could name any server, any directory
        result.failed += strangers
        return result
    for region, cluster in clusters.items():
        pid = running_postmaster(cluster.datadir)
        if pid is None:
            continue
        cluster.pid = pid
        cluster.stop()
        if running_postmaster(cluster.datadir) == pid:
            result.failed.append(f"the PostgreSQL cluster of region {region} (PID {pid})")
        else:
            result.stopped.append(
                f"the PostgreSQL cluster of region {region} (PID {pid}, port {cluster.port})"
            )
    homes = [Path(c.datadir).parent for c in clusters.values() if Path(c.datadir).exists()]
    if homes and not result.failed:
        if not any((report_dir / WITNESS_DIR).glob(f"*{CONFLICTS_SUFFIX}")):
            keep_conflicts(clusters, report_dir)
        for home in homes:
            shutil.rmtree(home, ignore_errors=True)
            with contextlib.suppress(OSError):  # the area they shared, once empty
                home.parent.rmdir()
        with contextlib.suppress(OSError):
            (report_dir / TMP_DIR).rmdir()
    return result
