"""Document paths (`a.b[2].#c`): parsing, name resolution, reading, writing and removing.

A parsed path is a tuple of elements: a literal attribute name (str), a name placeholder
(str starting with "#", resolved per call from ExpressionAttributeNames) or a list index (int).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from globaltable.expressions.errors import ExpressionError
from globaltable.expressions.tokens import Cursor
from globaltable.items import ItemError, ItemSerializationError, validate_value

Element = str | int
Path = tuple[Element, ...]

INVALID_FOR_UPDATE = "The document path provided in the update expression is invalid for update"


MAX_PATH_DEPTH = 32  # DynamoDB's limit on nesting levels, the top-level attribute included
MAX_LIST_INDEX = 2**31 - 1


def parse_path(cursor: Cursor) -> Path:
    """Parse `name ('.' name | '[' index ']')*` at the cursor, noting placeholders used."""
    elements: list[Element] = [_parse_name(cursor)]
    while True:
        if cursor.accept("."):
            elements.append(_parse_name(cursor))
        elif cursor.at("["):
            cursor.next()
            token = cursor.next()
            if token.kind != "number":
                raise cursor.syntax_error(token)
            if int(token.text) > MAX_LIST_INDEX:
                raise cursor.error(
                    f"List index is not within the allowable range; index: [{token.text}]"
                )
            elements.append(int(token.text))
            cursor.expect("]")
        else:
            break
    if len(elements) > MAX_PATH_DEPTH:
        raise cursor.error(
            f"The document path has too many nesting levels; nesting levels: {len(elements)}"
        )
    return tuple(elements)


def _parse_name(cursor: Cursor) -> str:
    token = cursor.peek
    if token.kind == "name":
        cursor.names_used.add(token.text)
    elif token.kind == "ident":
        cursor.check_reserved(token)
    else:
        raise cursor.syntax_error()
    cursor.next()
    return token.text


def resolve(path: Path, names: dict[str, str]) -> Path:
    """The path with placeholders replaced by their names (all must be defined)."""
    if len(path) == 1:
        first = path[0]
        return (names[first],) if first[0] == "#" else path  # type: ignore[index]
    return tuple([names[e] if e.__class__ is str and e[0] == "#" else e for e in path])  # type: ignore[index]


def get(item: dict, path: Path) -> dict | None:
    """The value at a resolved path, or None where the item has none."""
    first = path[0]
    value = item.get(first) if isinstance(first, str) else None
    for element in path[1:]:
        if value is None:
            return None
        if isinstance(element, int):
            elements = value.get("L")
            value = elements[element] if elements is not None and element < len(elements) else None
        else:
            members = value.get("M")
            value = members.get(element) if members is not None else None
    return value


def copy_value(value: dict) -> dict:
    """A deep copy of a wire value (lists and maps copied, scalars shared)."""
    ((kind, data),) = value.items()
    if kind == "L":
        return {"L": [copy_value(v) for v in data]}
    if kind == "M":
        return {"M": {k: copy_value(v) for k, v in data.items()}}
    if kind in ("SS", "NS", "BS"):
        return {kind: list(data)}
    return value


def _parent(item: dict, path: Path) -> Any:
    """The container (item dict, list or map dict) holding the last element of `path`.

    Raises when an intermediate attribute is missing or has the wrong type: DynamoDB refuses
    `SET a.b` and `REMOVE a.b` alike when the item has no map `a`.
    """
    container: Any = item
    for depth, element in enumerate(path[:-1]):
        if isinstance(container, list):
            value = (
                container[element]
                if isinstance(element, int) and element < len(container)
                else None
            )
            if isinstance(element, str):
                raise ExpressionError(INVALID_FOR_UPDATE)
        else:
            if isinstance(element, int):
                raise ExpressionError(INVALID_FOR_UPDATE)
            value = container.get(element)
        if value is None:
            raise ExpressionError(INVALID_FOR_UPDATE)
        following = path[depth + 1]
        kind = "L" if isinstance(following, int) else "M"
        if kind not in value:
            raise ExpressionError(INVALID_FOR_UPDATE)
        container = value[kind]
    return container


def set_path(item: dict, path: Path, value: dict) -> None:
    """Store `value` at a resolved path of `item` (mutated; its nested values must be copies).
    A list index past the end appends, as DynamoDB does."""
    if len(path) == 1:
        item[path[0]] = value
        return
    container = _parent(item, path)
    last = path[-1]
    if isinstance(container, list):
        if not isinstance(last, int):
            raise ExpressionError(INVALID_FOR_UPDATE)
        if last < len(container):
            container[last] = value
        else:
            container.append(value)
    else:
        if isinstance(last, int):
            raise ExpressionError(INVALID_FOR_UPDATE)
        container[last] = value


def remove_path(item: dict, path: Path) -> None:
    """Remove the value at a resolved path; a missing last element is left alone."""
    container = _parent(item, path)
    last = path[-1]
    if isinstance(container, list):
        if not isinstance(last, int):
            raise ExpressionError(INVALID_FOR_UPDATE)
        if last < len(container):
            del container[last]
    else:
        if isinstance(last, int):
            raise ExpressionError(INVALID_FOR_UPDATE)
        container.pop(last, None)


def show(path: Path) -> str:
    """A path as DynamoDB prints it in overlap messages: [a, b, [2]]."""
    return "[" + ", ".join(f"[{e}]" if isinstance(e, int) else e for e in path) + "]"


def check_disjoint(paths: Sequence[Path], label: str) -> None:
    """Reject two resolved paths where one contains the other or they disagree on a type."""
    for i, one in enumerate(paths):
        for two in paths[i + 1 :]:
            for a, b in zip(one, two, strict=False):
                if a != b:
                    if isinstance(a, int) != isinstance(b, int):
                        raise ExpressionError(
                            f"Invalid {label}: Two document paths conflict with each other; "
                            "must remove or rewrite one of these paths; "
                            f"path one: {show(one)}, path two: {show(two)}"
                        )
                    break
            else:
                raise ExpressionError(
                    f"Invalid {label}: Two document paths overlap with each other; "
                    "must remove or rewrite one of these paths; "
                    f"path one: {show(one)}, path two: {show(two)}"
                )


def check_defined(
    label: str,
    names_used: Sequence[str],
    values_used: Sequence[str],
    names: dict[str, str],
    values: dict[str, dict] | None = None,
) -> None:
    """Raise DynamoDB's error for the first placeholder the request does not define.

    Callers pass the placeholders pre-sorted, so the reported one is stable. Values are
    validated too, so evaluation never meets a malformed one.
    """
    for name in names_used:
        if name not in names:
            raise ExpressionError(
                f"Invalid {label}: An expression attribute name used in the document path is "
                f"not defined; attribute name: {name}"
            )
    for value in values_used:
        if values is None or value not in values:
            raise ExpressionError(
                f"Invalid {label}: An expression attribute value used in expression is not "
                f"defined; attribute value: {value}"
            )
        try:
            validate_value(values[value], value)
        except ItemSerializationError:
            raise
        except ItemError as error:
            raise ExpressionError(
                f"ExpressionAttributeValues contains invalid value: {error} for key {value}"
            ) from None
