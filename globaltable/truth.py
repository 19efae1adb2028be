"""Ground truth: the version graph the emulator actually applied (docs/architecture.md,
"Version graph rules"), kept per item from what each local write replaced, and the conflicts
and lost updates it implies. It never looks at any client's history."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from hashlib import blake2b
from typing import Any, NamedTuple

VID = "hh_vid"
ATTR_VID = "hh_vid_"
#: lost writes a key's truth names; beyond them it counts them (`lost_more`) and sums their
#: hashes (`lost_digest`), so its memory grows with keys, not with a soak's hours
LOST_LISTED = 16
_MASK = (1 << 64) - 1


def vid_digest(vids: Iterable[str]) -> int:
    """The sum modulo 2**64 of each vid's 8-byte BLAKE2b (big-endian): the same for the same
    set in any order, so the verdict can check the lost writes a truth no longer names."""
    return (
        sum(int.from_bytes(blake2b(v.encode(), digest_size=8).digest(), "big") for v in vids)
        & _MASK
    )


class WriteNode(NamedTuple):
    """One acknowledged instrumented write: `pred -> vid`, and per attribute for
    attribute-level writes."""

    vid: str
    pred: str | None
    attrs: dict[str, str] | None
    attr_preds: dict[str, str | None] | None


def _s(item: dict[str, Any] | None, name: str) -> str | None:
    if item is None:
        return None
    value = item.get(name)
    if isinstance(value, dict):
        text = value.get("S")
        if isinstance(text, str):
            return text
    return None


def has_attr_vid(item: dict[str, Any]) -> bool:
    """Whether an image has any hh_vid_<attr> attribute (an attribute-level write). A plain
    loop: `any()` over a generator costs twice as much on the write path."""
    for name in item:  # noqa: SIM110
        if name.startswith(ATTR_VID):
            return True
    return False


def attr_vids(item: dict[str, Any] | None) -> dict[str, str]:
    """hh_vid_<attr> values of an item image: attr -> vid."""
    if item is None:
        return {}
    out = {}
    for name in item:
        if name.startswith(ATTR_VID):
            vid = _s(item, name)
            if vid is not None:
                out[name[len(ATTR_VID) :]] = vid
    return out


def node_for(
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    pred: str | None,
    delete_vid: str | None,
) -> WriteNode | None:
    """The version-graph node of one local write (None: not an instrumented write).
    `pred` is the hh_vid of the live item it replaced; `new is None` for deletes."""
    if new is None:
        if delete_vid is None:
            return None
        return WriteNode(delete_vid, pred, None, None)
    new_attrs = attr_vids(new)
    old_attrs = attr_vids(old)
    changed = {a: v for a, v in new_attrs.items() if old_attrs.get(a) != v}
    vid = _s(new, VID)
    if vid is None or (vid == pred and old is not None):
        if not changed:
            return None
        vid = next(iter(changed.values()))
    if not changed:
        return WriteNode(vid, pred, None, None)
    return WriteNode(vid, pred, changed, {a: old_attrs.get(a) for a in changed})


def _ancestry(parents: dict[str, str | None], final: str | None) -> set[str]:
    seen: set[str] = set()
    while final is not None and final not in seen:
        seen.add(final)
        final = parents.get(final)
    return seen


def judge(nodes: list[WriteNode], final_vid: str | None, final_item: dict[str, Any] | None):
    """{"writes", "conflicts", "lost", "final"} for one key."""
    conflicts = sum(k - 1 for k in Counter(n.pred for n in nodes).values())
    parents = {n.vid: n.pred for n in nodes}
    kept = _ancestry(parents, final_vid)
    final_attrs = attr_vids(final_item)
    attr_kept: dict[str, set[str]] = {}
    lost: list[str] = []
    for n in nodes:
        if n.attrs is None:
            if n.vid not in kept:
                lost.append(n.vid)
            continue
        for attr, vid in n.attrs.items():
            if attr not in attr_kept:
                chain = {
                    m.attrs[attr]: m.attr_preds[attr] for m in nodes if m.attrs and attr in m.attrs
                }  # type: ignore[index]
                attr_kept[attr] = _ancestry(chain, final_attrs.get(attr))
            if vid not in attr_kept[attr]:
                lost.append(n.vid)
                break
    return {"writes": len(nodes), "conflicts": conflicts, "lost": lost, "final": final_vid}


class LostWrites:
    """A key's lost writes: the first LOST_LISTED named (with acknowledgement numbers), the
    others counted and their vid_digest summed."""

    __slots__ = ("listed", "more", "digest")

    def __init__(self) -> None:
        self.listed: list[tuple[int, str]] = []
        self.more = 0
        self.digest = 0

    def add(self, seq: int, vid: str) -> None:
        if len(self.listed) < LOST_LISTED:
            self.listed.append((seq, vid))
        else:
            self.more += 1
            self.digest = (self.digest + vid_digest((vid,))) & _MASK

    def copy(self) -> LostWrites:
        out = LostWrites()
        out.listed, out.more, out.digest = list(self.listed), self.more, self.digest
        return out

    def report(self) -> dict[str, Any]:
        """`lost`: the names, in acknowledgement order; when there are more, `lost_more`
        counts them and `lost_digest` is the vid_digest of every lost write, named or not."""
        names = [vid for _, vid in sorted(self.listed)]
        if not self.more:
            return {"lost": names}
        digest = (self.digest + vid_digest(names)) & _MASK
        return {"lost": names, "lost_more": self.more, "lost_digest": digest}


class KeyTruth:
    """One key's version graph: the write nodes still undecided, and what is decided."""

    __slots__ = ("key", "nodes", "writes", "children", "conflicts", "lost", "frozen", "common",
                 "kept")  # fmt: skip

    def __init__(self, key: Any) -> None:
        self.key = key
        self.nodes: list[tuple[int, WriteNode]] = []  # (acknowledgement number, node)
        self.writes = 0
        #: writes per pred, for preds that may still be replaced by another write
        self.children: Counter[str | None] = Counter()
        self.conflicts = 0  # of preds that can no longer be replaced
        self.lost = LostWrites()  # decided lost
        #: attribute-level or repeated vids: judged whole at the end, never compacted
        self.frozen = False
        #: the newest node every alive version descended from when compacted (dropped, with
        #: its ancestors: `kept` of them), None before any
        self.common: str | None = None
        self.kept = 0

    def compact(self, live: set[str | None]) -> None:
        """Decide what the versions alive now (stored in a region or on their way to one;
        None: a region without the item, or holding one written without hh_vid) already
        decide. An instrumented later version descends from one of them, so a node that is
        an ancestor of none of them is lost for good, and a pred none of them is can never be
        replaced again: its conflicts are final. The nodes that are ancestors of all of them
        are kept unless a version written without hh_vid wins in the end (then lost: counted,
        not listed); they are dropped, the newest remembered as `common`."""
        parents = {n.vid: n.pred for _, n in self.nodes}
        if self.frozen or len(parents) < len(self.nodes):
            self.frozen = True
            return
        lines = [_ancestry(parents, v) & parents.keys() for v in live if v is not None]
        anywhere = set().union(*lines)
        everywhere = set.intersection(*lines) if lines and None not in live else set()
        undecided = []
        for seq, node in self.nodes:
            if node.vid not in anywhere:
                self.lost.add(seq, node.vid)
            elif node.vid not in everywhere:
                undecided.append((seq, node))
        if everywhere:  # a path from the last common node: its tip is the new one
            preds = {parents[v] for v in everywhere}
            (self.common,) = everywhere - preds
            self.kept += len(everywhere)
        self.nodes = undecided
        for pred in [p for p in self.children if p is not None and p not in live]:
            self.conflicts += self.children.pop(pred) - 1

    def report(self, final_vid: str | None, final_item: dict[str, Any] | None) -> dict[str, Any]:
        verdict = judge([n for _, n in self.nodes], final_vid, final_item)
        lost_now = set(verdict["lost"])
        lost = self.lost.copy()
        for seq, n in self.nodes:
            if n.vid in lost_now:
                lost.add(seq, n.vid)
        conflicts = self.conflicts + sum(k - 1 for k in self.children.values())
        out = {"writes": self.writes, "conflicts": conflicts, **lost.report(), "final": final_vid}
        if self.kept and not self._descends(final_vid):
            out["lost_unlisted"] = self.kept  # kept when compacted; then a plain write won
        return out

    def _descends(self, vid: str | None) -> bool:
        """Whether `vid`'s ancestry reaches the dropped common node."""
        parents = {n.vid: n.pred for _, n in self.nodes}
        seen: set[str] = set()
        while vid is not None and vid not in seen:
            if vid == self.common:
                return True
            seen.add(vid)
            vid = parents.get(vid)
        return False


#: acknowledged writes between two compactions of a table's truth
COMPACT_EVERY = 50_000


class TruthLog:
    """Per table: key label -> its KeyTruth, fed in acknowledgement order. `record` says
    when the log is due for `compact` (the engine knows which versions are alive)."""

    def __init__(self) -> None:
        self.keys: dict[str, KeyTruth] = {}
        self._seq = 0
        self._since = 0

    def record(self, label: str, key: Any, node: WriteNode) -> bool:
        truth = self.keys.get(label)
        if truth is None:
            truth = self.keys[label] = KeyTruth(key)
        self._seq += 1
        truth.nodes.append((self._seq, node))
        truth.writes += 1
        truth.children[node.pred] += 1
        if node.attrs is not None:
            truth.frozen = True
        self._since += 1
        return self._since >= COMPACT_EVERY

    def compact(self, live: Callable[[Any], set[str | None]]) -> None:
        """Every key with a few undecided nodes, against `live(key)`: the vids stored or in
        flight for it now (None for a region that has no version of it)."""
        self._since = 0
        for truth in self.keys.values():
            if len(truth.nodes) > 2 and not truth.frozen:
                truth.compact(live(truth.key))

    def report(self, finals: dict[str, tuple[str | None, dict[str, Any] | None]]) -> dict:
        """`finals`: key label -> (final vid, final item image) as converged."""
        keys = {}
        totals = {"writes": 0, "conflicts": 0, "lost_updates": 0}
        for label, truth in self.keys.items():
            final_vid, final_item = finals.get(label, (None, None))
            verdict = truth.report(final_vid, final_item)
            keys[label] = verdict
            totals["writes"] += verdict["writes"]
            totals["conflicts"] += verdict["conflicts"]
            totals["lost_updates"] += (
                len(verdict["lost"]) + verdict.get("lost_more", 0) + verdict.get("lost_unlisted", 0)
            )
        return {"totals": totals, "keys": keys}
