"""A write on a multi-Region strongly consistent (MRSC) table: it commits only after one round
trip to the nearest reachable region, and a concurrent write to the same item from another
region fails with ReplicatedWriteConflictException instead of being silently replaced."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from globaltable.errors import write_conflict
from globaltable.store import Entry, Key

if TYPE_CHECKING:
    from globaltable.engine import GlobalTable, Prepared, Table


async def strong_write(
    gt: GlobalTable,
    table: Table,
    region: str,
    key: Key,
    prepare: Callable[[Entry | None], Prepared],
) -> dict[str, Any]:
    if not gt.reachable(region):
        raise gt.isolated(region)
    ident = (table.name, key)
    holder = gt.inflight.get(ident)
    while holder is not None:
        if holder[0] != region:
            raise write_conflict(holder[0])
        await holder[1]
        holder = gt.inflight.get(ident)
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    gt.inflight[ident] = (region, done)
    try:
        old = gt.latest(table, region, key)
        prepared = prepare(old)
        if prepared.skip:
            return prepared.response
        # one round trip to the nearest region; the third gets it through its link queue
        reach = gt.reachable(region)  # may have changed while queued behind a write
        if not reach:
            raise gt.isolated(region)
        delays = {p: gt.links[(region, p)].sample_delay() for p in reach}
        nearest = min(delays, key=delays.__getitem__)
        await asyncio.sleep(delays[nearest])
        peers = gt.reachable(region)
        if not peers:
            raise gt.isolated(region)
        gt.commit(table, region, key, old, prepared, (nearest if nearest in peers else peers[0],))
    finally:
        del gt.inflight[ident]
        done.set_result(None)
    return prepared.response
