"""DynamoDB Streams, per region: each replica's stream carries the changes that replica
applied, its local writes and the replicated ones alike (so a consumer of region B's stream
sees a write made in A once it has replicated, and not before), with the view type asked for.

A stream record keeps only references to the two shared item images (the version replaced
and the new one): building its JSON waits for GetRecords, so a write pays one tuple append
per region. One shard per stream (hothot's choice); each stream keeps its records for 24
hours or its newest `MAX_RECORDS`, whichever is less (older ones are trimmed:
`TrimmedDataAccessException`). Disabling a table's stream closes each region's stream; a new
one (a new label) starts when it is enabled again.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from globaltable.errors import validation
from globaltable.store import Entry, Key

if TYPE_CHECKING:
    from globaltable.table import Table

VIEW_TYPES = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")
RETENTION_S = 24 * 3600
MAX_RECORDS = 1_000_000
TRIM_EVERY = 4096
#: (sequence number, creation time, version replaced, new version, origin)
Record = tuple[int, float, Entry | None, Entry, str]


def stream_label(at: float) -> str:
    """DynamoDB's label form: an ISO 8601 UTC timestamp with milliseconds."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


class RegionStream:
    """One region's stream of one table: a single shard of records."""

    def __init__(self, table: Table, region: str, view_type: str, created: float) -> None:
        self.table = table
        self.region = region
        self.view_type = view_type
        self.created = created
        self.label = stream_label(created)
        self.arn = f"{table.arn(region)}/stream/{self.label}"
        self.shard_id = f"shardId-{int(created * 1000):020d}-{secrets.token_hex(4)}"
        self.event_prefix = secrets.token_hex(8)
        self.records: list[Record] = []  # records[i] has sequence number oldest_kept() + i
        self.first_seq = 1  # the shard's first sequence number ever
        self.next_seq = 1
        self.enabled = True
        self.closed_at: float | None = None

    def append(self, prev: Entry | None, new: Entry, origin: str) -> None:
        if not self.enabled:
            return
        old_live = prev is not None and prev.image is not None
        if new.image is None and not old_live:
            return  # deleting nothing: no record
        if old_live and new.image == prev.image:  # type: ignore[union-attr]
            return  # a write that changed nothing: no record, as on DynamoDB
        now = time.time()
        records = self.records
        records.append((self.next_seq, now, prev if old_live else None, new, origin))
        self.next_seq += 1
        if not self.next_seq % TRIM_EVERY:
            self.trim(now)

    def trim(self, now: float) -> None:
        """Drop the records past retention or beyond the newest MAX_RECORDS (called every
        TRIM_EVERY records: a list's front is dropped by copying the rest)."""
        records = self.records
        drop = max(len(records) - MAX_RECORDS, 0)
        while drop < len(records) and now - records[drop][1] > RETENTION_S:
            drop += 1
        if drop:
            del records[:drop]

    def oldest_kept(self) -> int:
        return self.records[0][0] if self.records else self.next_seq

    def close(self) -> None:
        self.enabled = False
        self.closed_at = time.time()

    def expired(self, now: float) -> bool:
        return self.closed_at is not None and now - self.closed_at > RETENTION_S

    def shard(self) -> dict[str, Any]:
        numbers: dict[str, str] = {"StartingSequenceNumber": seq_text(self.first_seq)}
        if not self.enabled:
            numbers["EndingSequenceNumber"] = seq_text(max(self.first_seq, self.next_seq - 1))
        return {"ShardId": self.shard_id, "SequenceNumberRange": numbers}


def seq_text(seq: int) -> str:
    """Sequence numbers as DynamoDB gives them: decimal strings (fixed width here, so they
    also compare correctly as text)."""
    return f"{seq:021d}"


class TableStreams:
    """A table's stream setting (the same in every region) and each region's streams."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.view_type: str | None = None
        self.current: dict[str, RegionStream] = {}
        self.closed: list[RegionStream] = []

    @property
    def enabled(self) -> bool:
        return self.view_type is not None

    def enable(self, view_type: str) -> None:
        self.view_type = view_type
        now = time.time()
        for region in self.table.replicas:
            self.current[region] = RegionStream(self.table, region, view_type, now)
        self.table.observers["stream"] = self.observe
        self.table.region_hooks["stream"] = self.on_replica
        self.table.refresh()

    def disable(self) -> None:
        self.view_type = None
        for stream in self.current.values():
            stream.close()
        self.closed.extend(self.current.values())
        self.current = {}
        self.table.observers.pop("stream", None)
        self.table.region_hooks.pop("stream", None)
        self.table.refresh()

    def observe(
        self, region: str, key: Key, prev: Entry | None, new: Entry, item: Any, origin: str
    ) -> None:
        stream = self.current.get(region)
        if stream is not None:
            stream.append(prev, new, origin)

    def on_replica(self, region: str, added: bool) -> None:
        if added and self.view_type is not None:
            self.current[region] = RegionStream(self.table, region, self.view_type, time.time())
        elif not added and region in self.current:
            stream = self.current.pop(region)
            stream.close()
            self.closed.append(stream)

    def all(self, region: str) -> list[RegionStream]:
        """This region's streams, oldest first (closed ones for 24 hours)."""
        now = time.time()
        self.closed = [s for s in self.closed if not s.expired(now)]
        out = [s for s in self.closed if s.region == region]
        if region in self.current:
            out.append(self.current[region])
        return out

    def latest(self, region: str) -> RegionStream | None:
        streams = self.all(region)
        return streams[-1] if streams else None


def streams_of(table: Table) -> TableStreams:
    if table.streams is None:
        table.streams = TableStreams(table)
    return table.streams  # type: ignore[no-any-return]


def stream_spec(raw: Any) -> tuple[bool, str | None] | None:
    """A StreamSpecification: (enabled, view type), checked; None when absent."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("StreamEnabled"), bool):
        raise validation(
            "1 validation error detected: Value null at 'streamSpecification.streamEnabled' "
            "failed to satisfy constraint: Member must not be null"
        )
    view = raw.get("StreamViewType")
    if view is not None and view not in VIEW_TYPES:
        raise validation(
            f"1 validation error detected: Value '{view}' at 'streamSpecification."
            "streamViewType' failed to satisfy constraint: Member must satisfy enum value set: "
            "[NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]"
        )
    if raw["StreamEnabled"] and view is None:
        raise validation(
            "One or more parameter values were invalid: StreamViewType must be specified when "
            "StreamEnabled is true"
        )
    return raw["StreamEnabled"], view


def apply_spec(table: Table, spec: tuple[bool, str | None] | None, creating: bool) -> None:
    """Enable or disable the table's streams (CreateTable / UpdateTable)."""
    if spec is None:
        return
    enabled, view = spec
    streams = streams_of(table)
    if enabled:
        if streams.enabled:
            raise validation(f"Table already has an enabled stream: TableName: {table.name}")
        streams.enable(view)  # type: ignore[arg-type]
    elif streams.enabled:
        streams.disable()
    elif not creating:
        raise validation(f"Table has no stream to disable: TableName: {table.name}")


def describe_section(table: Table, region: str) -> dict[str, Any]:
    """DescribeTable's stream fields for one region."""
    streams = table.streams
    if streams is None:
        return {}
    out: dict[str, Any] = {}
    if streams.enabled:
        out["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": streams.view_type}
    latest = streams.latest(region)
    if latest is not None:
        out["LatestStreamArn"] = latest.arn
        out["LatestStreamLabel"] = latest.label
    return out
