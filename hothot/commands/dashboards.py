"""`hothot dashboards build|push`: regenerate the dashboard JSON, or upload it to Grafana."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = sub.add_parser("build", help="write the dashboard JSON files")
    build.add_argument(
        "--out", default="dashboards", help="directory for the JSON (default: dashboards)"
    )
    build.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when the files in --out differ from what the code builds",
    )
    build.set_defaults(func=run_build)
    push = sub.add_parser("push", help="create or overwrite the dashboards in Grafana")
    push.add_argument("--url", required=True, help="Grafana base URL, e.g. http://127.0.0.1:3000")
    push.add_argument(
        "--token",
        default=os.environ.get("HOTHOT_GRAFANA_TOKEN"),
        help="service-account token (default: $HOTHOT_GRAFANA_TOKEN)",
    )
    push.add_argument("--folder-uid", default=None, help="Grafana folder to put them in")
    push.set_defaults(func=run_push)


def run_build(args: argparse.Namespace) -> int:
    from hothot.observe.dashboards import FILE_NAME, build_dashboard, render, write_dashboards

    out = Path(args.out)
    if args.check:
        path = out / FILE_NAME
        current = path.read_text() if path.exists() else None
        if current != render(build_dashboard()):
            print(f"{path}: stale; run `hothot dashboards build --out {out}`", file=sys.stderr)
            return 1
        print(f"{path}: up to date")
        return 0
    for path in write_dashboards(out):
        print(path)
    return 0


def _shown(url: str) -> str:
    """The URL as printed: a password given in it (http://admin:pw@host) is masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def run_push(args: argparse.Namespace) -> int:
    from hothot.observe.grafana import push_dashboards

    shown = _shown(args.url)
    try:
        if args.url.startswith(("http://", "https://")) and not urlsplit(args.url).hostname:
            raise ValueError("the URL names no host, e.g. http://127.0.0.1:3000")
        answers = push_dashboards(args.url, args.token, folder_uid=args.folder_uid)
    except Exception as err:  # the CLI reports any Grafana/transport failure and exits 2
        message = str(err)
        if shown != args.url:
            message = message.replace(args.url, shown)
        print(f"hothot dashboards push: --url {shown}: {message}", file=sys.stderr)
        return 2
    for answer in answers:
        print(f"{shown}: {answer.get('status', 'ok')} {answer.get('url', '')}".rstrip())
    return 0
