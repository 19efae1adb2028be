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
KNOWN_CYCLES: dict[str, str] = {}


@pytest.mark.parametrize(
    "part",
    [pytest.param(p, marks=pytest.mark.xfail(reason=KNOWN_CYCLES[p], strict=True))
     if p in KNOWN_CYCLES else p for p in PARTS],
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


def _fixture_names(path: Path) -> set[str]:
    """Functions of a module decorated with `@pytest.fixture` (called or not)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        and any("pytest.fixture" in ast.unparse(d) for d in node.decorator_list)
    }


def test_tests_get_fixtures_from_conftest_and_import_no_test_module() -> None:
    """Fixtures reach tests through tests/conftest.py's `pytest_plugins`; importing one by
    name (with `# noqa: F401`) shadows it silently, and a test module imported by another
    runs its tests' module-level code twice and ties the two together."""
    tests = ROOT / "tests"
    fixtures = {
        f"tests.{p.stem}": _fixture_names(p) for p in tests.glob("*.py") if _fixture_names(p)
    }
    wrong = []
    for path in sorted(tests.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests.")):
                continue
            where = f"{path.name}:{node.lineno}"
            if node.module.rpartition(".")[2].startswith("test_"):
                wrong.append(f"{where} imports the test module {node.module}")
            named = {a.name for a in node.names} & fixtures.get(node.module, set())
            if named:
                wrong.append(f"{where} imports the fixtures {sorted(named)}")
    assert fixtures, "no fixture found in tests/: is the scan stale?"
    assert not wrong, "\n".join(wrong)


def test_every_fixture_module_is_a_conftest_plugin() -> None:
    from tests import conftest

    with_fixtures = {
        f"tests.{p.stem}" for p in (ROOT / "tests").glob("*_fixtures.py") if _fixture_names(p)
    }
    assert with_fixtures, "no tests/*_fixtures.py defines a fixture: is the scan stale?"
    assert with_fixtures <= set(conftest.pytest_plugins), "add them to conftest.pytest_plugins"
