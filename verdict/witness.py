"""The store's own witness: pglogical's conflict log, read into resolved conflicts and
discarded versions, and checked against the verdict's lost updates.

pglogical logs a conflict each time an incoming change meets a local row from another origin
(`pglogical.conflict_log_level`), naming both tuples and the resolution. Raw counts
over-count: a plain sequential overwrite from another origin is logged too, and one
concurrent pair is logged on every node that resolves it. Rows carry `hh_prev`, the version a
write replaced, so an entry whose remote tuple replaced exactly the local version, and was
applied, is causal and excluded; the rest are deduplicated by (key, pair of versions). A
causal overwrite that was *not* applied stays: a local version whose commit timestamp is ahead
(a skewed clock) beats a later write that had seen it. A discarded version is
the local one when the remote change was applied over it, the remote one when the local row
was kept or the change found no row to update (`tuple not found ... skip`: an update that
arrived before its insert). Every write the verdict finds lost must be on a branch the log
shows discarded; one that is not means the verdict or the store's log is wrong, and is
reported like a truth mismatch.
A discarded version need not be lost: a node may drop a version that a descendant later
replaces everywhere. A lost write need not be discarded itself either: a node may build on
it and that later version be the one discarded, taking the branch with it. So the check is
that every lost write is a discarded version or an ancestor of one (by the versions each
write replaced); the two counts are reported apart.

The report directory keeps each region's conflict-log lines as the server wrote them
(`pglogical/<region>.conflicts.jsonl`, PostgreSQL's jsonlog format).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verdict.graph import VersionStore
from verdict.lost import judge_key

WITNESS_DIR = "pglogical"
CONFLICTS_SUFFIX = ".conflicts.jsonl"
#: examples of lost updates the log does not show, quoted in verdict.json
EXAMPLES = 10

_MESSAGE = re.compile(
    r"^CONFLICT: remote (?P<action>INSERT|UPDATE|DELETE) on relation (?P<relation>\S+)"
    r".*Resolution: (?P<resolution>\w+)\.?$"
)
_TUPLE = re.compile(
    r"\{pk\[text\]:(?P<pk>.*?) hh_vid\[text\]:(?P<vid>\S*) hh_prev\[text\]:(?P<prev>\S*) "
)


@dataclass(frozen=True)
class Row:
    pk: str
    vid: str | None
    prev: str | None


@dataclass
class Witness:
    """What the conflict logs say, deduplicated."""

    entries: int = 0
    causal: int = 0
    skipped: int = 0
    unparsed: int = 0
    pairs: set[tuple[str, str, str]] = field(default_factory=set)
    discarded: set[str] = field(default_factory=set)
    regions: list[str] = field(default_factory=list)

    def add(self, message: str, detail: str) -> None:
        head = _MESSAGE.match(message)
        if head is None:
            return
        self.entries += 1
        local, remote = _tuples(detail)
        resolution = head["resolution"]
        if remote is None:
            self.unparsed += 1
            return
        if remote.vid is None:  # an uninstrumented row (lag heartbeat, quiesce marker)
            return
        if local is None:  # no row to apply to: the change was skipped on this node
            self.skipped += 1
            if remote.vid:
                self.discarded.add(remote.vid)
            return
        if remote.vid == local.vid or (remote.prev == local.vid and resolution == "apply_remote"):
            self.causal += 1  # a sequential overwrite, applied as it should be
            return
        if local.vid and remote.vid:
            a, b = sorted((local.vid, remote.vid))
            self.pairs.add((remote.pk, a, b))
        loser = local.vid if resolution == "apply_remote" else remote.vid
        if loser:
            self.discarded.add(loser)


def _row(match: re.Match[str]) -> Row:
    def value(text: str) -> str | None:
        return None if text == "(null)" else text

    return Row(match["pk"], value(match["vid"]), value(match["prev"]))


def _tuples(detail: str) -> tuple[Row | None, Row | None]:
    """(local, remote) rows of an entry's detail; local None when there was none."""
    found = list(_TUPLE.finditer(detail))
    if detail.startswith("remote tuple"):
        return None, _row(found[0]) if found else None
    if len(found) < 2:
        return None, None
    return _row(found[0]), _row(found[-1])


def read_witness(report_dir: Path) -> Witness | None:
    """The witness from the report's conflict logs; None when the run kept none."""
    folder = report_dir / WITNESS_DIR
    files = sorted(folder.glob(f"*{CONFLICTS_SUFFIX}")) if folder.is_dir() else []
    if not files:
        return None
    witness = Witness(regions=[f.name[: -len(CONFLICTS_SUFFIX)] for f in files])
    for path in files:
        for line in path.read_bytes().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                witness.unparsed += 1
                continue
            witness.add(str(entry.get("message", "")), str(entry.get("detail", "")))
    return witness


def lost_writes(store: VersionStore) -> list[int]:
    """Every write the verdict judges lost."""
    out: list[int] = []
    for k in range(len(store.keys.names)):
        out += judge_key(store, k).lost
    return out


def discarded_branches(store: VersionStore, discarded: set[str]) -> set[int]:
    """The writes of the discarded versions and of their ancestors: when the store drops a
    branch's tip, the writes it was built on that nothing else carries are gone with it."""
    numbers = store.vid_numbers(discarded)
    todo = [store.vid_write[v] for v in numbers.values()]
    seen: set[int] = set()
    while todo:
        w = todo.pop()
        if w < 0 or w in seen:
            continue
        seen.add(w)
        pred = store.w_pred[w]
        if pred >= 0:
            todo.append(store.vid_write[pred])
    return seen


def witness_check(witness: Witness | None, store: VersionStore) -> dict[str, Any]:
    """verdict.json's `witness` section and `witness_mismatch` (loud on purpose)."""
    if witness is None:
        return {}
    names = store.vid_names()
    lost_w = lost_writes(store)
    lost = [names[store.w_vid[w]] for w in lost_w]
    gone = discarded_branches(store, witness.discarded)
    unseen = [names[store.w_vid[w]] for w in lost_w if w not in gone]
    section: dict[str, Any] = {
        "source": "pglogical conflict log",
        "regions": witness.regions,
        "log_entries": witness.entries,
        "causal_excluded": witness.causal,
        "resolved_conflicts": len(witness.pairs),
        "discarded_versions": len(witness.discarded),
        "skipped_updates": witness.skipped,
        "lost_updates": len(lost),
        "lost_found_discarded": sum(v in witness.discarded for v in lost),
        "lost_on_discarded_branch": len(lost) - len(unseen),
        "discarded_not_lost": len(witness.discarded - set(lost)),
    }
    if witness.unparsed:
        section["unparsed_entries"] = witness.unparsed
    out: dict[str, Any] = {"witness": section, "witness_mismatch": bool(unseen)}
    if unseen:
        section["lost_not_in_log"] = len(unseen)
        section["examples"] = unseen[:EXAMPLES]
    return out
