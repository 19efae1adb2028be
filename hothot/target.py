"""Bringing a campaign's target up for a run, and the checks before any load (DESIGN §2);
the `target:` section itself is `hothot.targetspec`."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from globaltable.control import TOKEN_ENV, ControlClient, ControlError
from hothot.pgrun import PgMesh, PgTargetError, open_mesh
from hothot.targetspec import TargetSpec
from loadgen.client import Boto3Client, DynamoClient, NoAnswer, StoreError
from loadgen.endpoints import EndpointError, resolve_endpoint
from loadgen.existing import count_existing
from loadgen.replicas import check_replicas as check_global_table
from loadgen.replicas import create_global_table
from loadgen.table import TableUnusable, check_table, create_table


class TargetError(RuntimeError):
    """The target cannot be used: exit 2, naming the endpoint or table."""


@dataclass
class Target:
    """A running (or reachable) target: per-region endpoints (a pglogical target: DSNs) and
    maybe a control URL, or the pglogical mesh the run drives."""

    kind: str
    endpoints: dict[str, str | None]  # None: the AWS default endpoint of that region
    control: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    #: the `/metrics` URL of an emulator this run started (the runner relays it)
    metrics: str | None = None
    #: the control API's token (None: $HOTHOT_CONTROL_TOKEN, if any)
    control_token: str | None = field(default=None, repr=False)
    mesh: PgMesh | None = field(default=None, repr=False)
    report_dir: Path | None = None

    def control_client(self, timeout_s: float = 10.0) -> ControlClient:
        assert self.control is not None
        return ControlClient(self.control, timeout_s, token=self.control_token)

    def close(self) -> None:
        if self.mesh is not None and self.report_dir is not None:
            self.mesh.close(self.report_dir)
        if self.process is not None:
            stop_processes([self.process])
            if self.process.stdin is not None:
                self.process.stdin.close()


def stop_processes(processes: list[subprocess.Popen[Any]], timeout_s: float = 10.0) -> None:
    """SIGTERM all (each heals and flushes on it), then wait; SIGKILL what outlives the wait."""
    for proc in processes:
        if proc.poll() is None:
            proc.terminate()
    for proc in processes:
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_emulator(spec: TargetSpec, *, seed: int, startup_timeout_s: float = 20.0) -> Target:
    """`hothot emulate` as a child process on free loopback ports; its banner gives the URLs."""
    cmd = [
        sys.executable,
        "-m",
        "hothot",
        "emulate",
        "--stop-when-stdin-closes",
        "--regions",
        ",".join(spec.regions),
        "--port",
        "0",
        "--control-port",
        "0",
        "--mode",
        spec.mode,
        "--seed",
        str(seed),
    ]
    for flag, value in (
        ("--replication-delay", spec.replication.delay),
        ("--replication-jitter", spec.replication.jitter),
    ):
        if value is not None:
            cmd += [flag, f"{value}s"]
    # a token of its own: other users of this machine reach its loopback ports too
    token = secrets.token_urlsafe(24)
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # never written: its end closes when this process dies, however it dies (SIGKILL
        # included), and the child then stops itself instead of holding its ports forever
        stdin=subprocess.PIPE,
        # its own process group: a Ctrl-C at the terminal reaches the runner, which then
        # heals faults through this emulator before stopping it
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", TOKEN_ENV: token},
    )
    banner: list[bytes] = []
    reader = threading.Thread(target=lambda: banner.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(startup_timeout_s)
    if not banner or not banner[0].strip():
        proc.kill()
        err = proc.stderr.read().decode(errors="replace")[-2000:] if proc.stderr else ""
        raise TargetError(f"the embedded emulator did not start: {err.strip() or 'no banner'}")
    info = orjson.loads(banner[0])
    # keep draining the pipes so the child never blocks on a full one
    for stream in (proc.stdout, proc.stderr):
        threading.Thread(target=_drain, args=(stream,), daemon=True).start()
    return Target(
        "emulator",
        dict(info["regions"]),
        info.get("control"),
        proc,
        metrics=info.get("metrics"),
        control_token=token,
    )


def _drain(stream: IO[bytes] | None) -> None:
    if stream is not None:
        for _line in stream:
            pass


def open_target(
    spec: TargetSpec,
    *,
    seed: int,
    say: Callable[[str], None] = lambda _text: None,
    report_dir: Path | None = None,
) -> Target:
    if spec.kind == "emulator":
        return start_emulator(spec, seed=seed)
    if spec.kind == "pglogical":
        return open_pglogical(spec, report_dir or Path(tempfile.mkdtemp(prefix="hothot-")))
    if spec.kind == "endpoints":
        return Target(
            "endpoints", dict(spec.endpoints), spec.control, control_token=spec.control_token
        )
    check_aws_credentials()
    # where both clients will send (boto3's own resolution: AWS_ENDPOINT_URL*, config files,
    # FIPS, partitions), said before anything is sent there
    try:
        where = [resolve_endpoint(r, table=spec.table) for r in spec.regions]
    except EndpointError as exc:
        raise TargetError(f"target kind aws: {exc}") from None
    say("aws endpoints, as boto3 resolves them: " + ", ".join(f"{e.region} {e.url}" for e in where))
    return Target("aws", dict.fromkeys(spec.regions))


def open_pglogical(spec: TargetSpec, report_dir: Path) -> Target:
    """The pglogical mesh, every subscription replicating (clusters started when no dsn)."""
    try:
        mesh = open_mesh(
            list(spec.regions),
            spec.table,
            report_dir,
            dsn=dict(spec.dsn),
            port=spec.port,
            startup_timeout_s=spec.startup_timeout,
        )
    except PgTargetError as exc:
        raise TargetError(f"target kind pglogical: {exc}") from None
    endpoints: dict[str, str | None] = dict(mesh.dsns)
    return Target("pglogical", endpoints, mesh=mesh, report_dir=report_dir)


def check_aws_credentials() -> None:
    """Before the first AWS call: boto3's standard chain finds credentials. Without this the
    first DescribeTable dies in botocore's signer with a traceback instead of exit 2."""
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        found = boto3.Session().get_credentials()
    except BotoCoreError as exc:
        raise TargetError(f"target kind aws: AWS credentials are unusable: {exc}") from None
    if found is None:
        raise TargetError(
            "target kind aws: boto3's standard chain found no AWS credentials (environment "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/credentials or config, "
            "SSO, or a container/instance role)"
        )


def wait_reachable(target: Target, timeout_s: float = 5.0) -> None:
    """Each region answers HTTP at all (any status) — else name the endpoint. (A pglogical
    mesh was checked replicating when it was opened.)"""
    import urllib.error
    import urllib.request

    if target.mesh is not None:
        return
    for region, url in target.endpoints.items():
        if url is None:
            continue
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except urllib.error.HTTPError:
                break  # it answered: reachable
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise TargetError(
                        f"region {region}: endpoint {url} is unreachable ({exc})"
                    ) from exc
                time.sleep(0.2)


def check_control_regions(target: Target, regions: list[str]) -> None:
    """Before the table is touched: the emulator behind `control` serves every campaign region
    (else faults on the others are refused mid-run). Serving more regions is allowed."""
    if target.control is None:
        return
    try:
        served = list(target.control_client().state().get("regions", []))
    except (ControlError, OSError) as exc:
        raise TargetError(f"control API {target.control} is unusable: {exc}") from None
    missing = [r for r in regions if r not in served]
    if missing:
        raise TargetError(
            "; ".join(
                f"region {r} (endpoint {target.endpoints.get(r)}) is not a region of the emulator"
                f" at {target.control}, which serves {', '.join(served)}"
                for r in missing
            )
        )


def check_served_region(client: DynamoClient, table: str, endpoint: str | None) -> None:
    """The endpoint serves `client.region`: a hothot emulator names the region it answers
    for in the table's ARN (as DynamoDB does), which catches URLs swapped between regions."""
    try:
        arn = str(client.call("DescribeTable", {"TableName": table})["Table"]["TableArn"])
    except (StoreError, NoAnswer, KeyError) as exc:
        raise TargetError(f"region {client.region}: endpoint {endpoint}: {exc}") from None
    parts = arn.split(":")
    if len(parts) > 3 and parts[3] and parts[3] != client.region:
        raise TargetError(
            f"region {client.region}: endpoint {endpoint} serves region {parts[3]} "
            f"(table ARN {arn}), not {client.region}"
        )


def prepare_table(
    spec: TargetSpec, target: Target, say: Callable[[str], None] = lambda _text: None
) -> str:
    """Create the table where the campaign asks (on aws: one global table across the regions;
    on a hothot emulator once, which makes it global), then check it in every region. Raises
    TableUnusable naming the region, endpoint and table. Returns `created` (new, so empty),
    `emptied` (a hothot emulator's table held an earlier run's items and was recreated) or
    `existing`."""
    if target.mesh is not None:  # the mesh made its table when it was opened
        return "existing"
    clients = {r: Boto3Client(r, url) for r, url in target.endpoints.items()}
    state = "existing"
    if spec.wants_table_created and target.kind == "aws":
        if create_global_table(dict(clients), spec.table, say):
            state = "created"
    elif spec.wants_table_created:
        # a hothot emulator creates a global table from one region; other endpoints are
        # independent stores, each needing its own
        once = target.control is not None
        for region, url in target.endpoints.items():
            created = create_table(clients[region], spec.table, url)
            state = "created" if created else state
            if once and not created:
                # an emulator started by hand outlives runs: the last run's items would count
                # in /truth (a false TRUTH MISMATCH) and its vids (w0:1, …) recur in this one
                _drop_table(clients[region], spec.table, url)
                create_table(clients[region], spec.table, url)
                state = "emptied"
            if once:
                break
    for region, url in target.endpoints.items():
        check_table(clients[region], spec.table, url)
        if target.control is not None:
            check_served_region(clients[region], spec.table, url)
        if target.kind == "aws":
            check_replicas(clients[region], spec.table, list(target.endpoints))
    return state


def check_replicas(client: DynamoClient, table: str, regions: list[str]) -> None:
    """`loadgen.replicas.check_replicas`, its refusal as a TargetError (exit 2)."""
    try:
        check_global_table(client, table, regions)
    except TableUnusable as exc:
        raise TargetError(str(exc)) from None


def check_existing(
    spec: TargetSpec, target: Target, keys: Sequence[str], prefix: str, say: Callable[[str], None]
) -> None:
    """Count the items already under the run's `keys` (in the first region) and say it;
    refuse the run when there are some, unless `existing_items: overwrite`."""
    region = next(iter(target.endpoints))
    client = Boto3Client(region, target.endpoints[region])
    found = count_existing(client, spec.table, keys)
    space = f"key prefix {prefix!r}" if prefix else "no key prefix"
    say(
        f"table {spec.table!r} ({space}): {found.present} of the {found.checked} items this "
        f"run writes already exist ({found.by_hothot} written by hothot, {found.foreign} not)"
    )
    if not found.present or spec.existing_items == "overwrite":
        return
    raise TargetError(
        f"table {spec.table!r} already holds {found.present} of the {found.checked} items this "
        f"run writes ({found.by_hothot} from an earlier hothot run, {found.foreign} not written "
        f"by hothot; e.g. {', '.join(found.examples)}): the run would overwrite them and judge "
        "its conflicts against writes its history never saw. Set target.key_prefix: auto for "
        "a fresh key space each run, or target.existing_items: overwrite to write over them"
    )


def _drop_table(client: Boto3Client, table: str, url: str | None) -> None:
    try:
        client.call("DeleteTable", {"TableName": table})
    except (StoreError, NoAnswer) as exc:
        raise TableUnusable(f"cannot empty table {table!r} at {url}: {exc}") from None
