"""UpdateExpression: SET / REMOVE / ADD / DELETE clauses, parsed once, applied per request.

Every right-hand side is evaluated against the item as it was before the update; then SETs,
REMOVEs (list indexes highest first, so indexes refer to the original list), ADDs and DELETEs
are applied to a copy. Target paths may not overlap, as in DynamoDB.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, Decimal
from functools import lru_cache

from globaltable.expressions.condition import PathOperand, ValueOperand
from globaltable.expressions.errors import ExpressionError
from globaltable.expressions.paths import (
    Path,
    check_defined,
    check_disjoint,
    copy_value,
    get,
    parse_path,
    remove_path,
    resolve,
    set_path,
)
from globaltable.expressions.tokens import Cursor
from globaltable.items import (
    OVERFLOW,
    ItemError,
    NumberError,
    check_number,
    format_number,
    parse_number,
)

LABEL = "UpdateExpression"
WRONG_TYPE = "An operand in the update expression has an incorrect data type"
MISSING = "The provided expression refers to an attribute that does not exist in the item"
_TYPE_WORDS = {
    "S": "STRING",
    "N": "NUMBER",
    "B": "BINARY",
    "BOOL": "BOOLEAN",
    "NULL": "NULL",
    "L": "LIST",
    "M": "MAP",
    "SS": "STRING_SET",
    "NS": "NUMBER_SET",
    "BS": "BINARY_SET",
}
_SETS = ("SS", "NS", "BS")
_EXACT = Context(prec=400)  # exact for any two storable numbers; check_number bounds the result


@dataclass(frozen=True, slots=True)
class IfNotExists:
    path: Path
    fallback: ValueExpr


@dataclass(frozen=True, slots=True)
class ListAppend:
    first: ValueExpr
    second: ValueExpr


@dataclass(frozen=True, slots=True)
class Arithmetic:
    op: str  # "+" or "-"
    left: ValueExpr
    right: ValueExpr


ValueExpr = PathOperand | ValueOperand | IfNotExists | ListAppend | Arithmetic


@dataclass(frozen=True, slots=True)
class Clauses:
    sets: tuple[tuple[Path, ValueExpr], ...]
    removes: tuple[Path, ...]
    adds: tuple[tuple[Path, str], ...]
    deletes: tuple[tuple[Path, str], ...]


def parse_update(cursor: Cursor) -> Clauses:
    sections: dict[str, list] = {}
    while cursor.peek.kind != "eof":
        token = cursor.next()
        keyword = token.text.upper() if token.kind == "keyword" else ""
        if keyword not in ("SET", "REMOVE", "ADD", "DELETE"):
            raise cursor.syntax_error(token)
        if keyword in sections:
            raise cursor.error(
                f'The "{keyword}" section can only be used once in an update expression;'
            )
        actions = sections[keyword] = [_parse_action(cursor, keyword)]
        while cursor.accept(","):
            actions.append(_parse_action(cursor, keyword))
    if not sections:
        raise cursor.syntax_error()
    return Clauses(
        tuple(sections.get("SET", ())),
        tuple(sections.get("REMOVE", ())),
        tuple(sections.get("ADD", ())),
        tuple(sections.get("DELETE", ())),
    )


def _parse_action(cursor: Cursor, keyword: str) -> object:
    path = parse_path(cursor)
    if keyword == "REMOVE":
        return path
    if keyword == "SET":
        cursor.expect("=")
        value = _parse_operand(cursor)
        if cursor.peek.kind == "op" and cursor.peek.text in "+-":
            op = cursor.next().text
            value = Arithmetic(op, value, _parse_operand(cursor))
        return path, value
    return path, cursor.value()


def _parse_operand(cursor: Cursor) -> ValueExpr:
    token = cursor.peek
    if token.kind == "value":
        return ValueOperand(cursor.value())
    if token.kind == "ident" and cursor.at("(", 1):
        cursor.next()
        cursor.next()
        if token.text == "if_not_exists":
            if cursor.peek.kind not in ("ident", "name"):
                raise cursor.error(
                    "Operator or function requires a document path; "
                    "operator or function: if_not_exists"
                )
            path = parse_path(cursor)
            cursor.expect(",")
            node: ValueExpr = IfNotExists(path, _parse_operand(cursor))
        elif token.text == "list_append":
            first = _parse_operand(cursor)
            cursor.expect(",")
            node = ListAppend(first, _parse_operand(cursor))
        else:
            raise cursor.error(f"Invalid function name; function: {token.text}")
        cursor.expect(")")
        return node
    return PathOperand(parse_path(cursor))


@lru_cache(maxsize=4096)
def check_targets(paths: tuple[Path, ...]) -> None:
    """Overlap check of resolved target paths, memoised: requests repeat the same names."""
    check_disjoint(paths, LABEL)


def _read(expr: ValueExpr, item: dict, names: dict, values: dict) -> dict:
    if isinstance(expr, ValueOperand):
        return values[expr.name]
    if isinstance(expr, PathOperand):
        found = get(item, resolve(expr.path, names))
        if found is None:
            raise ExpressionError(MISSING)
        return found
    if isinstance(expr, IfNotExists):
        found = get(item, resolve(expr.path, names))
        return found if found is not None else _read(expr.fallback, item, names, values)
    if isinstance(expr, ListAppend):
        first, second = (
            _read(expr.first, item, names, values),
            _read(expr.second, item, names, values),
        )
        if "L" not in first or "L" not in second:
            raise ExpressionError(WRONG_TYPE)
        return {"L": first["L"] + second["L"]}
    left, right = _read(expr.left, item, names, values), _read(expr.right, item, names, values)
    if "N" not in left or "N" not in right:
        raise ExpressionError(WRONG_TYPE)
    return {"N": _arithmetic(parse_number(left["N"]), parse_number(right["N"]), expr.op)}


def _arithmetic(a: Decimal, b: Decimal, op: str) -> str:
    result = _EXACT.add(a, b) if op == "+" else _EXACT.subtract(a, b)
    try:
        check_number(result)
    except NumberError as error:
        if "significant digits" not in str(error):
            raise
        # a sum needing more than 38 digits (1E+50 + 1): DynamoDB words it as an overflow
        raise NumberError(OVERFLOW) from None
    return format_number(result)


def add_value(existing: dict | None, operand: dict) -> dict:
    if existing is None:
        return operand
    if "N" in operand and "N" in existing:
        return {"N": _arithmetic(parse_number(existing["N"]), parse_number(operand["N"]), "+")}
    kind = next(iter(operand))
    if kind not in existing:
        raise ExpressionError(WRONG_TYPE)
    merged = list(existing[kind])
    seen = {_set_key(kind, e) for e in merged}
    for element in operand[kind]:
        key = _set_key(kind, element)
        if key not in seen:
            seen.add(key)
            merged.append(element)
    return {kind: merged}


def delete_value(existing: dict, operand: dict) -> dict | None:
    kind = next(iter(operand))
    if kind not in existing:
        raise ExpressionError(WRONG_TYPE)
    gone = {_set_key(kind, e) for e in operand[kind]}
    kept = [e for e in existing[kind] if _set_key(kind, e) not in gone]
    return {kind: kept} if kept else None


def _set_key(kind: str, element: str) -> object:
    return parse_number(element) if kind == "NS" else element


def _check_operand(operator: str, operand: dict, allowed: tuple[str, ...]) -> None:
    kind = next(iter(operand))
    if kind not in allowed:
        raise ExpressionError(
            f"Invalid {LABEL}: Incorrect operand type for operator or function; operator: "
            f"{operator}, operand type: {_TYPE_WORDS.get(kind, kind)}, "
            f"typeSet: ALLOWED_FOR_{operator}_OPERAND"
        )


def _index_last(path: Path) -> int:
    """Sort key putting list-element removals highest index first, after plain attributes."""
    last = path[-1]
    return last if isinstance(last, int) else -1


class Update:
    """A parsed UpdateExpression; `apply` returns a new item and the top-level names changed."""

    __slots__ = ("expression", "clauses", "names_used", "values_used", "_targets", "removes_only")

    def __init__(self, expression: str) -> None:
        cursor = Cursor(expression, LABEL)
        self.clauses = parse_update(cursor)
        self.expression = expression
        self.names_used = tuple(sorted(cursor.names_used))
        self.values_used = tuple(sorted(cursor.values_used))
        c = self.clauses
        self._targets = (
            [p for p, _ in c.sets]
            + list(c.removes)
            + [p for p, _ in c.adds]
            + [p for p, _ in c.deletes]
        )
        if not self.names_used:
            check_targets(tuple(self._targets))
        # only REMOVE/DELETE: DynamoDB does not create a missing item for such an update
        self.removes_only = not c.sets and not c.adds

    def top_names(self, names: dict[str, str]) -> set[str]:
        """The top-level attributes the update writes (DynamoDB refuses key attributes)."""
        return {
            names.get(p[0], p[0]) if p[0][0] == "#" else p[0]  # type: ignore[index]
            for p in self._targets
        }

    def apply(
        self, item: dict, names: dict[str, str] | None, values: dict[str, dict] | None
    ) -> tuple[dict, set[str]]:
        """The updated copy of `item` and the top-level attributes the update touched."""
        result, targets = self.apply_paths(item, names, values)
        return result, {path[0] for path in targets}  # type: ignore[misc]

    def apply_paths(
        self, item: dict, names: dict[str, str] | None, values: dict[str, dict] | None
    ) -> tuple[dict, list[Path]]:
        """The updated copy and the resolved target paths (ReturnValues UPDATED_* project on
        them)."""
        names = names or {}
        values = values or {}
        targets = self.validate(names, values)
        try:
            return self._apply(item, targets, names, values)
        except ItemError as error:
            raise ExpressionError(str(error)) from None

    def validate(self, names: dict[str, str], values: dict[str, dict]) -> list[Path]:
        """Check the request's placeholders and operands against the expression (whatever the
        item); returns the resolved target paths."""
        check_defined(LABEL, self.names_used, self.values_used, names, values)
        targets = [resolve(p, names) for p in self._targets] if self.names_used else self._targets
        if self.names_used:
            check_targets(tuple(targets))
        for _, name in self.clauses.adds:
            _check_operand("ADD", values[name], ("N", *_SETS))
        for _, name in self.clauses.deletes:
            _check_operand("DELETE", values[name], _SETS)
        return targets

    def _apply(
        self, item: dict, targets: list[Path], names: dict[str, str], values: dict[str, dict]
    ) -> tuple[dict, list[Path]]:
        clauses = self.clauses
        new_values = [_read(expr, item, names, values) for _, expr in clauses.sets]
        result = dict(item)
        for path in targets:
            if len(path) > 1 and path[0] in result:
                result[path[0]] = copy_value(result[path[0]])
        sets = list(zip(targets, new_values, strict=False))
        # several indexes past a list's end append in index order, whatever the clause order
        for path, value in sorted(sets, key=lambda pv: _index_last(pv[0])):
            set_path(result, path, value)
        position = len(sets)
        if clauses.removes:
            removes = targets[position : position + len(clauses.removes)]
            position += len(clauses.removes)
            for path in sorted(removes, key=_index_last, reverse=True):
                remove_path(result, path)
        for _, name in clauses.adds:
            path = targets[position]
            position += 1
            set_path(result, path, add_value(get(result, path), values[name]))
        for _, name in clauses.deletes:
            path = targets[position]
            position += 1
            existing = get(result, path)
            if existing is not None:
                remaining = delete_value(existing, values[name])
                if remaining is None:
                    remove_path(result, path)
                else:
                    set_path(result, path, remaining)
        return result, targets
