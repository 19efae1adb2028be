"""The pglogical injector on a real mesh: each fault does what it says and its heal (also
from a fresh process's injector, as `hothot heal` builds it) undoes it with nothing lost."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos.faults import ClockSkew, Partition, RegionOutage, ReplicationDelay
from chaos.injectors.pglogical import PglogicalInjector
from hothot.pgrun import PgMesh
from loadgen.client import NotSent
from loadgen.ops import Overwrite, Read
from loadgen.pgstore import PgStore
from pgtarget.clusters import postmaster_pid
from tests.pg_fixtures import (
    REGIONS,
    TABLE,
    eventually,
    mesh_fixture,
    needs_pglogical,
    rows,
    server_offset,
)
from verdict.witness import Witness

pytestmark = needs_pglogical
EAST, WEST, EU = REGIONS


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgMesh]:
    yield from mesh_fixture(tmp_path_factory.mktemp("pgfaults"))


@pytest.fixture()
def injector(mesh: PgMesh) -> PglogicalInjector:
    return PglogicalInjector(mesh.control, REGIONS)


class Writer:
    """Writes a fresh key in a region; says where it has arrived."""

    def __init__(self, mesh: PgMesh) -> None:
        self.mesh = mesh
        self.n = 0

    def put(self, region: str) -> str:
        self.n += 1
        key = f"f#{region}#{time.monotonic_ns()}"
        store = PgStore(region, self.mesh.dsns[region], TABLE)
        store.perform(Overwrite(key=key, vid=f"t:{self.n}", fields={}))
        store.close()
        return key

    def seen_in(self, key: str, region: str) -> bool:
        return key in rows(self.mesh.dsns[region], where=f"pk = '{key}'")


def test_a_partition_holds_both_directions_and_its_heal_loses_nothing(mesh, injector) -> None:
    w = Writer(mesh)
    fault = Partition(regions=[EAST, WEST])
    handle = injector.apply(fault, "f1")
    assert PglogicalInjector.check_handle(handle, False) == []  # what `hothot heal` checks
    a, b = w.put(EAST), w.put(WEST)
    assert eventually(lambda: w.seen_in(a, EU) and w.seen_in(b, EU))
    time.sleep(0.3)
    assert not w.seen_in(a, WEST) and not w.seen_in(b, EAST)
    PglogicalInjector.for_healing(handle).heal(fault, handle)  # as `hothot heal` does
    assert eventually(lambda: w.seen_in(a, WEST) and w.seen_in(b, EAST))


def test_one_way_and_isolation_cut_what_they_name(mesh, injector) -> None:
    w = Writer(mesh)
    one_way = Partition(regions=[EAST, WEST], one_way=True)
    handle = injector.apply(one_way, "f2")
    a, b = w.put(EAST), w.put(WEST)
    assert eventually(lambda: w.seen_in(b, EAST))
    assert not w.seen_in(a, WEST)
    injector.heal(one_way, handle)
    assert eventually(lambda: w.seen_in(a, WEST))
    isolate = Partition(region=EU)
    handle = injector.apply(isolate, "f3")
    assert len(handle["disabled"]) == 4
    c, d = w.put(EU), w.put(EAST)
    assert eventually(lambda: w.seen_in(d, WEST))
    assert not w.seen_in(c, EAST) and not w.seen_in(c, WEST) and not w.seen_in(d, EU)
    injector.heal(isolate, handle)
    assert eventually(lambda: all(w.seen_in(k, r) for k in (c, d) for r in REGIONS))


def test_replication_delay_slows_one_link(mesh, injector) -> None:
    w = Writer(mesh)
    fault = ReplicationDelay(**{"from": EAST, "to": EU, "delay": 1.0})
    handle = injector.apply(fault, "f4")
    assert handle["delays"][0]["previous_delay_s"] == 0.0
    assert PglogicalInjector.check_handle(handle, False) == []
    key = w.put(EAST)
    start = time.monotonic()
    assert eventually(lambda: w.seen_in(key, WEST), 2.0)
    assert not w.seen_in(key, EU)
    assert eventually(lambda: w.seen_in(key, EU), 5.0)
    assert time.monotonic() - start >= 0.8
    injector.heal(fault, handle)
    fast = w.put(EAST)
    assert eventually(lambda: w.seen_in(fast, EU), 0.8)


def test_clock_skew_moves_the_servers_clock_and_drifts(mesh, injector) -> None:
    dsn = mesh.dsns[EU]
    fault = ClockSkew(region=EU, offset=2.0, drift_ppm=100_000)
    handle = injector.apply(fault, "f5")
    assert PglogicalInjector.check_handle(handle, False) == []
    first = server_offset(dsn)
    time.sleep(1.0)
    later = server_offset(dsn)
    assert 1.8 < first < 2.4 and later - first > 0.05  # +10% of a second
    assert abs(server_offset(mesh.dsns[EAST])) < 0.2
    PglogicalInjector.for_healing(handle).heal(fault, handle)
    injector.heal(fault, handle)  # this run's injector also stops its drift thread
    time.sleep(0.2)
    assert abs(server_offset(dsn)) < 0.2


def test_skewed_clocks_invert_last_update_wins_and_the_log_names_the_discarded(
    mesh, injector
) -> None:
    """eu-west-1 runs 3 s ahead: its write wins over one made later elsewhere, and the
    conflict log shows the later write discarded."""
    skew = ClockSkew(region=EU, offset=3.0)
    handle = injector.apply(skew, "f6")
    try:
        key = "inv#1"
        PgStore(EU, mesh.dsns[EU], TABLE).perform(Overwrite(key=key, vid="eu:1", fields={}))
        time.sleep(0.3)
        PgStore(EAST, mesh.dsns[EAST], TABLE).perform(Overwrite(key=key, vid="east:1", fields={}))
        time.sleep(0.5)
        finals = {r: rows(dsn, where=f"pk = '{key}'")[key][0] for r, dsn in mesh.dsns.items()}
    finally:
        injector.heal(skew, handle)
    # east's write replaced eu's locally (sequential there), so everyone else keeps eu's:
    # local writes never compare timestamps; the other regions do, and the skewed one wins
    assert finals[WEST] == "eu:1"
    witness = Witness()
    for cluster in (mesh.local.clusters if mesh.local else {}).values():
        for line in Path(cluster.json_log).read_bytes().splitlines():
            entry = json.loads(line)
            witness.add(str(entry.get("message", "")), str(entry.get("detail", "")))
    assert "east:1" in witness.discarded


def test_an_outage_stops_the_cluster_and_its_heal_restarts_it(mesh, injector) -> None:
    w = Writer(mesh)
    assert mesh.local is not None
    cluster = mesh.local.clusters[WEST]
    before = cluster.pid
    fault = RegionOutage(region=WEST)
    handle = injector.apply(fault, "f7")
    assert PglogicalInjector.check_handle(handle, False) == []
    assert postmaster_pid(cluster.datadir) is None
    with pytest.raises(NotSent):  # refused: a stopped server
        PgStore(WEST, mesh.dsns[WEST], TABLE, timeout_s=1.0).perform(Read("x"))
    key = w.put(EAST)
    injector.heal(fault, handle)
    assert cluster.pid is not None and cluster.pid != before
    assert eventually(lambda: w.seen_in(key, WEST), 15.0)
