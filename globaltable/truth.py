"""Ground truth: the version graph the emulator actually applied (docs/architecture.md,
"Version graph rules"), kept per item from what each local write replaced, and the conflicts
and lost updates it implies. It never looks at any client's history."""

from __future__ import annotations

from collections import Counter
from typing import Any, NamedTuple

VID = "hh_vid"
ATTR_VID = "hh_vid_"


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


class TruthLog:
    """Per table: key label -> the write nodes acknowledged for it, in acknowledgement order."""

    def __init__(self) -> None:
        self.nodes: dict[str, list[WriteNode]] = {}
        self.keys: dict[str, Any] = {}

    def record(self, label: str, key: Any, node: WriteNode) -> None:
        bucket = self.nodes.get(label)
        if bucket is None:
            self.nodes[label] = [node]
            self.keys[label] = key
        else:
            bucket.append(node)

    def report(self, finals: dict[str, tuple[str | None, dict[str, Any] | None]]) -> dict:
        """`finals`: key label -> (final vid, final item image) as converged."""
        keys = {}
        totals = {"writes": 0, "conflicts": 0, "lost_updates": 0}
        for label, nodes in self.nodes.items():
            final_vid, final_item = finals.get(label, (None, None))
            verdict = judge(nodes, final_vid, final_item)
            keys[label] = verdict
            totals["writes"] += verdict["writes"]
            totals["conflicts"] += verdict["conflicts"]
            totals["lost_updates"] += len(verdict["lost"])
        return {"totals": totals, "keys": keys}
