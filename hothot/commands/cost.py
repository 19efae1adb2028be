"""`hothot cost`: the design-review calculator for DynamoDB global tables."""

from __future__ import annotations

import argparse
import math
import re
import sys

import orjson
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from units import parse_size
from verdict.cost import (
    MAX_ITEM_BYTES,
    CostSpec,
    parse_price_overrides,
    price_sheet,
    table_rows,
)
from verdict.cost_calculator import estimate


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--writes-per-second",
        type=float,
        required=True,
        help="write rate each region receives from its own clients",
    )
    parser.add_argument(
        "--reads-per-second", type=float, default=0.0, help="per region (default 0)"
    )
    parser.add_argument(
        "--item-size", default="1KB", help="e.g. 700B, 1KB, 1.5KB (1 KB = 1024 B; default 1KB)"
    )
    parser.add_argument("--read-item-size", help="size of items read (default: --item-size)")
    parser.add_argument(
        "--read-consistency", choices=("strong", "eventual"), default="eventual",
        help="default eventual (half a read unit per 4 KB)",
    )  # fmt: skip
    parser.add_argument(
        "--regions", type=int, default=3, help="number of replica regions (default 3)"
    )
    parser.add_argument(
        "--storage-gb", type=float, default=0.0, help="table size, each replica (default 0)"
    )
    parser.add_argument("--free-tier", action="store_true", help="deduct the free storage")
    parser.add_argument(
        "--gsis", type=int, default=0,
        help="global secondary indexes on the table: each write is billed again in each, "
        "in every replica (default 0)",
    )  # fmt: skip
    parser.add_argument(
        "--gsi-item-size", help="size of one index entry (default: --item-size, ALL projection)"
    )
    parser.add_argument(
        "--mode", choices=("on-demand", "provisioned"), default="on-demand",
        help="capacity mode (default on-demand; the answer also prices the other)",
    )  # fmt: skip
    parser.add_argument(
        "--price",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"override a price; keys: {', '.join(price_sheet().prices)}",
    )
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    parser.set_defaults(func=run)


def _fail(message: str) -> int:
    print(f"hothot cost: {message}", file=sys.stderr)
    return 2


def _size(flag: str, text: str) -> int:
    """A size with its unit: a bare `1.5` is more likely meant as KB than as 2 bytes."""
    try:
        size = parse_size(text)
    except ValueError as err:
        raise ValueError(f"{flag}: {err}") from None
    if re.fullmatch(r"[\s\d.]*", text):
        raise ValueError(f"{flag} {text!r}: give a unit, e.g. {text.strip()}B or {text.strip()}KB")
    if size > MAX_ITEM_BYTES:
        raise ValueError(f"{flag} {text}: {size} B exceeds DynamoDB's 400 KB item maximum")
    return size


def _rate(flag: str, value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{flag} must be a number >= 0, got {value}")
    return value


def run(args: argparse.Namespace) -> int:
    try:
        item = _size("--item-size", args.item_size)
        read_item = _size("--read-item-size", args.read_item_size) if args.read_item_size else None
        _rate("--writes-per-second", args.writes_per_second)
        _rate("--reads-per-second", args.reads_per_second)
        spec = CostSpec(
            mode=args.mode,
            prices=parse_price_overrides(args.price),
            storage_gb=args.storage_gb,
            free_tier=args.free_tier,
            read_consistency=args.read_consistency,
            gsis=args.gsis,
            gsi_item_bytes=_size("--gsi-item-size", args.gsi_item_size)
            if args.gsi_item_size
            else None,
        )
        if args.regions < 1:
            raise ValueError(f"--regions must be at least 1, got {args.regions}")
        result = estimate(
            writes_per_second=args.writes_per_second,
            reads_per_second=args.reads_per_second,
            item_size=item,
            read_item_size=read_item,
            regions=args.regions,
            spec=spec,
        )
    except ValidationError as err:
        return _fail(
            "; ".join(
                f"--{'-'.join(map(str, e['loc'])).replace('_', '-')}: {e['msg']}"
                for e in err.errors()
            )
        )
    except ValueError as err:
        return _fail(str(err))
    sheet = price_sheet()
    result["prices_taken"] = sheet.taken
    if args.json:
        sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    head, rows = table_rows(result)
    table = Table(title=f"DynamoDB global tables, {result['mode']}, per month")
    for i, title in enumerate(head):
        table.add_column(title, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row, style="bold" if row[0] == "total" else None)
    console = Console(width=max(100, Console().width))
    console.print(table)
    for advice in result["advice"]:
        console.print(f"- {advice['text']}")
    console.print(f"Prices: {sheet.region} list prices taken {sheet.taken} (verdict/prices.json).")
    if result.get("transfer_note"):
        console.print(result["transfer_note"], style="bold", highlight=False, soft_wrap=True)
    console.print(result["answer"], style="bold", highlight=False, soft_wrap=True)
    return 0
