"""`hothot analyze REPORT_DIR [--budgets FILE]`: recompute the verdict of a saved report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hothot.exit_line import exit_line
from verdict.analyze import analyze, load_budgets_file
from verdict.errors import HistoryError
from verdict.summary import print_summary


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "report_dir", type=Path, metavar="REPORT_DIR", help="a report directory of `hothot run`"
    )
    parser.add_argument(
        "--budgets",
        type=Path,
        metavar="FILE",
        help="YAML file with a `budgets:` list, used instead of the campaign's",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """0 budgets hold, 1 a budget is exceeded, 2 the report cannot be analysed."""
    try:
        budgets = load_budgets_file(args.budgets) if args.budgets else None
        verdict = analyze(args.report_dir, budgets)
    except HistoryError as e:
        print(f"hothot analyze: {e}", file=sys.stderr)
        return 2
    print_summary(verdict, args.report_dir)
    print(exit_line(verdict.exit_code, args.report_dir), flush=True)
    return verdict.exit_code
