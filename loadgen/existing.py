"""What a table already holds under the keys a run is about to write.

On a table that outlives runs (AWS, an endpoint started by hand) an earlier run's items would
be overwritten without a word, and judged as part of this run (a first write finding an old
item is a conflict with a write this history never saw). So before the load, hothot reads the
run's keys back with BatchGetItem (100 keys a call, `pk` and `hh_vid` only) and counts what is
there, telling items hothot wrote (they carry `hh_vid`, or are its lag heartbeats) from items
it did not.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from loadgen.client import DynamoClient, NoAnswer, StoreError
from loadgen.probes import HEARTBEAT_PREFIX
from loadgen.recording import VID
from loadgen.table import TableUnusable

#: BatchGetItem's limit of keys per call
BATCH = 100
#: rounds of UnprocessedKeys retries before giving up (throttled reads)
MAX_ROUNDS = 8
#: keys kept as examples for the message
EXAMPLES = 3


@dataclass
class Existing:
    """Items found under the run's keys."""

    checked: int = 0
    by_hothot: int = 0  # items carrying hh_vid: an earlier run's
    foreign: int = 0  # items hothot did not write
    examples: list[str] = field(default_factory=list)

    @property
    def present(self) -> int:
        return self.by_hothot + self.foreign


def run_keys(workloads: Iterable[object], heartbeats: Iterable[str]) -> list[str]:
    """Every key the run may write: each writing workload's whole key space, the heartbeats."""
    keys: list[str] = []
    for workload in workloads:
        if getattr(workload, "writes", False):
            keys += [workload.key(n) for n in range(workload.spec.keys)]  # type: ignore[attr-defined]
    return keys + list(heartbeats)


def count_existing(client: DynamoClient, table: str, keys: Sequence[str]) -> Existing:
    """Read `keys` back from `client`'s region and count the items found. Raises
    TableUnusable when the reads are refused or go unanswered."""
    found = Existing(checked=len(keys))
    for start in range(0, len(keys), BATCH):
        for item in _batch_get(client, table, keys[start : start + BATCH]):
            key = str(item.get("pk", {}).get("S"))
            if VID in item or HEARTBEAT_PREFIX in key:  # heartbeats carry no hh_vid
                found.by_hothot += 1
            else:
                found.foreign += 1
            if len(found.examples) < EXAMPLES:
                found.examples.append(key)
    return found


def _batch_get(client: DynamoClient, table: str, keys: Sequence[str]) -> list[dict]:
    request = {
        "RequestItems": {
            table: {
                "Keys": [{"pk": {"S": key}} for key in keys],
                "ProjectionExpression": f"pk, {VID}",
                "ConsistentRead": True,
            }
        }
    }
    items: list[dict] = []
    for round_ in range(MAX_ROUNDS):
        try:
            answer = client.call("BatchGetItem", request)
        except (StoreError, NoAnswer) as exc:
            raise TableUnusable(
                f"cannot read table {table!r} in {client.region} to count what it holds: {exc}"
            ) from None
        items += answer.get("Responses", {}).get(table, [])
        unprocessed = answer.get("UnprocessedKeys") or {}
        if not unprocessed.get(table, {}).get("Keys"):
            return items
        request = {"RequestItems": unprocessed}
        time.sleep(min(2.0, 0.05 * 2**round_))
    raise TableUnusable(
        f"table {table!r} in {client.region}: BatchGetItem kept returning unprocessed keys "
        f"after {MAX_ROUNDS} rounds (throttled); try again later"
    )
