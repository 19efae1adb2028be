"""Hand-built report directories for the verdict's tests."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

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


@pytest.fixture(name="history")
def history_fixture(tmp_path: Path) -> HistoryBuilder:
    return HistoryBuilder(tmp_path / "report")
