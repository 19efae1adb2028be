"""`hothot run CAMPAIGN`: load, chaos and verdict; exit 0 / 1 budget exceeded / 2 invalid /
130 interrupted."""

from __future__ import annotations

# Locust runs on gevent: patch before anything imports ssl, sockets or threads.
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import sys  # noqa: E402

from hothot.commands.campaign_args import (  # noqa: E402
    add_accept_partial,
    add_campaign_arguments,
    load_or_report,
)


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


def run(args: argparse.Namespace) -> int:
    campaign = load_or_report(args)
    if campaign is None:
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
    if args.workers or args.expect_workers:
        from hothot.distributed import DistributedRun

        return DistributedRun(
            campaign,
            report_dir=args.report_dir,
            local_workers=args.workers,
            expect_workers=args.expect_workers,
            bind=args.master_bind or "127.0.0.1:5557",
            accept_partial=args.accept_partial,
        ).execute()
    from hothot.runner import CampaignRun

    return CampaignRun(
        campaign, report_dir=args.report_dir, accept_partial=args.accept_partial
    ).execute()
