"""`hothot heal [REPORT_DIR]`: undo faults that a killed run left applied (DESIGN §7)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "report_dir",
        nargs="?",
        type=Path,
        help="the killed run's report directory (default: the newest under ./reports)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from chaos.heal import HealError, heal_report, newest_report

    try:
        report_dir = args.report_dir or newest_report(Path("reports"))
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
    if result.failed:
        print(
            f"hothot heal: {len(result.failed)} fault(s) still applied; see {report_dir}/faults.state",
            file=sys.stderr,
        )
        return 2
    if not result.healed:
        print(f"nothing to heal in {report_dir}: no fault was left applied")
    return 0
