"""The campaign argument and `--set` overrides shared by `run` and `validate`."""

from __future__ import annotations

import argparse
import sys

from hothot.campaign import Campaign, CampaignError, load_campaign


def add_campaign_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("campaign", help="campaign YAML file")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a field, e.g. --set duration=20s --set writers.client=fast (repeatable)",
    )


def load_or_report(args: argparse.Namespace) -> Campaign | None:
    """The campaign, or None after printing every problem (file:line: field: message)."""
    try:
        return load_campaign(args.campaign, args.overrides)
    except CampaignError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None


def add_accept_partial(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--accept-partial",
        action="store_true",
        help="judge a partial history (a killed run, a lost worker) instead of refusing to "
        "trust it; keys without a final read still make the run untrusted",
    )
