"""PgStore performs each store-neutral operation on a real pglogical mesh: one statement,
the version it replaced returned, the row replicated to every region."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hothot.pgrun import PgMesh, open_mesh
from loadgen.client import ConditionFailed, NotSent, StoreError
from loadgen.ops import Append, Increment, NewerThan, Overwrite, Read, SetAttributes, VersionIs
from loadgen.pgstore import PgStore
from tests.pg_fixtures import REGIONS, TABLE, eventually, mesh_fixture, needs_pglogical, rows

pytestmark = needs_pglogical


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgMesh]:
    yield from mesh_fixture(tmp_path_factory.mktemp("pgstore"))


@pytest.fixture()
def stores(mesh: PgMesh) -> Iterator[dict[str, PgStore]]:
    made = {r: PgStore(r, dsn, TABLE) for r, dsn in mesh.dsns.items()}
    yield made
    for store in made.values():
        store.close()


def test_every_subscription_of_the_full_mesh_replicates(mesh: PgMesh) -> None:
    assert sorted(mesh.control.links) == sorted((a, b) for a in REGIONS for b in REGIONS if a != b)


def test_a_write_returns_the_version_it_replaced_and_replicates(stores, mesh) -> None:
    east = stores["us-east-1"]
    first = east.perform(Overwrite(key="p#1", vid="w:1", fields={"name": {"S": "a"}}))
    second = east.perform(Overwrite(key="p#1", vid="w:2", fields={"name": {"S": "b"}}))
    assert first.old is None and second.old == {"hh_vid": {"S": "w:1"}}
    assert not second.sized  # only the version attributes come back
    for dsn in mesh.dsns.values():
        assert eventually(lambda d=dsn: rows(d).get("p#1", (None,))[:2] == ("w:2", "w:1"))
    item = stores["eu-west-1"].perform(Read("p#1")).item
    assert item == {"pk": {"S": "p#1"}, "hh_vid": {"S": "w:2"}, "name": {"S": "b"}}
    assert stores["eu-west-1"].perform(Read("p#none")).item is None


def test_attribute_sets_increments_and_appends_build_on_the_local_row(stores) -> None:
    west = stores["us-west-2"]
    west.perform(SetAttributes(key="s#1", vid="w:3", fields={"phone": {"S": "1"}}, versioned=True))
    again = west.perform(
        SetAttributes(key="s#1", vid="w:4", fields={"phone": {"S": "2"}}, versioned=True)
    )
    assert again.old == {"hh_vid": {"S": "w:3"}, "hh_vid_phone": {"S": "w:3"}}
    for vid in ("w:5", "w:6"):
        west.perform(Increment(key="c#1", vid=vid, attr="n", by=3))
        west.perform(Append(key="k#1", vid=vid, attr="cart", element=vid))
    counter = west.perform(Read("c#1")).item or {}
    cart = west.perform(Read("k#1")).item or {}
    padded = west.perform(
        SetAttributes(key="s#1", vid="w:7", fields={}, padding={"hh_pad": {"S": "xx"}})
    )
    assert padded.old == {"hh_vid": {"S": "w:4"}}
    assert counter["n"] == {"N": "6"}
    assert cart["cart"] == {"L": [{"S": "w:5"}, {"S": "w:6"}]}
    assert (west.perform(Read("s#1")).item or {})["hh_pad"] == {"S": "xx"}


def test_guards_see_the_local_row(stores) -> None:
    east = stores["us-east-1"]
    east.perform(
        SetAttributes(key="g#1", vid="w:8", fields={"d": {"S": "x"}}, guard=VersionIs(None))
    )
    with pytest.raises(ConditionFailed) as absent:
        east.perform(SetAttributes(key="g#1", vid="w:9", fields={}, guard=VersionIs(None)))
    assert absent.value.item is None
    with pytest.raises(ConditionFailed):
        east.perform(SetAttributes(key="g#1", vid="w:10", fields={}, guard=VersionIs("w:0")))
    ok = east.perform(SetAttributes(key="g#1", vid="w:11", fields={}, guard=VersionIs("w:8")))
    assert ok.old == {"hh_vid": {"S": "w:8"}}
    east.perform(
        SetAttributes(
            key="l#1", vid="w:12", fields={"hh_ts": {"N": "5.5"}}, guard=NewerThan("hh_ts", 5.5)
        )
    )
    with pytest.raises(ConditionFailed) as older:
        east.perform(
            SetAttributes(
                key="l#1",
                vid="w:13",
                fields={"hh_ts": {"N": "5.25"}},
                guard=NewerThan("hh_ts", 5.25),
            )
        )
    assert (older.value.item or {}).get("hh_vid") == {"S": "w:12"}  # the winner, for blocked_by


def test_unreachable_is_not_sent_and_sql_errors_are_store_errors(stores) -> None:
    dead = PgStore("us-east-1", "host=127.0.0.1 port=9 user=hothot dbname=postgres", TABLE)
    with pytest.raises(NotSent):  # the connection was refused: nothing reached the store
        dead.perform(Read("p#1"))
    wrong = PgStore("us-east-1", stores["us-east-1"].dsn, "hothot-no-such-table")
    with pytest.raises(StoreError) as missing:
        wrong.perform(Read("p#1"))
    assert missing.value.code == "42P01"  # undefined_table
    wrong.close()


def test_a_mesh_given_by_dsn_is_found_not_made(mesh, tmp_path) -> None:
    """`dsn:` targets: hothot finds each node's subscriptions and adds its table to the
    `default` set, creates no subscription and owns no cluster."""
    given = open_mesh(REGIONS, "hothot-given", tmp_path, dsn=dict(mesh.dsns))
    assert given.local is None and not given.control.owns_clusters
    assert given.control.links.keys() == mesh.control.links.keys()
    store = PgStore(REGIONS[0], given.dsns[REGIONS[0]], "hothot-given")
    store.perform(Overwrite(key="d#1", vid="w:20", fields={}))
    assert eventually(lambda: "d#1" in rows(mesh.dsns[REGIONS[2]], table="hothot-given"))
    assert given.quiesce("hothot-given", 10)["converged"] is True
    store.close()
