"""What `hothot heal` checks in a pglogical handle read back from faults.state before acting
on it. Anyone who can write that file could otherwise make `hothot heal` run any program
(a cluster's `pg_ctl`, with any library preloaded as its `faketime`) or overwrite any file (a
`clock_file`), as whoever heals, often root (issue 16, case 6)."""

from __future__ import annotations

import math
import os
import re
from dataclasses import fields
from typing import Any

from pgtarget.control import Binaries, Cluster, ClusterError, find_binaries

#: what a handle may hold (PglogicalInjector.apply writes no other field)
HANDLE_FIELDS = {"disabled", "delays", "clock_file", "region", "cluster"}
LINK_FIELDS = ("source", "target", "dsn", "subscription")
CLUSTER_FIELDS = {f.name for f in fields(Cluster)}
#: a subscription's apply delay to restore, at most a day (the campaign allows 10 minutes)
MAX_APPLY_DELAY_S = 86_400.0
#: what write_clock writes: "+<seconds>" or "-<seconds>"
CLOCK_TEXT = re.compile(r"[+-]\d{1,12}(\.\d{1,9})?\n?")


def check_pglogical_handle(handle: dict[str, Any]) -> list[str]:
    problems = [f"its handle has an unknown field {k!r}" for k in handle if k not in HANDLE_FIELDS]
    for key in ("disabled", "delays"):
        problems += _links(key, handle.get(key, []))
    if "clock_file" in handle:
        problems += _clock_file(handle["clock_file"])
    if "cluster" in handle:
        problems += _cluster(handle["cluster"])
    return problems


def _links(key: str, links: Any) -> list[str]:
    if not isinstance(links, list) or not all(isinstance(link, dict) for link in links):
        return [f'its "{key}" is not a list of links']
    problems = []
    for link in links:
        missing = [f for f in LINK_FIELDS if not isinstance(link.get(f), str) or not link[f]]
        if missing:
            problems.append(f'a link in its "{key}" has no {", ".join(missing)}')
        if key == "delays":
            delay = link.get("previous_delay_s", 0.0)
            if (
                not isinstance(delay, int | float)
                or isinstance(delay, bool)
                or not math.isfinite(delay)
                or not 0 <= delay <= MAX_APPLY_DELAY_S
            ):
                problems.append(
                    f"its previous_delay_s {delay!r} is not a number of seconds within "
                    f"0..{MAX_APPLY_DELAY_S:g}"
                )
    return problems


def _clock_file(path: Any) -> list[str]:
    """A libfaketime clock file hothot made: an absolute path named `clock`, a regular file
    (no symlink) holding one `+<seconds>` line."""
    if not isinstance(path, str) or not os.path.isabs(path) or os.path.basename(path) != "clock":
        return [f"its clock_file {path!r} is not an absolute path to a file named clock"]
    try:
        if os.path.islink(path) or not os.path.isfile(path) or os.path.getsize(path) > 64:
            return [f"its clock_file {path} is not a clock file hothot wrote"]
        with open(path, encoding="ascii") as text:
            if not CLOCK_TEXT.fullmatch(text.read()):
                return [f"its clock_file {path} does not hold a clock offset"]
    except (OSError, UnicodeDecodeError) as exc:
        return [f"its clock_file {path} cannot be read ({exc})"]
    return []


def _cluster(data: Any) -> list[str]:
    """A cluster to restart: its programs must be this machine's PostgreSQL and libfaketime,
    its data directory a PostgreSQL one."""
    if not isinstance(data, dict) or not {"datadir", "pg_ctl", "faketime"} <= set(data):
        return ["its cluster is not a cluster description (datadir, pg_ctl, faketime, ...)"]
    unknown = sorted(set(data) - CLUSTER_FIELDS)
    if unknown:
        return [f"its cluster has unknown fields {unknown}"]
    problems = _clock_file(data.get("clock_file"))
    datadir = data["datadir"]
    if not isinstance(datadir, str) or not os.path.isfile(os.path.join(datadir, "PG_VERSION")):
        problems.append(f"its cluster's datadir {datadir!r} is not a PostgreSQL data directory")
    try:
        binaries = find_binaries()
    except ClusterError as exc:
        return [*problems, f"its cluster cannot be restarted here: {exc}"]
    return problems + _programs(data, binaries)


def _programs(data: dict[str, Any], binaries: Binaries) -> list[str]:
    problems = []
    for key, expected in (("pg_ctl", binaries.program("pg_ctl")), ("faketime", binaries.faketime)):
        given = data[key]
        if not isinstance(given, str) or os.path.realpath(given) != os.path.realpath(expected):
            problems.append(f"its cluster's {key} {given!r} is not this machine's ({expected})")
    port, user = data.get("port"), data.get("user")
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        problems.append(f"its cluster's port {port!r} is not a port number")
    if user is not None and not (
        isinstance(user, str) and re.fullmatch(r"[a-z_][a-z0-9_-]*", user)
    ):
        problems.append(f"its cluster's user {user!r} is not a user name")
    return problems
