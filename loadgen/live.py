"""Provisional conflicts and lost updates, computed incrementally from the record stream.

The verdict judges the full version graph after quiescence; an SRE watching Grafana needs a
signal *during* the run. This module keeps, per key, a small window of the version graph that
the history reveals (`pred -> vid` edges of acknowledged writes) and what each region was last
seen holding, and reports:

- a **conflict** as soon as a second acknowledged write names the same `pred` (the two writers
  did not see each other), one per extra sibling, as the verdict counts them;
- a **provisional lost update** once a write that sits on a conflicting branch has been
  superseded by a non-descendant in every region where it was ever seen (written, read, or
  named as `pred`) — last-writer-wins has discarded it everywhere anyone looked;
- a **provisional skew-inverted win** when such a lost write was invoked after the sibling
  that beat it had completed.

Figures are provisional: replication still in flight may yet revive a branch, and
attribute-level and by-value checks (counters, carts) are left to the verdict, which confirms
or corrects them. Memory is bounded: at most `max_versions` versions per key and
`max_total` versions in all (~360 B each with its vid: a soak's hours cannot grow it past
~100 MB, however many keys it touches; the least recently written key goes first, as does
the oldest of `max_keys` keys); evicted history is never guessed at, so the walk that
decides "superseded" stops as undecided when it meets a version it no longer knows. A
candidate still undecided `horizon` versions later (some region never touched the key again)
is given up and counted in `undecided`, which keeps each record's work to a few short walks.

Single-threaded by design: the caller (the runner's master) feeds records from one loop.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

#: what a `pred` of None (the item was absent) hangs from in the children table
_ROOT = ""
_WRITES = frozenset({"put", "update", "delete"})


class _Version:
    """One acknowledged write: where it hangs, where it was seen, its timing."""

    __slots__ = (
        "parent",
        "depth",
        "region",
        "workload",
        "t_invoke",
        "t_complete",
        "deleted",
        "seen",
    )

    def __init__(
        self, parent: str | None, depth: int | None, record: dict[str, Any], bit: int
    ) -> None:
        self.parent = parent
        #: edges from the root; None while some ancestor was unknown when this one arrived
        self.depth = depth
        # one string per region and workload, not one per record (~110 B a version)
        self.region: str = sys.intern(record.get("region", ""))
        self.workload: str = sys.intern(record.get("workload", ""))
        self.t_invoke: float = record.get("t_invoke", 0.0)
        self.t_complete: float = record.get("t_complete", 0.0)
        self.deleted = record.get("op") == "delete"
        #: the regions it was seen in, one bit each (a set cost 216 B a version)
        self.seen = bit


class _KeyGraph:
    """The known window of one key's version graph and each region's last observed head."""

    __slots__ = ("versions", "children", "heads", "candidates", "deepest", "lost")

    def __init__(self) -> None:
        self.deepest = 0  # the largest known depth
        self.versions: dict[str, _Version] = {}
        #: parent -> its child, or its children once it has several (a list per version
        #: cost ~130 B each: most versions have one child)
        self.children: dict[str, str | list[str]] = {}
        self.heads: dict[str, tuple[str, float]] = {}
        #: conflict siblings (branch roots) whose fate is not yet decided
        self.candidates: set[str] = set()
        #: versions already counted lost (so nested branches are not counted twice)
        self.lost: set[str] = set()

    def ancestry(self, head: str, floor: int | None, limit: int) -> tuple[set[str], bool]:
        """`head` and its known ancestors down to depth `floor` (nothing deeper can be a
        candidate); False when the walk met a version it does not know."""
        line: set[str] = set()
        vid: str | None = head
        while vid is not None and len(line) <= limit:
            if vid in line:
                break
            version = self.versions.get(vid)
            if version is None:
                line.add(vid)
                return line, False
            if floor is not None and version.depth is not None and version.depth < floor:
                break
            line.add(vid)
            vid = version.parent
        return line, True

    def descendants(self, root: str, depth: int) -> list[str]:
        """Known versions below `root` (at `depth`), found by short upward walks."""
        found = []
        for vid, version in self.versions.items():
            if version.depth is None or version.depth <= depth:
                continue
            above: str | None = version.parent
            while above is not None and above != root:
                parent = self.versions.get(above)
                if parent is None or parent.depth is None or parent.depth <= depth:
                    break
                above = parent.parent
            if above == root:
                found.append(vid)
        return found

    def forget_oldest(self) -> None:
        vid, version = next(iter(self.versions.items()))
        del self.versions[vid]
        self.candidates.discard(vid)
        self.lost.discard(vid)
        self.children.pop(vid, None)
        # forgotten versions leave their sibling lists too: otherwise a key whose writes
        # keep replacing one version (every write a create, say) grows a list scanned per record
        self.remove_child(version.parent or _ROOT, vid)

    def remove_child(self, parent: str, vid: str) -> None:
        siblings = self.children.get(parent)
        if siblings == vid:
            del self.children[parent]
        elif isinstance(siblings, list) and vid in siblings:
            siblings.remove(vid)
            if len(siblings) == 1:
                self.children[parent] = siblings[0]

    def add_child(self, parent: str, vid: str) -> list[str] | None:
        """Note `vid` under `parent`; its siblings with it when it has any (a conflict)."""
        siblings = self.children.get(parent)
        if siblings is None:
            self.children[parent] = vid
            return None
        if isinstance(siblings, str):
            siblings = self.children[parent] = [siblings]
        siblings.append(vid)
        return siblings

    def siblings(self, parent: str) -> tuple[str, ...] | list[str]:
        found = self.children.get(parent)
        return () if found is None else (found,) if isinstance(found, str) else found


#: called with the anomalous write's (workload, region)
Notify = Callable[[str, str], None]
#: undecided writes followed per key; a key with more (a storm of concurrent creates) keeps
#: the newest, so one hot key cannot make the master's per-record cost grow without bound
MAX_CANDIDATES = 8


class ProvisionalAnomalies:
    """Feeds on history records; calls `on_conflict`/`on_lost`/`on_skew(workload, region)` as
    found (the region is the anomalous write's, as the verdict's cells count it)."""

    def __init__(
        self,
        on_conflict: Notify,
        on_lost: Notify,
        on_skew: Notify,
        *,
        max_keys: int = 50_000,
        max_versions: int = 64,
        max_total: int = 262_144,
        horizon: int = 16,
    ) -> None:
        if max_keys < 1 or max_versions < 2 or max_total < max_versions:
            raise ValueError(
                f"max_keys must be >= 1, max_versions >= 2 and max_total >= max_versions, got "
                f"{max_keys}, {max_versions}, {max_total}"
            )
        self._on_conflict = on_conflict
        self._on_lost = on_lost
        self._on_skew = on_skew
        self._max_keys = max_keys
        self._max_versions = max_versions
        self._max_total = max_total
        self._total = 0  # versions kept over all keys
        self._horizon = horizon
        #: candidates given up on: still undecided `horizon` versions later (left to the verdict)
        self.undecided = 0
        self._keys: dict[str, _KeyGraph] = {}  # least recently written first
        self.regions: set[str] = set()
        self._bits: dict[str, int] = {}  # region -> its bit in _Version.seen

    def _bit(self, region: str) -> int:
        bit = self._bits.get(region)
        if bit is None:
            bit = self._bits[region] = 1 << len(self._bits)
        return bit

    def __len__(self) -> int:
        return len(self._keys)

    def observe(self, record: dict[str, Any]) -> None:
        if record.get("outcome") != "ok":
            return
        op = record.get("op")
        key = record.get("key")
        region = record.get("region")
        if key is None or region is None:
            return
        self.regions.add(region)
        if op in _WRITES:
            vid = record.get("vid") or record.get("id")  # a write's vid is its record id
            if vid is None:
                return
            graph = self._graph(key)
            self._add_write(graph, vid, region, record)
        elif op == "get":
            graph = self._keys.get(key)
            vid = record.get("vid")
            if graph is None or vid is None:
                return
            if not self._add_read(graph, vid, region, record.get("t_invoke", 0.0)):
                return
        else:
            return
        if graph.candidates:
            self._settle(graph)

    def _graph(self, key: str) -> _KeyGraph:
        """The key's graph, moved to the most recently written end."""
        graph = self._keys.pop(key, None)
        if graph is None:
            if len(self._keys) >= self._max_keys:
                self._evict_oldest()
            graph = _KeyGraph()
        self._keys[key] = graph
        return graph

    def _evict_oldest(self) -> None:
        oldest = next(iter(self._keys))
        self._total -= len(self._keys.pop(oldest).versions)

    def _add_write(self, graph: _KeyGraph, vid: str, region: str, record: dict[str, Any]) -> None:
        parent = record.get("pred")
        head = graph.heads.get(region)
        if parent is None and head is not None:
            # a write after a delete reads no old item; it still follows the tombstone there
            before = graph.versions.get(head[0])
            if before is not None and before.deleted:
                parent = head[0]
        if vid in graph.versions:
            return  # the same record twice (a resent batch): count it once
        if len(graph.versions) >= self._max_versions:
            graph.forget_oldest()
        else:
            self._total += 1
            while self._total > self._max_total:  # never this key: it was written last
                self._evict_oldest()
        depth: int | None = 0
        if parent is not None:
            known = graph.versions.get(parent)
            depth = None
            if known is not None:
                known.seen |= self._bit(region)
                depth = None if known.depth is None else known.depth + 1
        version = graph.versions[vid] = _Version(parent, depth, record, self._bit(region))
        if depth is not None and depth > graph.deepest:
            graph.deepest = depth
        siblings = graph.add_child(parent or _ROOT, vid)
        if siblings is not None:
            self._on_conflict(version.workload, version.region)
            graph.candidates.update(
                s for s in siblings if s in graph.versions and s not in graph.lost
            )
            if len(graph.candidates) > MAX_CANDIDATES:
                # a storm of siblings: judge the newest, leave the rest to the verdict
                extra = sorted(graph.candidates, key=lambda c: graph.versions[c].t_complete)
                for c in extra[: len(extra) - MAX_CANDIDATES]:
                    graph.candidates.discard(c)
                    self.undecided += 1
        if head is None or version.t_complete >= head[1] or parent == head[0]:
            graph.heads[region] = (vid, version.t_complete)

    def _add_read(self, graph: _KeyGraph, vid: str, region: str, t_invoke: float) -> bool:
        """Note what a read saw; True when it moved the region's head."""
        version = graph.versions.get(vid)
        if version is not None:
            version.seen |= self._bit(region)
        head = graph.heads.get(region)
        # only a read that began after the last known change moves the region's head
        if (head is None or t_invoke > head[1]) and (head is None or head[0] != vid):
            graph.heads[region] = (vid, t_invoke)
            return True
        return False

    def _settle(self, graph: _KeyGraph) -> None:
        oldest = graph.deepest - self._horizon
        depth_of = {c: graph.versions[c].depth for c in graph.candidates}
        stale = [c for c, d in depth_of.items() if d is not None and d < oldest]
        if stale:
            self.undecided += len(stale)
            graph.candidates.difference_update(stale)
            if not graph.candidates:
                return
        depths = [d for c, d in depth_of.items() if c in graph.candidates]
        known = [d for d in depths if d is not None]
        floor = min(known) if len(known) == len(depths) else None  # None: walk all the way
        lines = {
            region: graph.ancestry(vid, floor, self._max_versions)
            for region, (vid, _) in graph.heads.items()
        }
        complete = all(done for _, done in lines.values())
        looked = 0  # the regions whose heads were walked, as bits
        for region in lines:
            looked |= self._bit(region)
        for vid in list(graph.candidates):
            version = graph.versions[vid]
            holders = sum(1 for line, _ in lines.values() if vid in line)
            if holders:
                if holders >= len(self.regions):
                    graph.candidates.discard(vid)  # every region holds it or a descendant
                continue
            # no region holds it nor anything built on it, and every region where it was
            # seen has moved on: last-writer-wins discarded the whole branch
            if not complete or version.seen & ~looked:
                continue
            graph.candidates.discard(vid)
            depth = version.depth if version.depth is not None else graph.deepest
            for lost in (vid, *graph.descendants(vid, depth)):
                if lost not in graph.lost:
                    graph.lost.add(lost)
                    graph.candidates.discard(lost)
                    self._on_lost(graph.versions[lost].workload, graph.versions[lost].region)
            winner = self._winning_sibling(graph, vid, version, lines[version.region][0])
            if winner is not None and version.t_invoke > winner.t_complete:
                self._on_skew(version.workload, version.region)

    @staticmethod
    def _winning_sibling(
        graph: _KeyGraph, vid: str, version: _Version, line: set[str]
    ) -> _Version | None:
        for sibling in graph.siblings(version.parent or _ROOT):
            if sibling != vid and sibling in line:
                return graph.versions.get(sibling)
        return None
