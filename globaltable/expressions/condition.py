"""Condition grammar (ConditionExpression, FilterExpression, KeyConditionExpression): the tree.

Precedence, lowest first, as the DynamoDB developer guide lists it: OR, AND, NOT, then
parentheses, functions, BETWEEN, IN and comparators. `compile_condition` (in `evaluate.py`)
turns the tree into closures.
"""

from __future__ import annotations

from dataclasses import dataclass

from globaltable.expressions.paths import Path, parse_path
from globaltable.expressions.tokens import Cursor

COMPARATORS = ("=", "<>", "<", "<=", ">", ">=")
CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
}
UPDATE_FUNCTIONS = ("if_not_exists", "list_append")
MAX_IN_OPERANDS = 100
MAX_OPERATORS = 300  # DynamoDB's limit on operators and functions in one expression
MAX_NESTING = 100  # parentheses/NOT depth; keeps the recursive descent far from Python's limit


@dataclass(frozen=True, slots=True)
class PathOperand:
    path: Path


@dataclass(frozen=True, slots=True)
class ValueOperand:
    name: str


@dataclass(frozen=True, slots=True)
class SizeOperand:
    path: Path  # () when the size of a value is asked: size(:v)
    value: str | None = None


Operand = PathOperand | ValueOperand | SizeOperand


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Between:
    subject: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True, slots=True)
class In:
    subject: Operand
    options: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    args: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Or:
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Not:
    inner: Node


Node = Compare | Between | In | Function | And | Or | Not


def top_level_names(node: Node) -> frozenset[str]:
    """The first element of every path the condition reads (`a` of `a.b[1]`; placeholders as
    written): Query refuses a FilterExpression on a key attribute."""
    if isinstance(node, And | Or):
        return top_level_names(node.left) | top_level_names(node.right)
    if isinstance(node, Not):
        return top_level_names(node.inner)
    return frozenset(
        str(o.path[0])
        for o in _operands(node)
        if isinstance(o, PathOperand | SizeOperand) and o.path
    )


#: value types a `:value` operand may have, per operator or function (others take any type)
ORDERED_TYPES = ("S", "N", "B")
SIZED_TYPES = ("S", "B", "SS", "NS", "BS", "L", "M")


def value_checks(node: Node) -> tuple[tuple[str, tuple[str, ...], str], ...]:
    """(placeholder, allowed types, operator) for every `:value` operand whose type the
    operator restricts: DynamoDB refuses a request whose own values cannot be compared (a
    ValidationException), while a stored value of the wrong type only makes the test false."""
    if isinstance(node, And | Or):
        return value_checks(node.left) + value_checks(node.right)
    if isinstance(node, Not):
        return value_checks(node.inner)
    pairs: list[tuple[Operand, tuple[str, ...], str]] = []
    if isinstance(node, Compare) and node.op not in ("=", "<>"):
        pairs = [(node.left, ORDERED_TYPES, node.op), (node.right, ORDERED_TYPES, node.op)]
    elif isinstance(node, Between):
        pairs = [(o, ORDERED_TYPES, "BETWEEN") for o in (node.subject, node.low, node.high)]
    elif isinstance(node, Function) and node.name == "begins_with":
        pairs = [(o, ("S", "B"), "begins_with") for o in node.args]
    elif isinstance(node, Function) and node.name == "attribute_type":
        pairs = [(node.args[1], ("S",), "attribute_type")]
    operands = _operands(node)
    checks = [(o.name, allowed, op) for o, allowed, op in pairs if isinstance(o, ValueOperand)]
    checks += [
        (o.value, SIZED_TYPES, "size")
        for o in operands
        if isinstance(o, SizeOperand) and o.value is not None
    ]
    return tuple(checks)


def static_bounds(node: Node) -> tuple[tuple[str, str], ...]:
    """(low, high) placeholders of every BETWEEN whose bounds both come from the request."""
    if isinstance(node, And | Or):
        return static_bounds(node.left) + static_bounds(node.right)
    if isinstance(node, Not):
        return static_bounds(node.inner)
    if (
        isinstance(node, Between)
        and isinstance(node.low, ValueOperand)
        and isinstance(node.high, ValueOperand)
    ):
        return ((node.low.name, node.high.name),)
    return ()


def _operands(node: Node) -> tuple[Operand, ...]:
    if isinstance(node, Compare):
        return (node.left, node.right)
    if isinstance(node, Between):
        return (node.subject, node.low, node.high)
    if isinstance(node, In):
        return (node.subject, *node.options)
    if isinstance(node, Function):
        return node.args
    return ()


class ConditionParser:
    """Recursive descent over a `Cursor`; one instance parses one expression."""

    def __init__(self, cursor: Cursor) -> None:
        self.cursor = cursor
        self._parenthesized: set[int] = set()
        self._operators = 0
        self._depth = 0

    def _count(self, node: Node) -> Node:
        self._operators += 1
        if self._operators > MAX_OPERATORS:
            raise self.cursor.error(
                f"The expression contains too many operators; the maximum is {MAX_OPERATORS}"
            )
        return node

    def _nest(self) -> None:
        self._depth += 1
        if self._depth > MAX_NESTING:
            raise self.cursor.error(
                f"The expression is nested too deeply; the maximum is {MAX_NESTING} levels"
            )

    def parse(self) -> Node:
        node = self.parse_or()
        self.cursor.finish()
        return node

    def parse_or(self) -> Node:
        node = self.parse_and()
        while self.cursor.accept("OR"):
            node = self._count(Or(node, self.parse_and()))
        return node

    def parse_and(self) -> Node:
        node = self.parse_not()
        while self.cursor.accept("AND"):
            node = self._count(And(node, self.parse_not()))
        return node

    def parse_not(self) -> Node:
        if self.cursor.accept("NOT"):
            self._nest()
            inner = self.parse_not()
            self._depth -= 1
            return self._count(Not(inner))
        return self.parse_primary()

    def parse_primary(self) -> Node:
        cursor = self.cursor
        if cursor.accept("("):
            self._nest()
            inner = self.parse_or()
            cursor.expect(")")
            self._depth -= 1
            if id(inner) in self._parenthesized:
                raise cursor.error("The expression has redundant parentheses;")
            self._parenthesized.add(id(inner))
            return inner
        token = cursor.peek
        if token.kind == "ident" and cursor.at("(", 1) and token.text in CONDITION_FUNCTIONS:
            return self._count(self.parse_function())
        return self._count(self.parse_comparison())

    def parse_comparison(self) -> Node:
        cursor = self.cursor
        subject = self.parse_operand()
        if cursor.peek.kind == "op" and cursor.peek.text in COMPARATORS:
            op = cursor.next().text
            return Compare(op, subject, self.parse_operand())
        if cursor.accept("BETWEEN"):
            low = self.parse_operand()
            cursor.expect("AND")
            return Between(subject, low, self.parse_operand())
        if cursor.accept("IN"):
            cursor.expect("(")
            options = [self.parse_operand()]
            while cursor.accept(","):
                options.append(self.parse_operand())
            cursor.expect(")")
            if len(options) > MAX_IN_OPERANDS:
                raise cursor.error(
                    "The IN operator accepts at most 100 operands; "
                    f"number of operands: {len(options)}"
                )
            return In(subject, tuple(options))
        raise cursor.syntax_error()

    def parse_function(self) -> Function:
        cursor = self.cursor
        name = cursor.next().text
        cursor.expect("(")
        args = [self.parse_operand()]
        while cursor.accept(","):
            args.append(self.parse_operand())
        cursor.expect(")")
        if len(args) != CONDITION_FUNCTIONS[name]:
            raise cursor.error(
                "Incorrect number of operands for operator or function; "
                f"operator or function: {name}, number of operands: {len(args)}"
            )
        # attribute_type(:v, :t) works on DynamoDB too, as begins_with(:v, :p) does
        if not isinstance(args[0], PathOperand) and name not in ("begins_with", "attribute_type"):
            raise cursor.error(
                f"Operator or function requires a document path; operator or function: {name}"
            )
        if name == "attribute_type" and not isinstance(args[1], ValueOperand):
            raise cursor.error(
                "Incorrect operand type for operator or function; "
                "operator or function: attribute_type, operand type: path"
            )
        return Function(name, tuple(args))

    def parse_operand(self) -> Operand:
        cursor = self.cursor
        token = cursor.peek
        if token.kind == "value":
            return ValueOperand(cursor.value())
        if token.kind == "ident" and cursor.at("(", 1):
            if token.text != "size":
                raise self.function_error(token.text)
            cursor.next()
            cursor.next()
            if cursor.peek.kind == "value":  # size(:v): the size of the request's own value
                operand = SizeOperand((), cursor.value())
            elif cursor.peek.kind in ("ident", "name"):
                operand = SizeOperand(parse_path(cursor))
            else:
                raise cursor.error(
                    "Operator or function requires a document path; operator or function: size"
                )
            extra = 0
            while cursor.accept(","):
                self.parse_operand()
                extra += 1
            cursor.expect(")")
            if extra:
                raise cursor.error(
                    "Incorrect number of operands for operator or function; "
                    f"operator or function: size, number of operands: {extra + 1}"
                )
            return operand
        return PathOperand(parse_path(cursor))

    def function_error(self, name: str) -> Exception:
        if name in CONDITION_FUNCTIONS or name in UPDATE_FUNCTIONS:
            return self.cursor.error(
                f"The function is not allowed to be used this way in an expression; function: {name}"
            )
        return self.cursor.error(f"Invalid function name; function: {name}")
