"""`hothot validate CAMPAIGN`: every problem at once, each as file:line: field: message."""

from __future__ import annotations

import argparse

from hothot.commands.campaign_args import add_campaign_arguments, load_or_report


def register(parser: argparse.ArgumentParser) -> None:
    add_campaign_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    campaign = load_or_report(args)
    if campaign is None:
        return 2
    regions = ", ".join(campaign.target.regions)
    print(
        f"{args.campaign}: ok — {campaign.name}, {campaign.duration:g}s on "
        f"{campaign.target.kind} ({regions}), {len(campaign.workloads)} workload"
        f"{'' if len(campaign.workloads) == 1 else 's'}"
    )
    if campaign.target.kind == "pglogical" and campaign.target.dsn:
        print(
            "note: clusters given by dsn: are reached through SQL only: faults limited to "
            "partition, replication_delay and region_latency; no conflict-log witness"
        )
    return 0
