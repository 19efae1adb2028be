"""The `hothot` command line: a thin dispatcher over `hothot.commands.<name>`."""

from __future__ import annotations

import argparse
import importlib
import sys

from hothot import __version__

#: sub-command name -> (module under hothot.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "run a campaign: load, chaos, verdict"),
    "emulate": ("emulate", "serve the embedded multi-region global table"),
    "analyze": ("analyze", "recompute the verdict from a saved report directory"),
    "validate": ("validate", "check a campaign file without running it"),
    "worker": ("worker", "join a distributed run as a Locust worker"),
    "heal": ("heal", "undo faults that a killed run left applied"),
    "schema": ("schema", "print the campaign file's JSON Schema"),
    "cost": ("cost", "capacity units and monthly cost on DynamoDB global tables"),
    "dashboards": ("dashboards", "build or push the Grafana dashboards"),
}


def _parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hothot", description="Chaos and load testing for active-active databases."
    )
    parser.add_argument("--version", action="version", version=f"hothot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = argv[0] if argv and argv[0] in COMMANDS else None
    for name, (module, help_text) in COMMANDS.items():
        if wanted is not None and name != wanted:
            sub.add_parser(name, help=help_text)
            continue
        mod = importlib.import_module(f"hothot.commands.{module}")
        mod.register(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:  # without importing every command (`run` patches gevent in)
        print(f"hothot {__version__}")
        return 0
    parser = _parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
