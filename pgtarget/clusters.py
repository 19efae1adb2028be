"""Local PostgreSQL clusters, one per region, that hothot makes, starts and stops itself.

Each cluster lives in its own directory (data, server log, clock file), listens on loopback
only (no Unix socket: report paths can exceed its 107-byte limit), and runs under libfaketime
with a clock file reading `+0`, so a clock skew is a rewrite of that file at run time (read on
every clock call: FAKETIME_NO_CACHE). PostgreSQL refuses to run as root: a root caller's
clusters run as the `postgres` user the Debian packages create. Every cluster is stopped by the
postmaster PID it started with, never by name.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: what to install on Debian/Ubuntu when something is missing
INSTALL = "apt-get install postgresql-15 postgresql-15-pglogical faketime"
#: the user a root caller's clusters run as
SERVICE_USER = "postgres"
#: settings every cluster gets (pglogical needs the first five; the rest make a test mesh fast
#: and its conflicts readable: fsync off is for throwaway clusters only). synchronous_commit
#: stays on: logical decoding sends only flushed WAL, so with it off every change would wait
#: for the WAL writer (wal_writer_delay, 200 ms) before it replicates.
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "wal_level": "logical",
    "shared_preload_libraries": "'pglogical'",
    "track_commit_timestamp": "on",
    "max_worker_processes": "24",
    "max_replication_slots": "16",
    "max_wal_senders": "16",
    "max_connections": "200",
    "shared_buffers": "32MB",
    "pglogical.conflict_resolution": "'last_update_wins'",
    "pglogical.conflict_log_level": "'LOG'",
    "logging_collector": "on",
    "log_destination": "'jsonlog'",
    "log_directory": "'log'",
    "log_filename": "'postgresql.log'",
    "log_rotation_age": "0",
    "log_rotation_size": "0",
    "fsync": "off",
    "full_page_writes": "off",
}


class ClusterError(RuntimeError):
    """A cluster cannot be made, started or reached: one line naming what and where."""


@dataclass(frozen=True)
class Binaries:
    """Where PostgreSQL's programs and libfaketime are."""

    bindir: str
    faketime: str

    def program(self, name: str) -> str:
        return os.path.join(self.bindir, name)


def find_binaries() -> Binaries:
    """PostgreSQL with pglogical, and libfaketime; else one line saying what to install."""
    candidates: list[str] = []
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(os.path.dirname(os.path.realpath(initdb)))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    missing = []
    bindir = next((d for d in candidates if os.path.exists(os.path.join(d, "initdb"))), None)
    if bindir is None:
        missing.append("PostgreSQL")
    else:
        with_pglogical = [d for d in candidates if _has_pglogical(d)]
        if with_pglogical:
            bindir = with_pglogical[0]
        else:
            missing.append("pglogical")
    fake = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    fake += sorted(glob.glob("/usr/lib/faketime/libfaketime.so.1"))
    if not fake:
        missing.append("libfaketime")
    if missing or bindir is None:
        raise ClusterError(f"target kind pglogical needs {', '.join(missing)} installed: {INSTALL}")
    return Binaries(bindir, fake[0])


def _has_pglogical(bindir: str) -> bool:
    lib = os.path.join(os.path.dirname(bindir), "lib", "pglogical.so")
    return os.path.exists(os.path.join(bindir, "initdb")) and os.path.exists(lib)


@dataclass(frozen=True)
class RunAs:
    """The user clusters run as (None: this process's own user)."""

    name: str | None = None
    uid: int | None = None
    gid: int | None = None

    def kwargs(self) -> dict[str, Any]:
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def own(self, path: Path) -> None:
        if self.uid is not None:
            os.chown(path, self.uid, self.gid or -1)


def service_user() -> RunAs:
    """Ourselves, or `postgres` when we are root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return RunAs()
    try:
        entry = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        raise ClusterError(
            f"running as root, hothot starts PostgreSQL as user {SERVICE_USER}, which does "
            f"not exist: {INSTALL} creates it"
        ) from None
    return RunAs(SERVICE_USER, entry.pw_uid, entry.pw_gid)


@dataclass
class Cluster:
    """One region's cluster: where it lives and how to reach, stop and restart it. Its
    fields are what faults.state keeps for `hothot heal` (an outage restarts it)."""

    region: str
    port: int
    datadir: str
    clock_file: str
    server_log: str
    pg_ctl: str
    faketime: str
    user: str | None = None
    pid: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=hothot dbname=postgres"

    @property
    def json_log(self) -> str:
        return os.path.join(self.datadir, "log", "postgresql.json")

    def describe(self) -> dict[str, Any]:
        return asdict(self)

    def env(self) -> dict[str, str]:
        """The server's environment: libfaketime reading the clock file on every call."""
        return {
            **os.environ,
            "LD_PRELOAD": self.faketime,
            "FAKETIME_TIMESTAMP_FILE": self.clock_file,
            "FAKETIME_NO_CACHE": "1",
            "DONT_FAKE_MONOTONIC": "1",
            "NO_FAKE_STAT": "1",
            "TZ": "UTC",
        }

    def start(self, run_as: RunAs, timeout_s: float = 30.0) -> None:
        """pg_ctl start, waiting until it accepts connections; records the postmaster PID."""
        done = subprocess.run(
            [self.pg_ctl, "start", "-w", "-t", str(int(timeout_s)), "-D", self.datadir,
             "-l", self.server_log],
            env=self.env(), capture_output=True, timeout=timeout_s + 10, **run_as.kwargs(),
        )  # fmt: skip
        if done.returncode != 0:
            raise ClusterError(
                f"the cluster of region {self.region} (port {self.port}) failed to start: "
                f"{self.last_words() or done.stderr.decode(errors='replace').strip()}"
            )
        self.pid = postmaster_pid(self.datadir)

    def last_words(self) -> str:
        """The server log's last error-looking line, for a start that failed."""
        try:
            lines = Path(self.server_log).read_text(errors="replace").splitlines()
        except OSError:
            return ""
        worst = [ln for ln in lines if any(w in ln for w in ("FATAL", "ERROR", "PANIC"))]
        return (worst or lines or [""])[-1].strip()

    def stop(self, timeout_s: float = 15.0) -> None:
        """Fast shutdown (SIGINT) of the postmaster this cluster started with; SIGQUIT, then
        SIGKILL, when it outlives the wait. A PID that is no longer this cluster's is left."""
        pid = self.pid
        if pid is None or postmaster_pid(self.datadir) != pid:
            return
        for sig, wait in ((signal.SIGINT, timeout_s), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            if _gone(pid, wait):
                break
        self.pid = None


def postmaster_pid(datadir: str) -> int | None:
    """The running postmaster's PID from postmaster.pid, None when it is not running."""
    try:
        first = Path(datadir, "postmaster.pid").read_text().split("\n", 1)[0]
        pid = int(first)
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return pid


def running_postmaster(datadir: str) -> int | None:
    """The postmaster serving `datadir`, checked by its command line as well: a postmaster.pid
    left behind whose PID now belongs to another process is not a cluster to stop."""
    pid = postmaster_pid(datadir)
    if pid is None:
        return None
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    names = {os.fsencode(datadir), os.fsencode(os.path.realpath(datadir))}
    return pid if names & set(args) else None


def _gone(pid: int, wait_s: float) -> bool:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    return False


def check_port_free(port: int, region: str) -> None:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise ClusterError(
                f"port {port} on 127.0.0.1 (region {region}) is in use; pick another "
                "target.port, or 0 for free ports"
            ) from None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def usable_area(area: Path, run_as: RunAs) -> Path:
    """`area` when the clusters' user can reach it, else a fresh directory in the system's
    temporary area (a root caller's report under /root is out of postgres's reach)."""
    area.mkdir(parents=True, exist_ok=True)
    if run_as.uid is None:
        return area
    reach = subprocess.run(["test", "-x", str(area)], **run_as.kwargs())
    if reach.returncode == 0:
        return area
    return Path(tempfile.mkdtemp(prefix="hothot-pg-"))
