"""Adding and removing a region's replica of a live global table (UpdateTable's
ReplicaUpdates, and the control API's `POST /replicas`).

A new replica is backfilled with the newest version of every item among the existing replicas
(tombstones included, so a delete not yet replicated everywhere still wins), then receives
every later write through its links like any replica. Taking the newest version from all
replicas, not from one, means no acknowledged write is missed by the backfill: an image
queued before the replica existed was never queued for it, but its source replica already
holds it. A removed replica's queued images are dropped on arrival.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from globaltable.errors import validation
from globaltable.store import Entry, Key, Replica

if TYPE_CHECKING:
    from globaltable.engine import GlobalTable
    from globaltable.table import Table


def add_replica(gt: GlobalTable, table: Table, region: str) -> int:
    """Create `region`'s replica of `table`, backfilled; returns how many items it got."""
    check_replica_update(gt, table, "Create", region)
    newest: dict[Key, Entry] = {}
    for replica in table.replicas.values():
        for key, entry in replica.entries():
            best = newest.get(key)
            if best is None or entry.order() > best.order():
                newest[key] = entry
    replica = Replica(table.schema.range_name is not None)
    for key, entry in newest.items():
        replica.put(key, entry)
    table.attach_replica(region, replica)
    return sum(1 for e in newest.values() if e.image is not None)


def remove_replica(gt: GlobalTable, table: Table, region: str) -> None:
    check_replica_update(gt, table, "Delete", region)
    table.detach_replica(region)


def check_replica_update(gt: GlobalTable, table: Table, action: str, region: str) -> None:
    """Refuse a replica update that cannot apply, before anything is changed."""
    if gt.strong:
        raise validation(
            "Replicas cannot be added to or removed from a multi-Region strongly consistent "
            "(MRSC) global table"
        )
    if region not in gt.regions:
        raise validation(
            f"Region {region} is not served by this emulator; it serves {', '.join(gt.regions)}"
        )
    if action == "Create" and region in table.replicas:
        raise validation(
            f"Failed to create a the new replica of table with name: '{table.name}' because one "
            "or more replicas already existed as tables."
        )
    if action == "Delete" and region not in table.replicas:
        raise validation(
            f"Failed to delete the replica of table '{table.name}' in region {region}: it has "
            "no replica there"
        )
    if action == "Delete" and len(table.replicas) == 1:
        raise validation(
            f"Cannot delete the last replica of table '{table.name}'; use DeleteTable instead"
        )
