"""`hothot heal [REPORT_DIR]`: undo what a killed run left behind (DESIGN §7): the faults it
left applied (`faults.state`) and, on target kind pglogical, the clusters it started
(`pglogical/clusters.json`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

#: the pglogical target's record of the clusters a run started (hothot.pgrun, imported late)
CLUSTERS_RECORD = "pglogical/clusters.json"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "report_dir",
        nargs="?",
        type=Path,
        help="the killed run's report directory (default: the newest under ./reports)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from chaos.heal import HealError, HealResult, heal_report, newest_report
    from chaos.timeline import STATE_FILE

    try:
        report_dir = args.report_dir or newest_report(Path("reports"), also=(CLUSTERS_RECORD,))
        has_clusters = (report_dir / CLUSTERS_RECORD).is_file()
        if has_clusters and not (report_dir / STATE_FILE).is_file():
            result = HealResult()  # killed before its faults could start: clusters only
        else:
            result = heal_report(report_dir)
    except HealError as err:
        print(f"hothot heal: {err}", file=sys.stderr)
        return 2
    for line in result.healed:
        print(f"healed {line}")
    for line in result.failed:
        print(f"hothot heal: could not heal {line}", file=sys.stderr)
    for line in result.warnings:
        print(f"hothot heal: {line}", file=sys.stderr)
    stopped = _stop_clusters(report_dir) if has_clusters else 0
    if stopped < 0 or result.failed:
        if result.failed:
            print(
                f"hothot heal: {len(result.failed)} fault(s) still applied; see "
                f"{report_dir}/{STATE_FILE}",
                file=sys.stderr,
            )
        return 2
    if not result.healed and not stopped:
        print(f"nothing to heal in {report_dir}: no fault was left applied, no cluster running")
    return 0


def _stop_clusters(report_dir: Path) -> int:
    """The clusters the run started and left running: how many were stopped, -1 when one
    could not be."""
    from hothot.pgrun import stop_left_clusters

    left = stop_left_clusters(report_dir)
    for line in left.stopped:
        print(f"stopped {line}")
    if left.stopped:
        print(f"kept their conflict logs in {report_dir}/pglogical and removed their data")
    for line in left.failed:
        print(f"hothot heal: could not stop {line}", file=sys.stderr)
    return -1 if left.failed else len(left.stopped)
