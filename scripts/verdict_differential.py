"""Compare the verdict of two hothot trees, reader by reader, on many report directories.

Every figure of verdict.json must come out the same from the old code and the new (all
readers of each), except what says which reader read it and how long it took. Use it before
deleting or rewriting any part of the verdict:

    python scripts/verdict_differential.py --old REV_OR_CHECKOUT [--generate OPS] DIR...

`--old` is a git revision (checked out into a temporary worktree and its native reader
built there) or a checkout with its extension already built; the new tree is this one.
DIRs are searched for report directories (those holding `history/`); `--generate` adds a
synthetic history of that many operations (bench/verdict.py's generator). Exits 1 when any
verdict differs, naming the directory, the readers and the first differing field.
`--ignore history.buckets` leaves a field out of the comparison (a field the new code adds,
or a figure it changes on purpose; `faults[].anomalies` names it in every fault).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]

#: run inside a tree: every report directory through every reader the tree has
CHILD = r"""
import json, sys
from pathlib import Path
import verdict
from verdict.analyze import analyze
# by file: an editable install would find a module the tree lacks in the installed tree
if (Path(verdict.__file__).parent / "native_reader.py").exists():
    from verdict.native_reader import READERS
else:  # older trees
    from verdict.ingest import READERS
for line in sys.stdin:
    root = Path(line.strip())
    for reader in READERS:
        try:
            data = analyze(root, write=False, reader=reader).data
            data.pop("analysis_s", None)
            data.pop("analysis_cpu_s", None)
            data["history"].pop("reader", None)
            data["history"].pop("reader_refusals", None)
        except Exception as e:  # an input error must be the same error in both trees
            data = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps({"dir": str(root), "reader": reader, "data": data}, sort_keys=True, default=str))
"""


def report_dirs(paths: list[Path]) -> list[Path]:
    found = []
    for p in paths:
        found += sorted(h.parent for h in p.rglob("history") if h.is_dir())
    return found


def generate(root: Path, ops: int) -> None:
    """bench/verdict.py's synthetic history (the file is named like the package: loaded by
    path)."""
    spec = importlib.util.spec_from_file_location("bench_verdict", HERE / "bench" / "verdict.py")
    bench = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(bench)  # type: ignore[union-attr]
    bench.generate(root, ops, max(ops // 10, 1))


def old_tree(spec: str, scratch: Path) -> Path:
    """A checkout of the old code with its native reader built."""
    if Path(spec).is_dir():
        return Path(spec)
    tree = scratch / "old"
    subprocess.run(["git", "-C", str(HERE), "worktree", "add", "--detach", str(tree), spec],
                   check=True, capture_output=True)  # fmt: skip
    subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=tree,
                   check=True, capture_output=True)  # fmt: skip
    return tree


def verdicts(tree: Path, dirs: list[Path]) -> dict[tuple[str, str], Any]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", CHILD], input="\n".join(map(str, dirs)),
                         capture_output=True, text=True, env=env, cwd=tree, check=True)  # fmt: skip
    got = {}
    for line in out.stdout.splitlines():
        row = json.loads(line)
        got[row["dir"], row["reader"]] = row["data"]
    return got


def drop(data: Any, path: list[str]) -> None:
    """Removes the dotted `path` from `data` in place; `name[]` walks every element of a list."""
    head, rest = path[0], path[1:]
    items = data.get(head.removesuffix("[]"), []) if isinstance(data, dict) else []
    if not rest:
        if isinstance(data, dict):
            data.pop(head, None)
    elif head.endswith("[]"):
        for item in items if isinstance(items, list) else []:
            drop(item, rest)
    elif isinstance(data, dict) and head in data:
        drop(data[head], rest)


def first_difference(a: Any, b: Any, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k, "<absent>") != b.get(k, "<absent>"):
                return first_difference(a.get(k, "<absent>"), b.get(k, "<absent>"), f"{path}.{k}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return first_difference(x, y, f"{path}[{i}]")
    return (
        f"{path or '.'}: {json.dumps(a, default=str)[:200]} != {json.dumps(b, default=str)[:200]}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True, help="git revision or built checkout of the old code")
    ap.add_argument("--generate", type=int, action="append", default=[], metavar="OPS")
    ap.add_argument("--ignore", action="append", default=[], metavar="FIELD")
    ap.add_argument("dirs", nargs="*", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="hothot-diff-") as tmp:
        scratch = Path(tmp)
        for i, ops in enumerate(args.generate):
            generate(scratch / f"generated-{i}", ops)
        dirs = report_dirs([*args.dirs, scratch])
        old = verdicts(old_tree(args.old, scratch), dirs)
        new = verdicts(HERE, dirs)
    for data in [*old.values(), *new.values()]:
        for field in args.ignore:
            drop(data, field.split("."))
    reference = {d: new[d, "records"] for d, reader in new if reader == "records"}
    bad = 0
    for label, got in (("old", old), ("new", new)):
        for (d, reader), data in sorted(got.items()):
            if data != reference[d]:
                bad += 1
                print(f"DIFFERS {d}: {label} {reader} vs new records: "
                      f"{first_difference(data, reference[d])}")  # fmt: skip
    readers = sorted({f"old {r}" for _, r in old} | {f"new {r}" for _, r in new})
    print(f"{len(dirs)} report directories x {len(readers)} readers ({', '.join(readers)}): "
          f"{bad} verdicts differ")  # fmt: skip
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
