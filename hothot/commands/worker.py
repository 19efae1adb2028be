"""`hothot worker --master HOST[:PORT]`: join a distributed run from this machine."""

from __future__ import annotations

# Locust runs on gevent: patch before anything imports ssl, sockets or threads.
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402

from units import format_duration, parse_duration  # noqa: E402

#: how long a worker waits for its master by default (as long as a master waits for workers)
CONNECT_TIMEOUT = "60s"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--master",
        required=True,
        metavar="HOST[:PORT]",
        help="the master started by `hothot run CAMPAIGN --workers N --master-bind HOST:PORT`",
    )
    parser.add_argument(
        "--connect-timeout",
        default=CONNECT_TIMEOUT,
        metavar="DURATION",
        help=f"give up (exit 2) if no master answers within this (default {CONNECT_TIMEOUT})",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hothot.distributed import parse_hostport
    from hothot.locust_logs import folded_locust_logs
    from hothot.worker import WorkerProcess

    try:
        patience_s = parse_duration(args.connect_timeout)
        if patience_s <= 0:
            raise ValueError(f"must be above 0, got {args.connect_timeout!r}")
    except ValueError as exc:
        print(f"--connect-timeout: {exc}", file=sys.stderr)
        return 2
    try:
        host, port = parse_hostport(args.master)
        if port == 0:
            raise ValueError(f"a worker needs the master's port, got {args.master!r}")
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except ValueError as exc:
        print(f"--master: {exc}", file=sys.stderr)
        return 2
    except (OSError, UnicodeError) as exc:  # getaddrinfo: an unknown or malformed host name
        print(f"--master: cannot resolve host {host!r}: {exc}", file=sys.stderr)
        return 2
    print(f"joining the master at {host}:{port}", file=sys.stderr)
    with folded_locust_logs(_note):
        try:
            worker = WorkerProcess(host, port, patience_s)
        except ConnectionError:
            print(
                f"no master answered at {host}:{port} within {format_duration(patience_s)} "
                "(is `hothot run … --master-bind` listening there?)",
                file=sys.stderr,
            )
            return 2
        try:
            worker.wait()
        except KeyboardInterrupt:
            return 130
    return 0


def _note(text: str) -> None:
    print(f"hothot worker: note: {text}", file=sys.stderr, flush=True)
