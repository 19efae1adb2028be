"""Distributed mode, measured side by side in one run (issue 8).

    python bench/distributed.py [--section streaming|workers|all] [--seconds 10]
        [--repeat 1] [--responder c|python] [--responder-policy batch|normal|both] [--coalesce-ms 0]

streaming: a real Locust master with hothot's HistoryReceiver (shards + live metrics + counts)
  and one producer process that pushes synthetic records through hothot's HistoryStream as
  fast as the target rate allows. Prints records/s received and the backlog (produced - received)
  every second: a backlog that keeps growing means the master cannot keep up.
workers: `hothot run` against a null DynamoDB responder (so the target is never the limit) with
  `--workers 1` and then `--workers 2` (`--repeat` pairs), fast client; prints writes/s, the
  ratio, and each process's cores during the load window (with the machine's busy and stolen
  time), and beside each pair the machine's own scaling: two CPU-bound Python processes against
  one (no 2-against-1 ratio can beat it). The responder is bench/nullserver.c when a C compiler
  builds it, else nullserver.py; it runs SCHED_BATCH (Linux), so that its wake-ups do not
  preempt the workers: a store on other machines never does (the bench prints how often the
  workers were preempted).
Bounded: every section stops by itself after --seconds (plus start-up and final reads).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import psutil

ROOT = Path(__file__).resolve().parent.parent
# bench/loadgen.py and bench/verdict.py would shadow the packages of the same names
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
from verdict.history import open_shard, shard_files  # noqa: E402

REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
#: the null responder answers in rounds at most this far apart (see bench/nullserver.py), by
#: responder and scheduling policy. SCHED_BATCH (Linux): no pause, since a batch responder
#: that wakes waits for a free core or the scheduler's tick and so gathers requests by itself,
#: where a pause left the 2-worker machine 0.12 cores idle. Otherwise the responder preempts a
#: worker at each wake-up, so it pauses: 0.2 ms in C (1 ms left a worker with 12 users all
#: waiting on it, its hub idle 29-38 % of the load), 1 ms in Python (its wake-ups cost ~25 us)
COALESCE_MS = {("c", True): 0.0, ("c", False): 0.2, ("python", True): 1.0, ("python", False): 1.0}
#: cores stolen by the hypervisor beyond which a pair is flagged: a run that lost CPU to other
#: tenants is slower for reasons of its own, and its pair's ratio is off by that much
MAX_STEAL = 0.05


# -- streaming ------------------------------------------------------------------------------
def producer(master: str, rate: float, seconds: float) -> None:
    """Runs in its own process: a Locust worker that only streams synthetic records."""
    from gevent import monkey

    monkey.patch_all()
    from locust.env import Environment

    from hothot.worker import HistoryStream

    host, port = master.rsplit(":", 1)
    runner = Environment(user_classes=[]).create_worker_runner(host, int(port))
    stream = HistoryStream(runner, "w1")
    import gevent

    gevent.spawn(stream.pump_forever)
    t0 = time.monotonic()
    n = 0
    last: dict[str, str] = {}  # key -> last vid: realistic chains (each write saw the previous)
    while (elapsed := time.monotonic() - t0) < seconds:
        due = int(elapsed * rate)
        while n < due:
            n += 1
            key, vid = f"profile#{n % 10_000}", f"w1:{n}"
            now = time.time()
            stream({
                "id": vid, "worker": "w1", "region": REGIONS[n % 3], "workload": "profile",
                "key": key, "op": "put", "pred": last.get(key), "t_invoke": now,
                "t_complete": now, "outcome": "ok", "item_bytes": 512, "capacity": 1.0,
            })  # fmt: skip
            last[key] = vid
        time.sleep(0.005)
    stream.drain()
    runner.send_message("hothot_flushed", {"worker": "w1", "produced": stream.produced})
    time.sleep(1.0)


def streaming(seconds: float, rate: float) -> dict[str, float]:
    from gevent import monkey

    monkey.patch_all()
    from locust.env import Environment

    from hothot.channel import HistoryReceiver
    from hothot.distributed import free_port
    from loadgen.engine import RegionStats
    from loadgen.hub import RecordHub, WrittenKeys, decoded
    from loadgen.metrics import LiveMetrics
    from loadgen.recorder import ShardSet

    port = free_port()
    env = Environment(user_classes=[])
    runner = env.create_master_runner(master_bind_host="127.0.0.1", master_bind_port=port)
    with tempfile.TemporaryDirectory() as tmp:
        hub = RecordHub()  # subscribed as `hothot run --workers` subscribes the master's
        shards = ShardSet(Path(tmp), "master").subscribe(hub)
        for listener in (RegionStats(REGIONS).on_batch, WrittenKeys().on_batch):
            hub.batch.add_listener(listener)
        hub.batch.add_listener(decoded(LiveMetrics("bench").observe))
        receiver = HistoryReceiver(hub)
        receiver.register(runner)
        proc = subprocess.Popen(
            [sys.executable, __file__, "--role", "producer", "--master", f"127.0.0.1:{port}",
             "--rate", str(rate), "--seconds", str(seconds)],
        )  # fmt: skip
        print(f"streaming: target {rate:,.0f} records/s for {seconds:g}s")
        backlogs, last, t_last = [], 0, time.monotonic()
        deadline = time.monotonic() + seconds + 30
        while time.monotonic() < deadline:
            time.sleep(1.0)
            tally = receiver.tallies.get("w1")
            if tally is None:
                t_last = time.monotonic()
                continue
            now = time.monotonic()
            got = tally.received
            backlog = max(0, tally.produced - tally.received)
            backlogs.append(backlog)
            print(f"  {got - last:>8,} records in {now - t_last:.2f}s   backlog {backlog:,}")
            last, t_last = got, now
            if tally.flushed:
                break
        proc.wait(timeout=30)
        shards.close()
        runner.quit()
        total = receiver.tallies["w1"].received
    result = {
        "records": total,
        "records_per_s": total / seconds,
        "max_backlog": max(backlogs or [0]),
        "final_backlog": backlogs[-1] if backlogs else 0,
    }
    print(f"streaming: {result['records_per_s']:,.0f} records/s received; "
          f"max backlog {result['max_backlog']:,}, final {result['final_backlog']:,}")  # fmt: skip
    return result


# -- workers --------------------------------------------------------------------------------
NULL_SCRIPT = {
    "DescribeTable": {"status": 200, "body": {"Table": {
        "TableName": "hothot-bench", "TableStatus": "ACTIVE",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}}},
    # the runner's check for items left by an earlier run (loadgen.existing): none
    "BatchGetItem": {"status": 200, "body": {"Responses": {"hothot-bench": []}}},
    "*": {"status": 200, "body": {"ConsumedCapacity": {"TableName": "hothot-bench",
                                                       "CapacityUnits": 1.0}}},
}  # fmt: skip


class CpuWatch:
    """CPU seconds of the master, its workers and the responder, sampled twice a second, so
    each one's share of the machine during the load window can be told afterwards."""

    def __init__(self, master: psutil.Process, responder: psutil.Process) -> None:
        self.master, self.responder = master, responder
        self.workers: dict[int, float] = {}  # pid -> last CPU seconds seen (they exit first)
        self.preempted: dict[int, int] = {}  # pid -> involuntary context switches so far
        self.samples: list[tuple[float, dict[str, float]]] = []

    def sample(self) -> None:
        with contextlib.suppress(psutil.Error):
            for child in self.master.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    self.workers[child.pid] = _cpu_s(child)
                    self.preempted[child.pid] = child.num_ctx_switches().involuntary
            self.samples.append((time.time(), {
                "workers": sum(self.workers.values()), "master": _cpu_s(self.master),
                "preempted": sum(self.preempted.values()),
                "responder": _cpu_s(self.responder), **_machine_s()}))  # fmt: skip

    def cores(self, start: float, end: float) -> dict[str, float]:
        """Each role's CPU use in cores between the samples closest inside [start, end]
        (`preempted`: the workers' involuntary context switches per second)."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        if len(inside) < 2:
            return {}
        (t0, first), (t1, last) = inside[0], inside[-1]
        return {role: (last[role] - first[role]) / (t1 - t0) for role in first}


def _machine_s() -> dict[str, float]:
    """CPU seconds of the whole machine: busy (every process, ours or not) and stolen by
    the hypervisor (a virtual machine's cores are not all its own)."""
    times = psutil.cpu_times()
    busy = times.user + times.nice + times.system + times.irq + times.softirq
    return {"busy": busy, "steal": getattr(times, "steal", 0.0)}


def _cpu_s(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def one_run(
    url: str, workers: int, seconds: float, users: int, tmp: Path, responder: psutil.Process
) -> dict[str, Any]:
    import yaml

    campaign = {
        "name": f"bench-w{workers}", "seed": 1, "duration": f"{seconds}s",
        "target": {"kind": "endpoints", "regions": REGIONS, "table": "hothot-bench",
                   "endpoints": dict.fromkeys(REGIONS, url), "create_table": False,
                   "settle": "0s"},
        "writers": {"per_region": users, "client": "fast"},
        "workloads": [{"kind": "profile", "weight": 1, "keys": 1000},
                      {"kind": "counter", "weight": 1, "keys": 1000}],
        "observe": {"metrics_port": None, "probe_interval": "1s"},
    }  # fmt: skip
    path = tmp / f"w{workers}.yaml"
    path.write_text(yaml.safe_dump(campaign))
    report = tmp / f"report-w{workers}"
    shutil.rmtree(report, ignore_errors=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hothot", "run", str(path), "--workers", str(workers),
         "--master-bind", "127.0.0.1:0", "--report-dir", str(report)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
    )  # fmt: skip
    watch = CpuWatch(psutil.Process(proc.pid), responder)
    deadline = time.monotonic() + seconds + 120
    while proc.poll() is None and time.monotonic() < deadline:
        watch.sample()
        time.sleep(0.5)
    if proc.poll() is None:
        proc.kill()
    invoked = [
        record["t_invoke"]
        for shard in shard_files(report / "history")
        if shard.name.startswith("w")
        for record in map(orjson.loads, open_shard(shard))
        if record.get("op") in ("put", "update")
    ]
    # the load window, a second in from each end (users ramping up, stopping)
    cores = watch.cores(min(invoked) + 1, max(invoked) - 1) if invoked else {}
    return {"workers": workers, "writes_per_s": len(invoked) / seconds, "cores": cores}


def responder_argv(kind: str, coalesce_ms: float, tmp: Path) -> list[str]:
    """The null responder's command line: bench/nullserver.c compiled here (the Python
    responder's interpreter time would come out of the workers' cores), or nullserver.py."""
    if kind == "c":
        binary = tmp / "nullserver"
        build = [
            os.environ.get("CC", "cc"),
            "-O2",
            "-o",
            str(binary),
            str(ROOT / "bench" / "nullserver.c"),
        ]
        try:
            subprocess.run(build, check=True, capture_output=True, timeout=60)
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"workers: cannot build bench/nullserver.c ({exc}); using nullserver.py")
        else:
            spec = importlib.util.spec_from_file_location(
                "nullserver", ROOT / "bench" / "nullserver.py"
            )
            null = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
            spec.loader.exec_module(null)  # type: ignore[union-attr]
            argv = [str(binary), str(round(coalesce_ms * 1000))]
            for op, answer in NULL_SCRIPT.items():
                wire = tmp / f"answer-{op.strip('*') or 'any'}.http"
                wire.write_bytes(null.Answer(answer).wire)
                argv.append(f"{op}={wire}")
            return argv
    script = tmp / "null.json"
    script.write_text(json.dumps(NULL_SCRIPT))
    return [sys.executable, str(ROOT / "bench" / "nullserver.py"), "--script", str(script),
            "--coalesce-ms", str(coalesce_ms)]  # fmt: skip


def _spin(seconds: float, out: Any) -> None:
    """Pure-Python work shaped like a worker's (dict and str churn), for `seconds`."""
    end, rounds, scratch = time.monotonic() + seconds, 0, {}
    while time.monotonic() < end:
        for i in range(2000):
            scratch[i % 500] = str(i)
        rounds += 1
    out.put(rounds)


def machine_scaling(seconds: float = 3.0) -> float:
    """The work two processes get done against one, on this machine right now: the ceiling
    of any 2-against-1 ratio here (a shared VM's two cores rarely give 2x)."""
    import multiprocessing

    def run(n: int) -> int:
        out: Any = multiprocessing.Queue()
        procs = [multiprocessing.Process(target=_spin, args=(seconds, out)) for _ in range(n)]
        for proc in procs:
            proc.start()
        done = sum(out.get() for _ in procs)
        for proc in procs:
            proc.join()
        return done

    one = run(1)
    return run(2) / one if one else 0.0


def _split(pair: list[dict[str, Any]]) -> str:
    """The ratio as the workers' cores times their speed per core, 2 workers against 1: how
    much CPU the two got, and how much slower each write was with both cores busy."""
    (one, two) = pair
    if not one["cores"] or not two["cores"] or not one["writes_per_s"]:
        return ""
    cores = two["cores"]["workers"] / one["cores"]["workers"]
    cost = (two["cores"]["workers"] / two["writes_per_s"]) / (
        one["cores"]["workers"] / one["writes_per_s"]
    )
    return f" = workers' cores x{cores:.2f} / CPU per write x{cost:.2f}"


def _ratio(two: float, one: float) -> float:
    return two / one if one else 0.0


def _tag(policy: str, policies: list[str]) -> str:
    """How a line names its responder: only when the run has more than one."""
    return f" [{policy}]" if len(policies) > 1 else ""


def start_responder(
    kind: str, policy: str, coalesce_ms: float | None, tmp: Path
) -> tuple[subprocess.Popen[str], str]:
    """The null responder under `policy` ("batch" or "normal"), and its URL."""
    batch = policy == "batch"
    if coalesce_ms is None:
        coalesce_ms = COALESCE_MS[kind, batch]
    tmp.mkdir(exist_ok=True)
    argv = responder_argv(kind, coalesce_ms, tmp)
    name = "nullserver.py" if argv[0] == sys.executable else "nullserver.c"
    print(f"workers: responder {name}, coalescing {coalesce_ms:g} ms, "
          f"{'SCHED_BATCH' if batch else 'SCHED_OTHER'}")  # fmt: skip
    null = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    if batch:
        # a waking SCHED_BATCH process does not preempt the running one: the responder then
        # answers when a worker waits or at the scheduler's tick, as a store on other
        # machines never preempts the workers (normal: ~3,500 preemptions a second at 0.2 ms
        # rounds, each costing the preempted worker its warm caches)
        os.sched_setscheduler(null.pid, os.SCHED_BATCH, os.sched_param(0))
    return null, json.loads(null.stdout.readline())["url"]  # type: ignore[union-attr]


def run_pair(
    url: str, responder: psutil.Process, tmp: Path, order: tuple[int, int], tag: str, args: Any
) -> tuple[float, float, float]:
    """1 and 2 workers in `order` against one responder, printed: (1 worker's writes/s, 2
    workers', the cores the hypervisor stole from the pair)."""
    runs = [one_run(url, n, args.seconds, args.users, tmp, responder) for n in order]
    pair = sorted(runs, key=lambda run: run["workers"])
    for run in pair:
        preempted = run["cores"].pop("preempted", 0.0)
        cores = ", ".join(f"{k} {v:.2f}" for k, v in run["cores"].items())
        print(f"workers:{tag} {run['workers']} worker(s) {run['writes_per_s']:,.0f} "
              f"writes/s   cores: {cores}   workers preempted {preempted:,.0f}/s"
              f"   load {os.getloadavg()[0]:.2f}")  # fmt: skip
    one, two = (run["writes_per_s"] for run in pair)
    stolen = max(run["cores"].get("steal", 0.0) for run in pair)
    print(f"workers:{tag} ratio {_ratio(two, one):.2f} (target >= 1.7){_split(pair)}"
          + (f"   [hypervisor stole {stolen:.2f} cores]" if stolen > MAX_STEAL else ""))  # fmt: skip
    return one, two, stolen


def workers(args: Any, policies: list[str]) -> None:
    """1 and 2 workers in turn, `--repeat` times, against the responder of each policy; with
    two policies, also each side against the responder that served it best (the strictest
    reading: a stand-in that favours one side cannot make the ratio)."""
    print(f"workers: {args.users} users per region")
    ratios: dict[str, list[float]] = {p: [] for p in policies}
    clean: dict[str, list[float]] = {p: [] for p in policies}  # pairs the hypervisor left alone
    best: list[float] = []
    ceilings: list[float] = []  # the machine's own 2-against-1 scaling beside each pair
    with tempfile.TemporaryDirectory() as tmp:
        nulls: dict[str, tuple[subprocess.Popen[str], str]] = {}
        try:
            for policy in policies:
                nulls[policy] = start_responder(
                    args.responder, policy, args.coalesce_ms, Path(tmp) / policy
                )
            for i in range(args.repeat):
                # ABBA order: a machine slowly speeding up or slowing down (other tenants)
                # favours neither side of the median
                order = (1, 2) if i % 2 == 0 else (2, 1)
                ceilings.append(machine_scaling())
                pairs = {}
                for policy in policies if i % 2 == 0 else policies[::-1]:
                    null, url = nulls[policy]
                    one, two, stolen = pairs[policy] = run_pair(
                        url, psutil.Process(null.pid), Path(tmp) / policy, order,
                        _tag(policy, policies), args,
                    )  # fmt: skip
                    ratios[policy].append(_ratio(two, one))
                    if stolen <= MAX_STEAL:
                        clean[policy].append(ratios[policy][-1])
                if len(policies) > 1:
                    one = max(pair[0] for pair in pairs.values())
                    two = max(pair[1] for pair in pairs.values())
                    best.append(_ratio(two, one))
                    print(f"workers: each side against the responder that served it best: "
                          f"{two:,.0f} / {one:,.0f} writes/s = ratio {best[-1]:.2f}")  # fmt: skip
                print(f"workers: the machine itself: 2 CPU-bound Python processes do "
                      f"x{ceilings[-1]:.2f} the work of one (measured just before this pair)")  # fmt: skip
        finally:
            for null, _ in nulls.values():
                null.terminate()
    if args.repeat > 1:
        for policy in policies:
            tag = _tag(policy, policies)
            print(f"workers:{tag} ratios {', '.join(f'{r:.2f}' for r in ratios[policy])}; "
                  f"median {statistics.median(ratios[policy]):.2f} (target >= 1.7)")  # fmt: skip
            if clean[policy] and len(clean[policy]) < len(ratios[policy]):
                print(f"workers:{tag} without the pairs the hypervisor stole from: median "
                      f"{statistics.median(clean[policy]):.2f} of {len(clean[policy])}")  # fmt: skip
        if best:
            print(f"workers: each side at its best responder: {', '.join(f'{r:.2f}' for r in best)}; "
                  f"median {statistics.median(best):.2f} (target >= 1.7)")  # fmt: skip
        print(f"workers: the machine's own 2-process scaling {', '.join(f'{c:.2f}' for c in ceilings)}; "
              f"median {statistics.median(ceilings):.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section", choices=["streaming", "workers", "all"], default="all")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20_000.0, help="streaming: records/s")
    parser.add_argument("--users", type=int, default=8, help="workers: users per region")
    parser.add_argument("--repeat", type=int, default=1, help="workers: pairs of runs")
    parser.add_argument(
        "--coalesce-ms", type=float, default=None,
        help="workers: the null responder's coalescing pause (bench/nullserver.py; default "
        "0 for the C responder under SCHED_BATCH, 0.2 otherwise, 1 for the Python one)",
    )  # fmt: skip
    parser.add_argument(
        "--responder", choices=["c", "python"], default="c",
        help="workers: bench/nullserver.c (built with $CC, default cc) or bench/nullserver.py",
    )  # fmt: skip
    parser.add_argument(
        "--responder-policy", choices=["batch", "normal", "both"],
        default="batch" if hasattr(os, "SCHED_BATCH") else "normal",
        help="workers: the responder's scheduling policy (batch: its wake-ups do not preempt "
        "the workers; Linux only; both: a pair under each, and each side at its best)",
    )  # fmt: skip
    parser.add_argument("--role", choices=["bench", "producer"], default="bench")
    parser.add_argument("--master", default="")
    args = parser.parse_args()
    args.seconds = min(max(args.seconds, 1.0), 120.0)
    if not 1 <= args.repeat <= 10:
        parser.error(f"--repeat must be between 1 and 10, got {args.repeat}")
    if args.role == "producer":
        producer(args.master, args.rate, args.seconds)
        return
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    if args.section in ("workers", "all"):
        both = args.responder_policy == "both"
        workers(args, ["batch", "normal"] if both else [args.responder_policy])
    if args.section in ("streaming", "all"):
        streaming(args.seconds, args.rate)
    sys.stdout.flush()
    os._exit(0)  # Locust's master greenlets (zmq) would otherwise keep the process alive


if __name__ == "__main__":
    main()
