"""Tokenizer and token cursor shared by the expression parsers.

Hand-written (a regex scanner + recursive descent) rather than a parser library: the grammar
is tiny, DynamoDB-shaped syntax errors ("token: ..., near: ...") need exact positions, and
parsing happens once per distinct expression string (cached), so the code stays dependency-free.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from globaltable.expressions.errors import ExpressionError
from globaltable.expressions.reserved import RESERVED_WORDS

MAX_EXPRESSION_BYTES = 4096

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<name>\#[A-Za-z0-9_]+)
  | (?P<value>:[A-Za-z0-9_]+)
  | (?P<number>[0-9]+)
  | (?P<ident>[A-Za-z][A-Za-z0-9_]*)
  | (?P<op><>|<=|>=|[=<>()\[\],.+\-])
    """,
    re.VERBOSE,
)

KEYWORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE"})


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # name | value | number | ident | keyword | op | eof
    text: str
    start: int
    end: int


def tokenize(text: str, label: str) -> list[Token]:
    """Split `text` into tokens; `label` ("ConditionExpression", ...) prefixes error messages."""
    if not isinstance(text, str):
        raise ExpressionError(f"Invalid {label}: the expression must be a string")
    size = len(text.encode("utf-8"))
    if size > MAX_EXPRESSION_BYTES:
        raise ExpressionError(
            f"Invalid {label}: Expression size has exceeded the maximum allowed size; "
            f"expression size: {size}"
        )
    if not text.strip():
        raise ExpressionError(f"Invalid {label}: The expression can not be empty;")
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ExpressionError(
                f'Invalid {label}: Syntax error; token: "{text[position]}", '
                f'near: "{text[max(0, position - 10) : position + 10]}"'
            )
        kind = match.lastgroup or ""
        if kind != "ws":
            word = match.group()
            if kind == "ident" and word.upper() in KEYWORDS:
                kind = "keyword"
            tokens.append(Token(kind, word, match.start(), match.end()))
        position = match.end()
    tokens.append(Token("eof", "<EOF>", len(text), len(text)))
    return tokens


class Cursor:
    """A position in a token list with DynamoDB-style syntax errors."""

    def __init__(self, text: str, label: str) -> None:
        self.text = text
        self.label = label
        self.tokens = tokenize(text, label)
        self.index = 0
        self.names_used: set[str] = set()
        self.values_used: set[str] = set()

    @property
    def peek(self) -> Token:
        return self.tokens[self.index]

    def next(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def at(self, text: str, offset: int = 0) -> bool:
        """Whether the token `offset` ahead is the operator or keyword `text`."""
        index = min(self.index + offset, len(self.tokens) - 1)
        token = self.tokens[index]
        if token.kind == "keyword":
            return token.text.upper() == text
        return token.kind == "op" and token.text == text

    def accept(self, text: str) -> bool:
        if self.at(text):
            self.index += 1
            return True
        return False

    def expect(self, text: str) -> Token:
        if not self.at(text):
            raise self.syntax_error()
        return self.next()

    def error(self, message: str) -> ExpressionError:
        return ExpressionError(f"Invalid {self.label}: {message}")

    def syntax_error(self, token: Token | None = None) -> ExpressionError:
        """The error DynamoDB gives for an unexpected token: the token and its surroundings."""
        token = token or self.peek
        at = self.tokens.index(token)
        first = self.tokens[max(0, at - 1)]
        last = self.tokens[min(len(self.tokens) - 1, at + 1)]
        near = self.text[first.start : last.end].strip()
        return self.error(f'Syntax error; token: "{token.text}", near: "{near}"')

    def check_reserved(self, token: Token) -> None:
        if token.text.upper() in RESERVED_WORDS:
            raise self.error(
                f"Attribute name is a reserved keyword; reserved keyword: {token.text}"
            )

    def value(self) -> str:
        """Consume a `:value` placeholder and note it as used."""
        token = self.peek
        if token.kind != "value":
            raise self.syntax_error()
        self.next()
        self.values_used.add(token.text)
        return token.text

    def finish(self) -> None:
        if self.peek.kind != "eof":
            raise self.syntax_error()
