"""The rehearsal of `target: aws` (tests/aws_rehearsal.py), run by tests/test_aws_rehearsal.py
inside a network namespace that has only loopback: `hothot run` against moto behind the global
table proxy, through the endpoint override boto3 honours (AWS_ENDPOINT_URL). Not collected by
the suite itself (its name is not test_*): outside such a namespace a bug could send requests to
real AWS, so each test first checks that no other network interface exists."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.aws_rehearsal import Rehearsal, rehearsal
from verdict.history import open_shard, shard_files

ROLE = "arn:aws:iam::123456789012:role/hothot-fis"
REGIONS = ["us-east-1", "eu-west-1"]


@pytest.fixture(autouse=True)
def loopback_only() -> None:
    interfaces = sorted(name for _, name in socket.if_nameindex())  # this namespace's own
    if interfaces != ["lo"]:
        pytest.fail(
            f"the rehearsal runs only in a loopback-only network namespace, not {interfaces}"
        )


@pytest.fixture(scope="module")
def aws() -> Iterator[Rehearsal]:
    with rehearsal() as running:
        running.fis_takes(0.3)
        yield running


def campaign(tmp: Path, name: str, **target: Any) -> Path:
    data = {
        "name": name,
        "seed": 3,
        "duration": "2s",
        "target": {
            "kind": "aws",
            "regions": REGIONS,
            "table": "hothot-rehearsal",
            "allow_real_aws": True,
            "settle": "0s",
        }
        | target,
        "writers": {"per_region": 2, "think_time": "20ms"},
        "workloads": [{"kind": "profile", "keys": 20}, {"kind": "counter", "keys": 10}],
        "observe": {"metrics_port": None},
    }
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def fis_fault(at: str, length: str, region: str) -> str:
    """A `--set` of one FIS partition isolating `region`."""
    chaos = {
        "faults": [{"at": at, "for": length, "fault": "partition", "region": region}],
        "aws": {"role_arn": ROLE},
    }
    return "chaos=" + json.dumps(chaos)


def hothot(aws: Rehearsal, tmp: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "hothot", *args],
        env=env or aws.env(tmp),
        capture_output=True,
        text=True,
        timeout=120,
    )


def run(aws: Rehearsal, tmp: Path, path: Path, report: str, *sets: str, **kw: Any) -> Any:
    args = ["run", str(path), "--report-dir", str(tmp / report)]
    for item in sets:
        args += ["--set", item]
    return hothot(aws, tmp, *args, **kw)


def records(report: Path) -> list[dict[str, Any]]:
    out = []
    for shard in shard_files(report / "history"):
        with open_shard(shard) as f:
            lines = f.read().splitlines()
        for line in lines:
            rec = json.loads(line)
            if "op" in rec:
                out.append(rec)
    return out


def events(report: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (report / "chaos.jsonl").read_text().splitlines()]


def test_guards_and_credentials(aws: Rehearsal, tmp_path: Path) -> None:
    path = campaign(tmp_path, "guards")
    bare = {k: v for k, v in aws.env(tmp_path).items() if not k.startswith("AWS_ACCESS")}
    bare.pop("AWS_SECRET_ACCESS_KEY")
    done = run(aws, tmp_path, path, "r0", env=bare)
    assert done.returncode == 2 and "found no AWS credentials" in done.stderr, done.stderr
    done = run(aws, tmp_path, path, "r1", "target.allow_real_aws=false")
    assert done.returncode == 2 and "allow_real_aws" in done.stderr, done.stderr
    done = run(aws, tmp_path, path, "r2", "target.table=prod-orders")
    assert done.returncode == 2 and "table_guard" in done.stderr, done.stderr
    assert aws.tables("us-east-1") == []  # refused before any call


def test_create_table_makes_one_global_table_and_both_clients_run_with_an_fis_fault(
    aws: Rehearsal, tmp_path: Path
) -> None:
    path = campaign(tmp_path, "create", create_table=True)
    fault = fis_fault("200ms", "1s", "eu-west-1")
    # 6 s of load, not 2: on a loaded machine the experiment was still initiating when a 2 s
    # load ended, and a fault cut off before it applied fails the run
    done = run(aws, tmp_path, path, "r1", fault, "duration=6s")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "aws endpoints, as boto3 resolves them: us-east-1 " + aws.proxy.url in out
    assert "created table 'hothot-rehearsal' in us-east-1" in out
    assert "added the replica of 'hothot-rehearsal' in eu-west-1" in out
    group = aws.proxy.groups["hothot-rehearsal"]
    assert group.replicas == {"us-east-1": "ACTIVE", "eu-west-1": "ACTIVE"}
    first = records(tmp_path / "r1")
    writes = [r for r in first if r["op"] != "get" and r["op"] != "probe"]
    assert writes and all(r["outcome"] == "ok" for r in writes), {r.get("error") for r in writes}
    prefix = yaml.safe_load((tmp_path / "r1" / "campaign.yaml").read_text())["target"]["key_prefix"]
    assert prefix.startswith("run-") and all(r["key"].startswith(prefix) for r in writes)
    # final reads find each prefixed key's workload (a counter's read carries its count)
    finals = [r for r in first if r.get("final") and r["key"].startswith(prefix + "counter#")]
    assert finals and all("value" in r for r in finals if r.get("vid")), finals[:3]
    assert "0 of the 32 items this run writes already exist" in out  # 30 keys + 2 heartbeats
    # the FIS fault: applied and healed through moto's FIS, its template gone
    kinds = [(e["event"], e["fault"]) for e in events(tmp_path / "r1")]
    assert kinds == [("start", "partition"), ("heal", "partition")], kinds
    assert all("error" not in e and "requested" in e for e in events(tmp_path / "r1"))
    assert aws.templates("eu-west-1") == []
    assert json.loads((tmp_path / "r1" / "faults.state").read_text()) == []

    # again, fast client, the table exists: a fresh key space, nothing overwritten
    seen = len(aws.proxy.seen)
    done = run(aws, tmp_path, path, "r2", "writers.client=fast")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    second = records(tmp_path / "r2")
    writes = [r for r in second if r["op"] not in ("get", "probe")]
    assert writes and all(r["outcome"] == "ok" for r in writes)
    assert not any(r["key"].startswith(prefix) for r in writes)
    assert "0 of the 32 items this run writes already exist" in out
    signed = {(region, ok) for op, region, ok in aws.proxy.seen[seen:] if op == "PutItem"}
    assert signed == {("us-east-1", True), ("eu-west-1", True)}  # both regions, SigV4

    # the first run's key space again: counted and refused before any write
    done = run(aws, tmp_path, path, "r3", f"target.key_prefix={prefix}")
    assert done.returncode == 2, done.stdout + done.stderr
    held = re.search(
        r"already holds (\d+) of the 32 items this run writes \((\d+) from an earlier "
        r"hothot run, 0 not written by hothot",
        done.stderr,
    )
    assert held and held[1] == held[2] and int(held[1]) > 2, done.stderr


def test_a_failed_global_table_creation_leaves_nothing_behind(
    aws: Rehearsal, tmp_path: Path
) -> None:
    aws.proxy.refuse_replica_in.add("eu-west-1")
    try:
        path = campaign(tmp_path, "broken", table="hothot-broken", create_table=True)
        done = run(aws, tmp_path, path, "r1")
    finally:
        aws.proxy.refuse_replica_in.clear()
    out = done.stdout + done.stderr
    assert done.returncode == 2, out
    assert "AccessDeniedException" in out and "nothing is left" in out, out
    assert "cleanup: deleted table 'hothot-broken' in us-east-1" in out
    assert "hothot-broken" not in aws.tables("us-east-1") + aws.tables("eu-west-1")


def test_a_killed_run_is_healed_by_hothot_heal(aws: Rehearsal, tmp_path: Path) -> None:
    path = campaign(tmp_path, "killed", create_table=True, table="hothot-killed")
    fault = fis_fault("0s", "50s", "us-east-1")
    report = tmp_path / "r1"
    args = ["run", str(path), "--report-dir", str(report), "--set", "duration=60s", "--set", fault]
    proc = subprocess.Popen([sys.executable, "-m", "hothot", *args], env=aws.env(tmp_path))
    try:
        deadline = time.monotonic() + 60
        while not (report / "chaos.jsonl").exists() or not (report / "chaos.jsonl").read_text():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    left = json.loads((report / "faults.state").read_text())
    assert [e["fault"] for e in left] == ["partition"]
    experiment = left[0]["applied"][0]["handle"]["experiment_id"]
    fis = aws.client("fis", "us-east-1")
    assert fis.get_experiment(id=experiment)["experiment"]["state"]["status"] == "running"
    healed = hothot(aws, tmp_path, "heal", str(report))
    assert healed.returncode == 0, healed.stderr
    assert f"FIS experiment {experiment} in us-east-1" in healed.stdout
    assert fis.get_experiment(id=experiment)["experiment"]["state"]["status"] in (
        "stopped",
        "completed",
    )
    assert aws.templates("us-east-1") == []
    assert json.loads((report / "faults.state").read_text()) == []


def test_a_run_killed_while_fis_starts_is_healed_by_tag(aws: Rehearsal, tmp_path: Path) -> None:
    """SIGKILL while the experiment is still starting: faults.state holds only the region
    (`applying`), and hothot heal finds the template by its hothot tag."""
    path = campaign(tmp_path, "starting", create_table=True, table="hothot-starting")
    report = tmp_path / "r1"
    args = ["run", str(path), "--report-dir", str(report), "--set", "duration=60s"]
    args += ["--set", fis_fault("0s", "50s", "eu-west-1")]
    aws.fis_takes(30)  # pending for 30 s: the apply cannot finish before the kill
    proc = subprocess.Popen([sys.executable, "-m", "hothot", *args], env=aws.env(tmp_path))
    try:
        deadline = time.monotonic() + 60
        while not aws.templates("eu-west-1"):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.2)
        time.sleep(0.5)  # the experiment is started right after its template
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        aws.fis_takes(0.3)
        if proc.poll() is None:
            proc.kill()
    left = json.loads((report / "faults.state").read_text())
    assert [(e["fault"], e.get("applying")) for e in left] == [("partition", True)]
    healed = hothot(aws, tmp_path, "heal", str(report))
    assert healed.returncode == 0, healed.stderr
    assert "tagged hothot=f1-partition in eu-west-1 deleted" in healed.stdout, healed.stdout
    assert aws.templates("eu-west-1") == []
    assert not (report / "chaos.jsonl").read_text()  # it never started: no window, no heal


def test_without_an_override_the_real_endpoints_are_named_and_never_reached(
    aws: Rehearsal, tmp_path: Path
) -> None:
    """No endpoint override: boto3 resolves AWS's own endpoints, whose names do not resolve
    in this namespace; the run says where it would send and stops at the table check."""
    path = campaign(tmp_path, "nowhere")
    env = {k: v for k, v in aws.env(tmp_path).items() if k != "AWS_ENDPOINT_URL"}
    done = run(aws, tmp_path, path, "r1", env=env)
    out = done.stdout + done.stderr
    assert "as boto3 resolves them: us-east-1 https://dynamodb.us-east-1.amazonaws.com" in out
    assert done.returncode == 2 and "cannot reach region us-east-1" in out, out


@pytest.mark.parametrize("client", ["boto3", "fast"])
def test_a_run_whose_every_write_is_refused_stops_early(
    aws: Rehearsal, tmp_path: Path, client: str
) -> None:
    """AccessDenied on every data call (a load identity without dynamodb:PutItem): each
    write is `fail`, the run stops after writers.abort_when_all_fail, not its duration, and
    its verdict is untrusted (writes_failed, exit 2)."""
    path = campaign(tmp_path, "denied", create_table=True, table="hothot-denied")
    aws.proxy.refuse_data = True
    try:
        started = time.monotonic()
        done = run(
            aws, tmp_path, path, "r1", "duration=60s", "writers.abort_when_all_fail=1s",
            f"writers.client={client}",
        )  # fmt: skip
    finally:
        aws.proxy.refuse_data = False
    out = done.stdout + done.stderr
    assert time.monotonic() - started < 40, out
    assert "stopping the load early" in out, out
    writes = [r for r in records(tmp_path / "r1") if r["op"] not in ("get", "probe")]
    assert writes and {(r["outcome"], r["error"]) for r in writes} == {
        ("fail", "AccessDeniedException")
    }
    assert "Traceback" not in out, out
    # a run that reached nothing is never a pass: untrusted, exit 2, the reason named
    assert done.returncode == 2, out
    assert "writes failed or stayed unknown" in out, out
    verdict = json.loads((tmp_path / "r1" / "verdict.json").read_text())
    assert verdict["trusted"] is False
    assert "writes_failed" in {reason["code"] for reason in verdict["untrusted"]}
