"""PostgreSQL + pglogical test helpers: a real three-region mesh (Debian's postgresql-15,
postgresql-15-pglogical and faketime; .ci/run installs them), and readers of its rows."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from hothot.pgrun import PgMesh, open_mesh
from pgtarget.clusters import ClusterError, find_binaries

REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
TABLE = "hothot-pgtest"


def _installed() -> str:
    try:
        find_binaries()
    except ClusterError as exc:
        return str(exc)
    return ""


MISSING = _installed()
needs_pglogical = pytest.mark.skipif(bool(MISSING), reason=MISSING or "installed")


def mesh_fixture(tmp: Path, table: str = TABLE) -> Iterator[PgMesh]:
    """Three clusters in a full mesh, stopped (by PID) and removed afterwards."""
    mesh = open_mesh(REGIONS, table, tmp, dsn={})
    try:
        yield mesh
    finally:
        mesh.close(tmp)


def rows(dsn: str, table: str = TABLE, where: str = "true") -> dict[str, tuple[Any, ...]]:
    """pk -> (hh_vid, hh_prev, doc) of one region's table."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        found = conn.execute(
            f'SELECT pk, hh_vid, hh_prev, doc FROM "{table}" WHERE {where}'
        ).fetchall()
    return {r[0]: tuple(r[1:]) for r in found}


def eventually(check: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def server_offset(dsn: str) -> float:
    """The cluster's clock minus ours, in seconds."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        before = time.time()
        row = conn.execute("SELECT extract(epoch FROM clock_timestamp())::float8").fetchone()
        after = time.time()
    assert row is not None
    return float(row[0]) - (before + after) / 2
