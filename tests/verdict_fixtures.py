"""Hand-built report directories for the verdict's tests, and random multi-region executions
of a reference last-writer-wins model (`simulate`, driven by `plans`)."""

from __future__ import annotations

import heapq
import itertools
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import strategies as st

from verdict import native_reader
from verdict.analyze import analyze
from verdict.history import CHAOS_LOG, HISTORY_DIR, TRUTH_FILE, encode, header


class HistoryBuilder:
    """Writes a report directory: one shard per region (worker `w-<region>`), chaos.jsonl,
    campaign.yaml, truth.json. Writes return their vid (= record id)."""

    def __init__(self, root: Path, campaign: dict[str, Any] | None = None) -> None:
        self.root = root
        self.campaign = campaign if campaign is not None else {"name": "t"}
        self.shards: dict[str, list[dict[str, Any]]] = {}
        self.seq = itertools.count(1)
        self.chaos: list[dict[str, Any]] = []
        self.truth: dict[str, Any] | None = None

    def _rec(self, region: str, **fields: Any) -> dict[str, Any]:
        worker = f"w-{region}"
        rec = {"id": f"{worker}:{next(self.seq)}", "worker": worker, "region": region, **fields}
        self.shards.setdefault(worker, []).append(rec)
        return rec

    def write(
        self,
        region: str,
        key: str,
        pred: str | None = None,
        t: float = 0.0,
        *,
        dur: float = 0.01,
        op: str = "put",
        outcome: str = "ok",
        workload: str | None = None,
        **extra: Any,
    ) -> str:
        rec = self._rec(
            region,
            workload=workload or key.split("#")[0],
            key=key,
            op=op,
            pred=pred,
            t_invoke=t,
            t_complete=t + dur,
            outcome=outcome,
            **extra,
        )
        rec["vid"] = rec["id"]
        if "attrs" in extra:
            rec["attrs"] = dict.fromkeys(extra["attrs"], rec["id"])
        return rec["id"]

    def timed_out(self, region: str, key: str, t: float, **extra: Any) -> str:
        """A write of unknown outcome as the recorder makes it: no answer, so no `pred`."""
        vid = self.write(region, key, None, t, outcome="unknown", **extra)
        del self.shards[f"w-{region}"][-1]["pred"]
        return vid

    def read(
        self,
        region: str,
        key: str,
        vid: str | None,
        t: float,
        *,
        workload: str | None = None,
        **extra: Any,
    ) -> None:
        self._rec(
            region,
            workload=workload or key.split("#")[0],
            key=key,
            op="get",
            vid=vid,
            t_invoke=t,
            t_complete=t + 0.01,
            outcome="ok",
            **extra,
        )

    def final(self, key: str, vids: dict[str, str | None], t: float = 100.0, **extra: Any) -> None:
        for region, vid in vids.items():
            self.read(region, key, vid, t, final=True, **extra)

    def lost_update(self, key: str, t: float) -> None:
        """The classic loss on one key: us-east-1 writes v0 then a winner on it; eu-west-1
        writes a sibling on v0 1 ms later, which is lost; eu-west-1 then reads stale v0; the
        final reads agree on the winner."""
        v0 = self.write("us-east-1", key, None, t)
        win = self.write("us-east-1", key, v0, t + 0.5)
        self.write("eu-west-1", key, v0, t + 0.501)
        self.read("eu-west-1", key, v0, t + 3)
        self.final(key, {"us-east-1": win, "eu-west-1": win}, t=200.0)

    def probe(self, source: str, target: str, t: float, lag: float) -> None:
        self._rec(
            source,
            workload="",
            op="probe",
            target=target,
            lag=lag,
            t_invoke=t,
            t_complete=t + lag,
            outcome="ok",
            probe="heartbeat",
        )

    def fault(self, fid: str, fault: str, target: str, start: float, heal: float | None) -> None:
        self.chaos.append(
            {"event": "start", "id": fid, "fault": fault, "target": target, "t": start}
        )
        if heal is not None:
            self.chaos.append({"event": "heal", "id": fid, "t": heal})

    def save(self, *, terminated: bool = True) -> Path:
        hist = self.root / HISTORY_DIR
        hist.mkdir(parents=True, exist_ok=True)
        for worker, recs in self.shards.items():
            with (hist / f"{worker}.jsonl").open("wb") as f:
                f.write(header(worker, 0.0))
                for rec in recs:
                    f.write(encode(rec))  # type: ignore[arg-type]
                if terminated:
                    f.write(orjson.dumps({"end": True, "records": len(recs)}) + b"\n")
        (self.root / "campaign.yaml").write_text(yaml.safe_dump(self.campaign))
        if self.chaos:
            (self.root / CHAOS_LOG).write_bytes(
                b"".join(orjson.dumps(e) + b"\n" for e in self.chaos)
            )
        if self.truth is not None:
            (self.root / TRUTH_FILE).write_bytes(orjson.dumps(self.truth))
        return self.root


# ---------- both history readers on one report directory ----------

#: the reader a regular history is read by: the native one wherever it is built
FASTEST = "native" if native_reader.available() else "records"


def both(root: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the native reader's verdict, the per-record reader's), without what names the
    reader and how long it took."""
    got = {}
    for reader in native_reader.READERS:
        data = analyze(root, write=False, reader=reader).data
        data.pop("analysis_s")
        data.pop("analysis_cpu_s")
        data["history"].pop("reader")
        data["history"].pop("reader_refusals")
        got[reader] = data
    return got["native"], got["records"]


def reader_of(root: Path) -> str:
    """The reader that took the whole history (the others refused it)."""
    return analyze(root, write=False).data["history"]["reader"]


# ---------- a reference LWW model's executions (tests/test_verdict_property.py explains) ----------

REGIONS = ("r1", "r2", "r3")


class _Replication:
    """The model of the table: each region's stored item per key (the highest (timestamp,
    region) wins), and writes in flight on each link, delivered in order."""

    def __init__(self) -> None:
        self.stored: dict[tuple[str, int], tuple[float, str, str, int] | None] = {}
        self.events: list[tuple[float, int, str, int, tuple[float, str, str, int]]] = []
        self.link_free: dict[tuple[str, str], float] = {}
        self.seq = 0

    def deliver_until(self, until: float) -> None:
        while self.events and self.events[0][0] <= until:
            _, _, region, key, item = heapq.heappop(self.events)
            cur = self.stored.get((region, key))
            if cur is None or (item[0], item[1]) > (cur[0], cur[1]):
                self.stored[(region, key)] = item

    def replicate(
        self, region: str, key: int, item: tuple[float, str, str, int], arrives: float
    ) -> None:
        """Sends `item` to every other region, arriving no earlier than what the link
        carries already (a link delivers in order)."""
        for other in REGIONS:
            if other != region:
                at = max(arrives, self.link_free.get((region, other), 0.0))
                self.link_free[(region, other)] = at
                self.seq += 1
                heapq.heappush(self.events, (at, self.seq, other, key, item))


def simulate(h: HistoryBuilder, plan: list[tuple[int, int, float, float, bool]]) -> dict[str, Any]:
    """plan: (key, region, gap, delay, unknown) per write. Returns the model's truth."""
    skew = {"r1": 0.0, "r2": 0.05, "r3": -0.05}
    model = _Replication()
    stored = model.stored
    preds: dict[str, str | None] = {}
    keys_of: dict[str, int] = {}
    counted: set[str] = set()
    seen: set[str] = set()
    t = 0.0
    for key, r, gap, delay, unknown in plan:
        t += 0.01 + gap
        model.deliver_until(t)
        region = REGIONS[r]
        cur = stored.get((region, key))
        ts = max(t + skew[region], cur[0] + 1e-6 if cur else 0.0)
        count = (cur[3] if cur else 0) + 1
        name = f"profile#{key}"
        vid = h.write(
            region,
            name,
            cur[2] if cur else None,
            t,
            dur=0.001,
            outcome="unknown" if unknown else "ok",
            value=1,
        )
        preds[vid], keys_of[vid] = cur[2] if cur else None, key
        item = (ts, region, vid, count)
        stored[(region, key)] = item
        if not unknown:
            counted.add(vid)
        model.replicate(region, key, item, t + delay)
    model.deliver_until(float("inf"))
    finals = {}
    for key in {k for k, *_ in plan}:
        items = {region: stored[(region, key)] for region in REGIONS}
        vids = {region: item[2] for region, item in items.items()}
        h.final(f"profile#{key}", vids, t=t + 100, value=items["r1"][3])
        finals[key] = items["r1"][2]
        seen |= set(vids.values())  # an unknown write seen in a final read happened
    # a write is kept if it is on the final item's chain of preds (computed from the model)
    kept: set[str] = set()
    for vid in finals.values():
        cur: str | None = vid
        while cur is not None:
            kept.add(cur)
            cur = preds[cur]
    seen |= {p for p in preds.values() if p}  # ...and so did one some write replaced
    counted |= seen
    siblings: dict[tuple[int, str | None], int] = {}
    for v in counted:
        siblings[(keys_of[v], preds[v])] = siblings.get((keys_of[v], preds[v]), 0) + 1
    return {
        "conflicts": sum(n - 1 for n in siblings.values()),
        "lost": len(counted - kept),
        "writes": len(plan),
        "converged": all(len({stored[(r, k)][2] for r in REGIONS}) == 1 for k, *_ in plan),
    }


plans = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.integers(0, 2),
        st.sampled_from([0.0, 0.0, 0.02, 0.3]),
        st.sampled_from([0.005, 0.05, 0.2, 1.0]),
        st.sampled_from([False, False, False, True]),  # outcome unknown (a timeout)
    ),
    min_size=1,
    max_size=25,
)


extras = st.lists(
    st.tuples(
        st.sampled_from(["fail", "cond", "delete", "counter", "get", "harness", "probe"]),
        st.integers(0, 5),
        st.integers(0, 2),
    ),
    max_size=25,
)


def add_extras(h: HistoryBuilder, extra: list[tuple[str, int, int]]) -> None:
    """Records of every other kind: failed writes, deletes, counters with values, plain and
    consistent reads with sizes and capacity, harness keys, probes."""
    regions = ("r1", "r2", "r3")
    for i, (kind, key, r) in enumerate(extra):
        region, t = regions[r], 50.0 + i * 0.01
        if kind == "fail":
            h.write(region, f"profile#{key}", None, t, outcome="fail", error="Throttled")
        elif kind == "cond":
            h.write(region, f"profile#{key}", None, t, outcome="fail",
                    error="ConditionalCheckFailedException", item_bytes=900)  # fmt: skip
        elif kind == "delete":
            h.write(region, f"gone#{key}", None, t, op="delete", workload="profile")
        elif kind == "counter":
            v = h.write(region, f"clicks#{key}", None, t, op="update", value=key + 1,
                        item_bytes=1500, old_bytes=1400, capacity=2.0)  # fmt: skip
            h.final(f"clicks#{key}", {region: v}, value=key + 1)
        elif kind == "get":
            h.read(region, f"profile#{key}", None, t, consistent=bool(key % 2), item_bytes=5000)
        elif kind == "harness":
            h.write(region, f"hh#hb#{key}", None, t, workload="")
        else:
            h.probe(region, regions[(r + 1) % 3], t, 0.001 * (key + 1))


# ---------- a report with something in every section (the HTML report's tests) ----------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def eventful(h: HistoryBuilder) -> Path:
    """Conflicts and lost updates inside a partition, probes on two links, a stale read."""
    for i in range(20):
        key, t = f"profile#{i}", 100.0 + i
        h.lost_update(key, t)
        h.probe("us-east-1", "eu-west-1", t, 0.2 + i / 50)
        h.probe("eu-west-1", "us-east-1", t, 0.1)
    h.fault("f1", "partition", "us-east-1<->eu-west-1", 105.0, 112.0)
    h.campaign = {"name": "html <check>", "target": {"regions": ["us-east-1", "eu-west-1"]}}
    return h.save()


@pytest.fixture
def history(tmp_path: Path) -> HistoryBuilder:
    """A report directory to build by hand."""
    return HistoryBuilder(tmp_path / "report")
