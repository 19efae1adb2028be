"""`hothot run CAMPAIGN`: load, chaos and verdict; exit 0 / 1 budget exceeded / 2 invalid /
130 interrupted."""

from __future__ import annotations

# Locust runs on gevent: patch before anything imports ssl, sockets or threads.
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from hothot import __version__  # noqa: E402
from hothot.campaign import Campaign  # noqa: E402
from hothot.commands.campaign_args import (  # noqa: E402
    add_accept_partial,
    add_campaign_arguments,
    load_or_report,
)
from hothot.report_files import ReportUnwritable, unwritable, write_report_file  # noqa: E402
from verdict.report_dir import RUN_FILE  # noqa: E402


def register(parser: argparse.ArgumentParser) -> None:
    add_campaign_arguments(parser)
    parser.add_argument(
        "--report-dir", help="write the report here instead of reports/<name>-<time>"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="run N local Locust worker processes (distributed mode); 0: users in this process",
    )
    parser.add_argument(
        "--master-bind",
        default=None,
        metavar="HOST:PORT",
        help="with --workers or --expect-workers: where the master listens for workers "
        "(default 127.0.0.1:5557)",
    )
    parser.add_argument(
        "--expect-workers",
        type=int,
        default=None,
        help="wait for this many workers in total (remote ones included) before the load starts; "
        "alone, it runs the master with no local worker",
    )
    add_accept_partial(parser)
    parser.set_defaults(func=run)


def write_run_file(report_dir: Path) -> None:
    """`run.json`: what ran, for the report's header (the campaign as run is campaign.yaml)."""
    command = "hothot " + shlex.join(sys.argv[1:])
    data = {"hothot_version": __version__, "command": command, "cwd": os.getcwd()}
    write_report_file(report_dir / RUN_FILE, (json.dumps(data, indent=2) + "\n").encode())


def run(args: argparse.Namespace) -> int:
    campaign = load_or_report(args)
    if campaign is None:
        print("exit 2: the campaign file is invalid (see above).", flush=True)
        return 2
    if args.workers < 0:
        print("--workers: must be 0 or more", file=sys.stderr)
        return 2
    if args.master_bind and not (args.workers or args.expect_workers):
        print(
            "--master-bind: only a distributed run has a master; add --workers N and/or"
            " --expect-workers N",
            file=sys.stderr,
        )
        return 2
    try:
        return _run(args, campaign)
    except ReportUnwritable as exc:  # raised once the run healed its faults (its `finally`)
        print(f"exit 2: {exc}.", flush=True)
        return 2


def _run(args: argparse.Namespace, campaign: Campaign) -> int:
    from hothot.exit_line import exit_line
    from hothot.locust_logs import folded_locust_logs

    try:
        run = _make_run(args, campaign)
    except OSError as exc:  # the report directory could not be made
        raise unwritable(args.report_dir or campaign.report.dir, exc) from None
    write_run_file(run.report_dir)
    with folded_locust_logs(run.note):
        code = int(run.execute())
    print(exit_line(code, run.report_dir, campaign.description), flush=True)
    return code


def _make_run(args: argparse.Namespace, campaign: Campaign) -> Any:
    if args.workers or args.expect_workers:
        from hothot.distributed import DistributedRun

        run: Any = DistributedRun(
            campaign,
            report_dir=args.report_dir,
            local_workers=args.workers,
            expect_workers=args.expect_workers,
            bind=args.master_bind or "127.0.0.1:5557",
            accept_partial=args.accept_partial,
        )
    else:
        from hothot.runner import CampaignRun

        run = CampaignRun(campaign, report_dir=args.report_dir, accept_partial=args.accept_partial)
    return run
