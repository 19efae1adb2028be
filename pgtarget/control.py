"""What faults do to a pglogical mesh, each undone by its inverse (chaos's pglogical injector).

- a link cut: the target's subscription disabled (`alter_subscription_disable(sub, true)`);
  the provider's slot keeps the changes, applied when it is enabled again;
- a slow link: the subscription's `sub_apply_delay`, read by the apply worker when it starts,
  so a running subscription is restarted (a disabled one picks it up when enabled);
- a skewed clock: the region's libfaketime clock file rewritten (clusters hothot started);
- an outage: `pg_ctl stop -m fast`, then `pg_ctl start` (clusters hothot started).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from typing import Any

from pgtarget.clusters import Binaries, Cluster, ClusterError, RunAs, find_binaries, service_user
from pgtarget.mesh import Link, MeshError, _psycopg, connect

__all__ = [
    "Binaries",
    "Cluster",
    "ClusterError",
    "Link",
    "MeshControl",
    "RunAs",
    "find_binaries",
    "link_of",
    "service_user",
    "set_apply_delay",
    "set_enabled",
    "start_cluster",
    "stop_cluster",
    "write_clock",
]


@dataclass
class MeshControl:
    """The mesh a run's faults act on: its links, and its clusters when hothot started
    them (None: clusters someone else runs, reached through their DSNs only)."""

    links: dict[tuple[str, str], Link]
    clusters: dict[str, Cluster] | None = None
    run_as: RunAs = field(default_factory=RunAs)

    @property
    def owns_clusters(self) -> bool:
        return self.clusters is not None


def link_of(data: dict[str, Any]) -> Link:
    return Link(str(data["source"]), str(data["target"]), str(data["dsn"]),
                str(data["subscription"]))  # fmt: skip


def _sql(link: Link, query: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    pg = _psycopg()
    try:
        with connect(link.dsn, link.target) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []
    except pg.Error as exc:
        line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise MeshError(
            f"subscription {link.subscription} ({link.source} -> {link.target}): {line}"
        ) from None


def subscription_enabled(link: Link) -> bool:
    rows = _sql(link, "SELECT sub_enabled FROM pglogical.subscription WHERE sub_name = %s",
                (link.subscription,))  # fmt: skip
    if not rows:
        raise MeshError(f"subscription {link.subscription} on {link.target} is gone")
    return bool(rows[0][0])


def set_enabled(link: Link, enabled: bool) -> None:
    """Enable or disable the link's subscription at once (`immediate := true`)."""
    verb = "enable" if enabled else "disable"
    _sql(link, f"SELECT pglogical.alter_subscription_{verb}(%s, true)", (link.subscription,))


def set_apply_delay(link: Link, seconds: float) -> float:
    """Set the link's apply delay; returns the one it had. A running subscription restarts
    so its apply worker reads the new delay."""
    rows = _sql(
        link,
        "SELECT extract(epoch FROM sub_apply_delay)::float8 FROM pglogical.subscription "
        "WHERE sub_name = %s",
        (link.subscription,),
    )
    if not rows:
        raise MeshError(f"subscription {link.subscription} on {link.target} is gone")
    _sql(
        link,
        "UPDATE pglogical.subscription SET sub_apply_delay = %s * interval '1 second' "
        "WHERE sub_name = %s",
        (seconds, link.subscription),
    )
    if subscription_enabled(link):
        set_enabled(link, False)
        set_enabled(link, True)
    return float(rows[0][0] or 0.0)


def write_clock(clock_file: str, offset_s: float) -> None:
    """libfaketime reads `+<seconds>` / `-<seconds>` from the file on every clock call; the
    new content is written beside it and renamed over it, so no reader sees half a line."""
    spare = f"{clock_file}.new"
    with open(spare, "w") as out:
        out.write(f"{offset_s:+.6f}\n")
    os.chmod(spare, 0o644)
    os.replace(spare, clock_file)


def stop_cluster(cluster: Cluster, run_as: RunAs) -> None:
    """An outage: fast shutdown through pg_ctl (clients see their connections end)."""
    _pg_ctl(cluster, run_as, ["stop", "-m", "fast", "-w", "-D", cluster.datadir])
    cluster.pid = None


def start_cluster(cluster: Cluster, run_as: RunAs) -> None:
    """The outage healed: pg_ctl start with the same clock file (cluster.pid updated)."""
    cluster.start(run_as)


def _pg_ctl(cluster: Cluster, run_as: RunAs, args: list[str]) -> None:
    done = subprocess.run(
        [cluster.pg_ctl, *args], capture_output=True, timeout=60,
        **run_as.kwargs(),
    )  # fmt: skip
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip().splitlines()
        raise ClusterError(
            f"pg_ctl {args[0]} for region {cluster.region}: {(err or ['failed'])[-1]}"
        )
