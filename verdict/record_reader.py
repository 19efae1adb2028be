"""The reference reader: every record decoded with orjson and added to the VersionStore and
the bill one at a time. It needs no compiler and defines what a history means; the native
reader (verdict.native_reader) is tested against it and hands it what it cannot read exactly.

The row rules, stated once here for Python (verdict/_scan.c states them once for C): a
record's `op` and `outcome` decide what it is —
- `probe` with outcome ok, a `lag` and a `target`: a replication-lag sample of the link
  region -> target (other probes are ignored);
- `get` with outcome ok: a *final read* when `final` is true (it must carry `key`), else a
  *read* (counted; kept for stale reads when it names a `vid`: then it carries `key` and
  `t_invoke`); a failed get is ignored;
- any other op is a write: outcome `fail` is a *failed write* (tallied with its `error`; a
  `blocked_by` names the write whose item rejected it); otherwise an acknowledged or unknown
  *write*, which carries `key`, `t_invoke`, `t_complete` and a vid (`vid`, else its `id`).
A record missing what its kind must carry is skipped as foreign (KeyError, TypeError, ...).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

from verdict.cost_campaign import CostAccumulator
from verdict.graph import (
    ATTR_LEVEL,
    DELETE,
    EVIDENCE_KINDS,
    MIXED_FINAL,
    NO_FINAL,
    PRED_UNKNOWN,
    UNKNOWN,
    FinalRead,
    VersionStore,
    error_name,
    rejection,
)
from verdict.shards import (
    REJECTS,
    SKIPPED,
    TRAILER,
    ReadStats,
    paused_gc,
    read_shards,
    require_records,
    shard_paths,
    take_line,
)

Add = Callable[[dict[str, Any]], None]


class RecordIngester:
    """`add(record)` for the VersionStore, one record at a time. The hot loop of the
    reference reader: each closure binds what it touches to locals once."""

    def __init__(self, store: VersionStore) -> None:
        self.s = store
        self.final_read, self.read = self._final_reader(), self._reader()
        self.write = self._writer()
        self.add = self._dispatcher()

    def vid(self, name: str) -> int:
        """The vid's number; a new one gets no write and is not yet seen."""
        s = self.s
        i = s.vids.get(name)
        if i is None:
            i = s.vids[name] = len(s.vid_write)
            s.vid_write.append(-1)
            s.seen.append(0)
        return i

    def seen_vid(self, name: str) -> int:
        """The vid's number, marked seen (read, replaced or finally read somewhere)."""
        v = self.vid(name)
        self.s.seen[v] = 1
        return v

    def key(self, name: str, workload: int) -> int:
        """The key's number; a new key is first credited to the workload that names it,
        until its first write (a reader's get may come first) hands it to the writer's."""
        s = self.s
        k = s.keys.ids.get(name)
        if k is None:
            k = s.keys(name)
            s.key_head.append(-1)
            s.key_workload.append(workload)
            s.key_final.append(NO_FINAL)
        return k

    def _dispatcher(self) -> Add:
        s = self.s
        regions, workloads = s.regions, s.workloads
        regions_get, workloads_get = regions.ids.get, workloads.ids.get
        final_read, read, write, probe = self.final_read, self.read, self.write, self.probe

        def add(rec: dict[str, Any]) -> None:
            op = rec["op"]
            region = regions_get(rec["region"])
            if region is None:
                region = regions(rec["region"])
            if op == "probe":
                probe(rec, region)
                return
            wname = rec.get("workload") or ""
            workload = workloads_get(wname)
            if workload is None:
                workload = workloads(wname)
            outcome = rec["outcome"]
            code = workload << 18 | region << 2
            if op != "get":
                write(rec, op, outcome, wname, workload, region, code)
            elif outcome != "ok":
                return
            elif "final" in rec and rec["final"]:  # inline test: a third of all records
                final_read(rec, workload, region)
            else:
                read(rec, workload, region, code)

        return add

    def _final_reader(self) -> Callable[[dict[str, Any], int, int], None]:
        s = self.s
        seen_vid, key_of, key_ids = self.seen_vid, self.key, s.keys.ids.get
        finals, key_final = s.finals, s.key_final

        def final_read(rec: dict[str, Any], workload: int, region: int) -> None:
            vname = rec.get("vid")
            v = seen_vid(vname) if vname else -1
            own = self.final_attrs(rec["attrs"]) if "attrs" in rec else ()
            key = rec["key"]
            k = key_ids(key)
            if k is None:
                k = key_of(key, workload)
            agreed = key_final[k]
            if own or v < 0 or (agreed != NO_FINAL and agreed != v):
                key_final[k] = MIXED_FINAL
            elif agreed == NO_FINAL:
                key_final[k] = v
            read = FinalRead(region, v, own, rec.get("value"))
            reads = finals.get(k)
            if reads is None:
                finals[k] = [read]
            else:
                reads.append(read)

        return final_read

    def _reader(self) -> Callable[[dict[str, Any], int, int, int], None]:
        s = self.s
        seen_vid, key_of, key_ids, tally = self.seen_vid, self.key, s.keys.ids.get, s.tally
        r_key, r_vid, r_region, r_t = s.r_key, s.r_vid, s.r_region, s.r_t
        latency = s.latency.add

        def read(rec: dict[str, Any], workload: int, region: int, code: int) -> None:
            vname = rec.get("vid")
            if vname:
                key, t = rec["key"], rec["t_invoke"] + 0.0  # may reject the record
                k = key_ids(key)
                if k is None:
                    k = key_of(key, workload)
                v = seen_vid(vname)
                r_t.append(t)
                r_key.append(k)
                r_vid.append(v)
                r_region.append(region)
            tally[code | 3] += 1
            t_inv, t_comp = rec.get("t_invoke"), rec.get("t_complete")
            if t_inv is not None and t_comp is not None and t_comp > 0:
                latency("get", region, workload, t_inv, t_comp)
            if "attrs" in rec and rec["attrs"]:
                for x in rec["attrs"].values():
                    if x:
                        seen_vid(x)

        return read

    def _writer(self) -> Callable[..., None]:
        s = self.s
        vids, vid_write, seen, tally, key_ids = s.vids, s.vid_write, s.seen, s.tally, s.keys.ids
        valued = {w for w, kind in s.value_kinds.items() if kind in EVIDENCE_KINDS}
        failed, append, latency = self.failed, self._append_write(), s.latency.add

        def write(rec: dict[str, Any], op: str, outcome: str, wname: str, workload: int,
                  region: int, code: int) -> None:  # fmt: skip
            # everything that can reject a malformed record runs before any state changes
            t_inv, t_comp = rec["t_invoke"] + 0.0, rec["t_complete"] + 0.0
            attrs = self.write_attrs(rec) if "attrs" in rec and rec["attrs"] else None
            if outcome == "ok":
                flags, kind = 0, 0
            elif outcome == "unknown":
                flags, kind = UNKNOWN if "pred" in rec else UNKNOWN | PRED_UNKNOWN, 1
            else:
                failed(rec, workload, region, code, t_inv, t_comp)
                return
            vname = rec.get("vid") or rec["id"]
            k = key_ids.get(rec["key"])
            if k is None:
                k = self.key(rec["key"], workload)
            n = len(vid_write)
            v = vids.setdefault(vname, n)
            if v == n:
                vid_write.append(-1)
                seen.append(0)
            elif vid_write[v] >= 0:
                s.duplicates += 1
                return
            pred = rec.get("pred")
            p = self.seen_vid(pred) if pred else -1
            if op == "delete":
                flags |= DELETE
            w = append(v, k, p, region, workload, flags, t_inv, t_comp, attrs)
            if valued and wname in valued and "value" in rec:
                s.w_value[w] = rec["value"]
            tally[code | kind] += 1
            if not kind and t_comp > 0:
                latency(op, region, workload, t_inv, t_comp)

        return write

    def _append_write(self) -> Callable[..., int]:
        s = self.s
        vid_write, key_head, key_workload = s.vid_write, s.key_head, s.key_workload
        w_vid, w_key, w_pred, w_region = s.w_vid, s.w_key, s.w_pred, s.w_region
        w_workload, w_flags, w_tinv, w_tcomp, w_next = (
            s.w_workload, s.w_flags, s.w_tinv, s.w_tcomp, s.w_next
        )  # fmt: skip

        def append(v: int, k: int, p: int, region: int, workload: int, flags: int,
                   t_inv: float, t_comp: float, attrs: Any) -> int:  # fmt: skip
            w = len(w_vid)
            vid_write[v] = w
            if attrs is not None:
                flags |= ATTR_LEVEL
                s.w_attrs[w] = attrs
            w_vid.append(v)
            w_key.append(k)
            w_pred.append(p)
            w_region.append(region)
            w_workload.append(workload)
            w_flags.append(flags)
            w_tinv.append(t_inv)
            w_tcomp.append(t_comp)
            w_next.append(key_head[k])
            if key_head[k] < 0:  # the key's first write: its workload owns the key
                key_workload[k] = workload
            key_head[k] = w
            return w

        return append

    def failed(self, rec: dict[str, Any], workload: int, region: int, code: int,
               t_inv: float, t_comp: float) -> None:  # fmt: skip
        s = self.s
        s.tally[code | 2] += 1
        s.failed_t.append(t_inv)
        s.failed_errors[workload, region, error_name(rec.get("error"))] += 1
        if "blocked_by" in rec:
            r = rejection(workload, region, rec.get("key"), t_inv, t_comp, rec["blocked_by"])
            if r is not None:
                s.rejections.append(r)

    def write_attrs(self, rec: dict[str, Any]) -> tuple[dict[str, int], dict[str, int]]:
        """An attribute-level write's versions: each attribute's own, then its pred."""
        apreds = rec.get("attr_preds") or {}
        if not isinstance(rec["attrs"], dict) or not isinstance(apreds, dict):
            raise TypeError("attrs and attr_preds must be objects")
        own = {a: self.vid(x) for a, x in rec["attrs"].items()}
        preds = {}
        for a in own:
            ap = apreds.get(a)
            preds[a] = self.seen_vid(ap) if ap else -1
        return own, preds

    def final_attrs(self, attrs: Any) -> tuple[tuple[str, int], ...]:
        """A final read's `hh_vid_<a>` versions, sorted, each marked seen."""
        if not attrs:
            return ()
        return tuple(sorted((a, self.seen_vid(x)) for a, x in attrs.items() if x))

    def probe(self, rec: dict[str, Any], region: int) -> None:
        s = self.s
        lag = rec.get("lag")
        target = rec.get("target")
        if rec["outcome"] != "ok" or lag is None or not target:
            return
        lag, t = float(lag), rec["t_invoke"] + 0.0  # may reject the record
        link = (region, s.regions(target))
        if link not in s.lags:
            s.lags[link] = array("d")
            s.probe_t[link] = array("d")
        s.lags[link].append(lag)
        s.probe_t[link].append(t)


def read_records(
    report_dir: Path, kinds: dict[str, str], stats: ReadStats
) -> tuple[VersionStore, CostAccumulator]:
    """Every record of every shard, in shard order, into a VersionStore and the bill; header
    and trailer lines consumed, torn and foreign lines skipped and counted in `stats`.

    A shard is cleanly closed when its last line is the trailer `{"end": true, "records": n}`;
    shards without it are listed in `stats.unterminated` (the run was killed: partial)."""
    store, cost = VersionStore(value_kinds=kinds), CostAccumulator()
    add, observe = RecordIngester(store).add, cost.observe

    def sink(record: dict[str, Any]) -> None:
        add(record)
        observe(record)

    def read_body(path: Path, f: Any) -> tuple[bool, int]:
        closed, records = False, 0
        for n, line in enumerate(f, start=2):
            kind = take_line(path.name, n, line, stats, sink)
            if kind is not SKIPPED:
                closed = kind is TRAILER
                records += kind is not TRAILER
        return closed, records

    with paused_gc():
        read_shards(shard_paths(report_dir), stats, read_body)
    require_records(report_dir, stats)
    stats.reader = "records"
    return store, cost


class Irregular(Exception):
    """A history only the per-record reader reads exactly (a line it keeps in part, a
    record the native scanner refuses even alone): read it all per record."""


#: the per-record judge of one decoded line: raises what the per-record reader's sink raises
Judge = Callable[[dict[str, Any]], None]


def judge_record(kinds: dict[str, str]) -> Judge:
    """What the per-record reader does with one decoded line, on scratch state: raises as
    its sink would (the line is skipped), or Irregular when it would keep part of a line it
    skips (a region, key or vid interned before the line was rejected)."""

    def judge(rec: dict[str, Any]) -> None:
        store = VersionStore(value_kinds=kinds)
        try:
            RecordIngester(store).add(rec)
        except REJECTS:
            touched = store.regions.names or store.workloads.names or store.keys.names
            if touched or len(store.vid_write) or store.lags:
                raise Irregular("a skipped line that names a region, key or vid") from None
            raise
        try:
            CostAccumulator().observe(rec)
        except REJECTS as e:
            raise Irregular(f"a record the cost model refuses: {e}") from None

    return judge
