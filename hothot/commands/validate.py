"""`hothot validate CAMPAIGN`: every problem at once, each as file:line: field: message."""

from __future__ import annotations

import argparse
import sys

from hothot.campaign import CampaignError, load_campaign


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("campaign", help="campaign YAML file")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a field, e.g. --set duration=20s (repeatable)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        campaign = load_campaign(args.campaign, args.overrides)
    except CampaignError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    regions = ", ".join(campaign.target.regions)
    print(
        f"{args.campaign}: ok — {campaign.name}, {campaign.duration:g}s on "
        f"{campaign.target.kind} ({regions}), {len(campaign.workloads)} workloads"
    )
    return 0
