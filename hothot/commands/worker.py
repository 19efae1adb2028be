"""`hothot worker --master HOST[:PORT]`: join a distributed run from this machine."""

from __future__ import annotations

# Locust runs on gevent: patch before anything imports ssl, sockets or threads.
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import sys  # noqa: E402


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--master",
        required=True,
        metavar="HOST[:PORT]",
        help="the master started by `hothot run CAMPAIGN --workers N --master-bind HOST:PORT`",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hothot.distributed import parse_hostport
    from hothot.worker import WorkerProcess

    try:
        host, port = parse_hostport(args.master)
    except ValueError as exc:
        print(f"--master: {exc}", file=sys.stderr)
        return 2
    worker = WorkerProcess(host, port)
    try:
        worker.wait()
    except KeyboardInterrupt:
        return 130
    return 0
