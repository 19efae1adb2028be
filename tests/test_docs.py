"""The docs are true: what README.md and docs/*.md tell a user to type, name or follow exists.

Cheap checks only (one subprocess in all): the command lines of their code blocks parse with
the real CLI, options the help says need another option are shown with it, every budget metric
is in the budget table with its filters, the README's report listing names every file of the
report directory, and relative links and #anchors resolve."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
FILTERS = {"workload", "region", "link", "op", "error"}


def _code_blocks(path: Path) -> list[str]:
    return FENCE.findall(path.read_text(encoding="utf-8"))


def _doc_commands() -> list[tuple[str, list[str]]]:
    """(where, argv after `hothot`) for every `hothot ...` line of a code block; `[--opt X]`
    shown as optional is taken as given, `&` and `# comments` are dropped."""
    found = []
    for path in DOCS:
        for block in _code_blocks(path):
            for line in block.splitlines():
                line = re.sub(r"^\$ ", "", line.strip())
                if not line.startswith("hothot "):
                    continue
                line = re.sub(r"\s+#.*$", "", line).rstrip(" &\\")
                line = line.replace("[", "").replace("]", "")
                found.append((f"{path.name}: {line}", line.split()[1:]))
    return found


PARSE_ALL = """
import io, json, sys, contextlib
from hothot.cli import _parser
bad = {}
for where, argv in json.load(sys.stdin):
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            _parser(argv).parse_args(argv)
    except SystemExit as exc:
        if exc.code:
            bad[where] = err.getvalue().strip().splitlines()[-1]
run = _parser(["run"])._subparsers._group_actions[0].choices["run"]
helps = {a.option_strings[0]: a.help or "" for a in run._actions if a.option_strings}
print(json.dumps({"bad": bad, "run_help": helps}))
"""


@pytest.fixture(scope="module")
def cli() -> dict[str, dict[str, str]]:
    """Every documented command line parsed by the real CLI, and `hothot run`'s option help,
    in a subprocess: importing `hothot run` monkey-patches the process for gevent."""
    commands = _doc_commands()
    assert len(commands) > 20  # the README and docs show many; an empty scan proves nothing
    proc = subprocess.run(
        [sys.executable, "-c", PARSE_ALL], input=json.dumps(commands), capture_output=True,
        text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_every_documented_command_line_parses(cli: dict[str, dict[str, str]]) -> None:
    assert cli["bad"] == {}


def test_options_documented_alone_are_not_described_as_needing_another(
    cli: dict[str, dict[str, str]],
) -> None:
    """`hothot run --help` must not say `--master-bind`/`--expect-workers` work only "with
    --workers" while docs/distributed.md starts a master with `--expect-workers` alone."""
    needs = {}
    for option, text in cli["run_help"].items():
        match = re.match(r"with (--[\w-]+)(?: or (--[\w-]+))?:", text)
        if match:
            needs[option] = {g for g in match.groups() if g}
    assert needs, "no option says it needs another: the check below would be empty"
    for where, argv in _doc_commands():
        if argv[:1] != ["run"]:
            continue
        for option, required in needs.items():
            if option in argv:
                assert required & set(argv), f"{where}: {option} without {sorted(required)}"


def _budget_table() -> dict[str, set[str]]:
    text = (ROOT / "docs" / "verdict.md").read_text(encoding="utf-8")
    table = text.split("| metric | unit | filters |", 1)[1].split("\n\n", 1)[0]
    rows: dict[str, set[str]] = {}
    for row in table.splitlines()[2:]:
        names_cell, _unit, filters_cell = row.strip("|").split("|")[:3]
        names: list[str] = []
        for name in re.findall(r"`([\w]+)`", names_cell):
            # `replication_lag_p50`, `_p95`: a leading underscore continues the previous name
            names.append(names[-1].rsplit("_", 1)[0] + name if name.startswith("_") else name)
        for name in names:
            rows[name] = set(re.findall(r"[a-z]+", filters_cell)) & FILTERS
    return rows


def test_every_budget_metric_is_in_the_budget_table_with_its_filters() -> None:
    from verdict.budgets import METRICS

    table = _budget_table()
    assert set(table) == set(METRICS), "docs/verdict.md budget table vs verdict.budgets.METRICS"
    for name, metric in METRICS.items():
        assert table[name] == set(metric.filters), name


def _listing(path: Path, first_line: str) -> set[str]:
    block = next(b for b in _code_blocks(path) if b.startswith(first_line))
    return {line.split()[0].split("/")[0] for line in block.splitlines()[1:] if line.strip()}


def test_readme_report_listing_names_every_file_of_the_report_directory() -> None:
    architecture = _listing(ROOT / "docs" / "architecture.md", "reports/<name>-")
    readme = _listing(ROOT / "README.md", "reports/quickstart-")
    assert {"faults.state", "truth.json", "history"} <= architecture
    assert architecture - readme == set()


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {_slug(h) for h in re.findall(r"^#+ (.*)$", text, re.M)}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_relative_links_and_anchors_resolve(doc: Path) -> None:
    for link in re.findall(r"\]\(([^)\s]+)\)", FENCE.sub("", doc.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", link):
            continue
        target, _, anchor = link.partition("#")
        path = (doc.parent / target).resolve() if target else doc
        assert path.exists(), f"{doc.name}: {link}: no such file"
        if anchor:
            assert anchor in _anchors(path), f"{doc.name}: {link}: no such heading"


def _listening_ports() -> set[int]:
    """Container ports of the compose stack that something listens on: the images' own
    (Grafana 3000, Prometheus's --web.listen-address, Pushgateway 9091), the emulator's
    --port..+2 and --control-port, the runner's observe.metrics_port, and Locust's web UI
    (8089) only if hothot ever creates one."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    ports = {3000, 9091}
    ports |= {int(a.rsplit(":", 1)[1]) for a in services["prometheus"]["command"] if "listen" in a}
    emulator = dict(a.lstrip("-").split("=", 1) for a in services["emulator"]["command"][1:])
    ports |= {int(emulator["port"]) + i for i in range(3)} | {int(emulator["control-port"])}
    runner = [a for a in services["runner"]["command"] if "observe.metrics_port=" in a]
    ports |= {int(a.rsplit("=", 1)[1]) for a in runner}
    sources = (ROOT / "hothot").rglob("*.py")
    if any("create_web_ui" in p.read_text(encoding="utf-8") for p in sources):
        ports.add(8089)
    return ports


def test_ports_the_compose_docs_point_at_are_served() -> None:
    block = next(
        b for b in _code_blocks(ROOT / "docs" / "observability.md") if "docker compose up" in b
    )
    shown = {int(p) for p in re.findall(r":(\d{4,5})\b", block)}
    assert shown, "the compose block names no port: nothing checked"
    assert shown - _listening_ports() == set()


def _kinds_in_table(text: str) -> set[str]:
    table = text.split("| kind |", 1)[1].split("\n\n", 1)[0]
    return {m for m in re.findall(r"^\| `(\w+)` \|", table, re.M)}


def test_workload_tables_list_every_kind_and_the_quickstart_every_writing_one() -> None:
    from loadgen.workloads import WORKLOADS

    for doc in (ROOT / "README.md", ROOT / "docs" / "workloads.md"):
        assert _kinds_in_table(doc.read_text(encoding="utf-8")) == set(WORKLOADS), doc.name
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `quickstart.yaml`"))
    campaign = yaml.safe_load((ROOT / "campaigns" / "quickstart.yaml").read_text("utf-8"))
    kinds = {w["kind"] for w in campaign["workloads"]}
    claimed = {k for k, cls in WORKLOADS.items() if cls.writes} if "every write" in row else None
    if "every workload" in row:
        claimed = set(WORKLOADS)
    assert claimed is not None, f"README no longer says what the quickstart covers: {row}"
    assert kinds == claimed
