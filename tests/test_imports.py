"""The house's import rule (docs/architecture.md), checked on the source: imports flow one
way between the parts, and no two modules of one part import each other at run time
(imports under `if TYPE_CHECKING:` are for type hints only and do not count)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("units", "globaltable", "pgtarget", "verdict", "loadgen", "chaos", "hothot")
#: what each part may import of the others (a module, or every module of a part)
MAY_IMPORT = {
    "units": set(),
    "globaltable": {"units"},
    "pgtarget": {"units"},
    "verdict": {"units"},
    "loadgen": {"units", "verdict.history"},
    "chaos": {"units", "verdict.history", "globaltable.control", "pgtarget.control"},
    "hothot": set(PARTS),
}


def _type_only(tree: ast.Module) -> set[int]:
    """Line numbers of the statements under `if TYPE_CHECKING:`."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def run_time_imports() -> dict[str, set[str]]:
    """module -> the modules of ours it imports at run time (anywhere in the file)."""
    out: dict[str, set[str]] = {}
    for part in PARTS:
        for path in sorted((ROOT / part).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            skip = _type_only(tree)
            found: set[str] = set()
            for node in ast.walk(tree):
                if getattr(node, "lineno", 0) in skip:
                    continue
                if isinstance(node, ast.Import):
                    found.update(a.name for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found.update(f"{node.module}.{a.name}" for a in node.names)
            out[_module_name(path)] = {m for m in found if m.split(".")[0] in PARTS}
    return out


IMPORTS = run_time_imports()


def _allowed(importer: str, imported: str) -> bool:
    part, target = importer.split(".")[0], imported.split(".")[0]
    if part == target:
        return True
    return any(imported == m or imported.startswith(m + ".") or m == target
               for m in MAY_IMPORT[part])  # fmt: skip


@pytest.mark.parametrize("part", PARTS)
def test_imports_flow_one_way(part: str) -> None:
    wrong = sorted(
        f"{module} imports {imported}"
        for module, imported_set in IMPORTS.items()
        if module.split(".")[0] == part
        for imported in imported_set
        if not _allowed(module, imported)
    )
    assert not wrong, "\n".join(wrong)


def _modules_of(name: str) -> str | None:
    """The module an imported name belongs to (`verdict.graph.VersionStore` -> verdict.graph;
    `pkg.sub` -> the submodule, not the package that holds it)."""
    while name and name not in IMPORTS:
        name = name.rpartition(".")[0]
    return name or None


#: import cycles known and left to the part's owners; strict: fixing one fails until removed
KNOWN_CYCLES = {
    "loadgen": "loadgen.spec resolves a workload kind from loadgen.workloads, which imports it",
}


@pytest.mark.parametrize(
    "part",
    [pytest.param(p, marks=pytest.mark.xfail(reason=KNOWN_CYCLES[p], strict=True))
     if p in KNOWN_CYCLES else p for p in PARTS if p != "hothot"],
)  # fmt: skip
def test_no_two_modules_of_a_part_import_each_other(part: str) -> None:
    edges = {
        module: {m for m in map(_modules_of, imported) if m and m != module and m.startswith(part)}
        for module, imported in IMPORTS.items()
        if module.startswith(part)
    }
    cycles = set()

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in edges.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    for module in edges:
        if module in reach(module):
            cycles.add(module)
    assert not cycles, f"modules on an import cycle: {sorted(cycles)}"
