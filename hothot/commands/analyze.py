"""`hothot analyze REPORT_DIR [--budgets FILE]`: recompute the verdict of a saved report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hothot.commands.campaign_args import add_accept_partial
from hothot.exit_line import exit_line
from hothot.report_files import drop_verdict
from verdict.analyze import analyze
from verdict.errors import HistoryError
from verdict.report_dir import load_budgets_file
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
    add_accept_partial(parser)
    parser.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="processes judging a large history's key buckets in parallel (default: every core)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """0 budgets hold, 1 a budget is exceeded, 2 the report cannot be analysed or its run
    cannot be trusted (verdict.trust)."""
    try:
        budgets = load_budgets_file(args.budgets) if args.budgets else None
        if args.jobs is not None and args.jobs < 1:
            raise HistoryError(f"--jobs: at least 1, not {args.jobs}")
        verdict = analyze(
            args.report_dir, budgets, jobs=args.jobs, accept_partial=args.accept_partial
        )
    except HistoryError as e:
        print(f"hothot analyze: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # the report directory refused a read or a write (full, read-only)
        drop_verdict(Path(args.report_dir), e)
        where = f"{e.filename}: " if e.filename else ""
        print(f"exit 2: hothot analyze: {args.report_dir}: {where}{e.strerror or e}.", flush=True)
        return 2
    print_summary(verdict, args.report_dir)
    print(exit_line(verdict.exit_code, args.report_dir), flush=True)
    return verdict.exit_code
