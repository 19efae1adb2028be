"""ProjectionExpression: the attributes (or nested parts) a read returns."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from globaltable.expressions.paths import (
    Path,
    check_defined,
    check_disjoint,
    get,
    parse_path,
    resolve,
)
from globaltable.expressions.tokens import Cursor

LABEL = "ProjectionExpression"


class Projection:
    """A parsed ProjectionExpression; `apply` copies only the named paths out of an item."""

    __slots__ = ("expression", "paths", "names_used", "_flat")

    def __init__(self, expression: str) -> None:
        cursor = Cursor(expression, LABEL)
        paths = [parse_path(cursor)]
        while cursor.accept(","):
            paths.append(parse_path(cursor))
        cursor.finish()
        self.expression = expression
        self.paths: tuple[Path, ...] = tuple(paths)
        self.names_used = tuple(sorted(cursor.names_used))
        if not self.names_used:
            check_disjoint(self.paths, LABEL)
        self._flat = all(len(p) == 1 for p in self.paths)

    values_used: tuple[str, ...] = ()

    def apply(self, item: dict, names: dict[str, str] | None) -> dict:
        names = names or {}
        if self.names_used:
            check_defined(LABEL, self.names_used, (), names)
            paths = tuple(resolve(p, names) for p in self.paths)
            check_disjoint(paths, LABEL)
        else:
            paths = self.paths
        if self._flat:
            return {p[0]: item[p[0]] for p in paths if p[0] in item}  # type: ignore[index]
        return project_paths(item, paths)


def project_paths(item: dict, paths: Iterable[Path]) -> dict:
    """The parts of `item` at resolved `paths`, nested as in the item (list elements picked
    out are packed in index order, as DynamoDB returns them)."""
    tree: dict[Any, Any] = {}
    for path in paths:
        value = get(item, path)
        if value is None:
            continue
        node = tree
        for element in path[:-1]:
            node = node.setdefault(element, {})
        node[path[-1]] = _Leaf(value)
    return {name: _render(sub) for name, sub in tree.items()}


class _Leaf:
    __slots__ = ("value",)

    def __init__(self, value: dict) -> None:
        self.value = value


def _render(node: Any) -> dict:
    if isinstance(node, _Leaf):
        return node.value
    if all(isinstance(k, int) for k in node):
        return {"L": [_render(node[k]) for k in sorted(node)]}
    return {"M": {k: _render(v) for k, v in node.items()}}
