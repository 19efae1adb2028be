"""A full pglogical mesh over any clusters: nodes, the campaign table in the `default`
replication set, one subscription per ordered pair of regions, and the checks that it runs.

Subscriptions forward no other origin's changes (`forward_origins := '{}'`): in a full mesh
every node hears each change from its origin directly, and forwarding would loop. A mesh
made by someone else (`dsn:` targets) is found, not made: each region's node, and which of
its subscriptions comes from which region (`links`).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # psycopg is imported where it is used: see _psycopg
    import psycopg
    from psycopg import sql

#: the replication set the campaign table joins
REPLICATION_SET = "default"
#: prefix of the marker rows that show a quiesced mesh
MARKER_PREFIX = "hh#marker#"


class MeshError(RuntimeError):
    """The mesh cannot be set up or does not run: one line naming the region or link."""


@dataclass(frozen=True)
class Link:
    """Replication from `source` to `target`: the subscription `subscription` on `target`."""

    source: str
    target: str
    dsn: str  # the target's
    subscription: str

    def describe(self) -> dict[str, str]:
        return {"source": self.source, "target": self.target, "dsn": self.dsn,
                "subscription": self.subscription}  # fmt: skip


def slug(region: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", region.lower()).strip("_") or "region"


def node_name(region: str) -> str:
    return f"hh_{slug(region)}"


def _psycopg() -> Any:
    """psycopg, imported on first use: it picks its way of waiting for the server when first
    imported, and must see the gevent monkey-patching that Locust does in `hothot run`,
    which comes after hothot's own modules are imported (else every query blocks every
    user of the process)."""
    import psycopg

    return psycopg


def connect(dsn: str, region: str, timeout_s: float = 5.0) -> psycopg.Connection[Any]:
    pg = _psycopg()
    try:
        conn: psycopg.Connection[Any] = pg.connect(
            dsn, autocommit=True, connect_timeout=max(1, int(timeout_s))
        )
        return conn
    except pg.Error as exc:
        raise MeshError(f"region {region}: cannot connect to {dsn}: {_line(exc)}") from None


def _line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def prepare_nodes(dsns: dict[str, str], table: str, schema: Iterable[sql.Composable]) -> None:
    """In each region: the pglogical extension and node (made when missing), the campaign
    table (`schema`), and the table in the `default` replication set."""
    pg = _psycopg()
    for region, dsn in dsns.items():
        with connect(dsn, region) as conn:
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pglogical")
                if local_node(conn) is None:
                    conn.execute(
                        "SELECT pglogical.create_node(node_name := %s, dsn := %s)",
                        (node_name(region), dsn),
                    )
                for statement in schema:
                    conn.execute(statement)
                listed = conn.execute(
                    "SELECT 1 FROM pglogical.replication_set_table t JOIN "
                    "pglogical.replication_set s USING (set_id) WHERE s.set_name = %s "
                    "AND t.set_reloid = to_regclass(%s)",
                    (REPLICATION_SET, pg.sql.Identifier(table).as_string(conn)),
                ).fetchall()
                if not listed:
                    conn.execute(
                        "SELECT pglogical.replication_set_add_table(%s, %s)",
                        (REPLICATION_SET, pg.sql.Identifier(table).as_string(conn)),
                    )
            except pg.Error as exc:
                raise MeshError(f"region {region} ({dsn}): {_line(exc)}") from None


def local_node(conn: psycopg.Connection[Any]) -> str | None:
    rows = conn.execute(
        "SELECT n.node_name FROM pglogical.local_node l JOIN pglogical.node n USING (node_id)"
    ).fetchall()
    return str(rows[0][0]) if rows else None


def subscribe_all(dsns: dict[str, str]) -> None:
    """One subscription per ordered pair (made by hothot on its own clusters only)."""
    pg = _psycopg()
    for target, dsn in dsns.items():
        with connect(dsn, target) as conn:
            for source, provider in dsns.items():
                if source == target:
                    continue
                try:
                    conn.execute(
                        "SELECT pglogical.create_subscription(subscription_name := %s, "
                        "provider_dsn := %s, replication_sets := ARRAY[%s], "
                        "synchronize_structure := false, synchronize_data := false, "
                        "forward_origins := '{}')",
                        (f"hh_{slug(source)}_to_{slug(target)}", provider, REPLICATION_SET),
                    )
                except pg.Error as exc:
                    raise MeshError(f"subscription {source} -> {target}: {_line(exc)}") from None


def links(dsns: dict[str, str]) -> dict[tuple[str, str], Link]:
    """Every (source, target) link of the mesh, found from each region's node and its
    subscriptions' provider nodes; a missing link is a MeshError naming it."""
    pg = _psycopg()
    nodes: dict[str, str] = {}
    for region, dsn in dsns.items():
        with connect(dsn, region) as conn:
            try:
                name = local_node(conn)
            except pg.Error as exc:
                raise MeshError(f"region {region} ({dsn}): no pglogical: {_line(exc)}") from None
            if name is None:
                raise MeshError(f"region {region} ({dsn}) is not a pglogical node")
            nodes[name] = region
    found: dict[tuple[str, str], Link] = {}
    for target, (name, _status, provider) in _statuses(dsns):
        source = nodes.get(provider)
        if source is not None and source != target:
            found[(source, target)] = Link(source, target, dsns[target], name)
    missing = [f"{a} -> {b}" for a in dsns for b in dsns if a != b and (a, b) not in found]
    if missing:
        raise MeshError(f"the mesh is not full: no pglogical subscription for {', '.join(missing)}")
    return found


def _statuses(dsns: dict[str, str]) -> list[tuple[str, tuple[str, str, str]]]:
    out = []
    for region, dsn in dsns.items():
        with connect(dsn, region) as conn:
            rows = conn.execute(
                "SELECT subscription_name, status, provider_node "
                "FROM pglogical.show_subscription_status()"
            ).fetchall()
        out += [(region, (str(n), str(s), str(p))) for n, s, p in rows]
    return out


def wait_replicating(
    dsns: dict[str, str], mesh: dict[tuple[str, str], Link], timeout_s: float
) -> float:
    """Wait until every link's subscription is `replicating`; returns the seconds waited."""
    start = time.monotonic()
    while True:
        status = {(t, n): s for t, (n, s, _p) in _statuses(dsns)}
        late = [
            f"{link.subscription} ({link.source} -> {link.target}) is "
            f"{status.get((link.target, link.subscription), 'gone')}"
            for link in mesh.values()
            if status.get((link.target, link.subscription)) != "replicating"
        ]
        waited = time.monotonic() - start
        if not late:
            return waited
        if waited > timeout_s:
            raise MeshError(
                f"subscription {late[0]}, not replicating, after {timeout_s:g}s"
                + (f" (and {len(late) - 1} more)" if len(late) > 1 else "")
            )
        time.sleep(0.1)


def quiesce(dsns: dict[str, str], table: str, timeout_s: float) -> dict[str, Any]:
    """Write a marker row in every region, then wait until every region holds every marker:
    each link then has applied everything written before it (a link applies in commit order).
    Answers like the emulator's POST /quiesce: `{"converged", "waited_s"}`."""
    sql = _psycopg().sql
    token = uuid.uuid4().hex[:12]
    start = time.monotonic()
    name = sql.Identifier(table)
    for region, dsn in dsns.items():
        with connect(dsn, region) as conn:
            conn.execute(
                sql.SQL("INSERT INTO {} (pk) VALUES (%s)").format(name),
                (f"{MARKER_PREFIX}{token}#{region}",),
            )
    missing: dict[str, int] = {}
    while time.monotonic() - start <= timeout_s:
        missing = {}
        for region, dsn in dsns.items():
            with connect(dsn, region) as conn:
                seen = conn.execute(
                    sql.SQL("SELECT count(*) FROM {} WHERE pk LIKE %s").format(name),
                    (f"{MARKER_PREFIX}{token}#%",),
                ).fetchone()
            if not seen or seen[0] < len(dsns):
                missing[region] = len(dsns) - (seen[0] if seen else 0)
        if not missing:
            return {"converged": True, "waited_s": time.monotonic() - start}
        time.sleep(0.05)
    return {"converged": False, "waited_s": time.monotonic() - start, "missing": missing}
