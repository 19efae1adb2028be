"""One module per `hothot` sub-command; each exposes `register(parser)`.

`register` adds the command's arguments to its own `argparse` parser and sets
`parser.set_defaults(func=run)`, where `run(args) -> int` returns the exit code. Modules are
imported only when their command runs, so a command's heavy imports (Locust, boto3) cost the
others nothing.
"""
