"""Amounts a count compares with: a number, ``connections``, or a small expression of them.

``connections + 2`` workers spawned by a pre-fork arbiter, ``2 * connections``
reads: the grammar is whole numbers, the word ``connections``, ``+``, ``-``,
``*`` and parentheses, parsed by hand (never ``eval``), so a file cannot run
code through a count and a mistake is reported with its column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

#: The one name an amount may use: the scenario's number of connections.
CONNECTIONS: Literal["connections"] = "connections"
#: The longest amount read: an amount is a few words; the bound keeps the parser's recursion shallow.
MAX_AMOUNT_CHARS = 200

Operator = Literal["+", "-", "*"]
Node = int | Literal["connections"] | tuple[Operator, "Node", "Node"]

_TOKEN = re.compile(r"\s*(?:(?P<number>\d+)|(?P<name>[A-Za-z_]\w*)|(?P<op>[-+*()]))")


class AmountError(ValueError):
    """An amount that cannot be read; ``offset`` is the 0-based column of the mistake."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Amount:
    """A parsed amount: its text as written, and the tree it evaluates."""

    text: str
    tree: Node

    def value(self, connections: int) -> int:
        """The number this amount stands for in a scenario with ``connections`` connections."""
        return _evaluate(self.tree, connections)

    @property
    def uses_connections(self) -> bool:
        """Whether the amount depends on the scenario (a report then says which number it was)."""
        return CONNECTIONS in self.text

    def __str__(self) -> str:
        return self.text


def _evaluate(node: Node, connections: int) -> int:
    if isinstance(node, int):
        return node
    if isinstance(node, str):
        return connections
    operator, left, right = node
    a, b = _evaluate(left, connections), _evaluate(right, connections)
    return a + b if operator == "+" else a - b if operator == "-" else a * b


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        position = 0
        while text[position:].strip():
            found = _TOKEN.match(text, position)
            if found is None or found.lastgroup is None:
                start = len(text) - len(text[position:].lstrip())
                raise AmountError(
                    f"unexpected character {text[start]!r} (an amount uses numbers, connections, +, - and *)", start
                )
            kind = found.lastgroup
            self.tokens.append((kind, found.group(kind), found.start(kind)))
            position = found.end()
        self.position = 0

    def fail(self, message: str) -> AmountError:
        if self.position < len(self.tokens):
            _, text, offset = self.tokens[self.position]
            return AmountError(f"{message}, found {text!r}", offset)
        return AmountError(f"{message} at the end", len(self.text.rstrip()))

    def peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def expression(self) -> Node:
        node = self.term()
        while self.peek() in ("+", "-"):
            operator: Operator = "+" if self.peek() == "+" else "-"
            self.position += 1
            node = (operator, node, self.term())
        return node

    def term(self) -> Node:
        node = self.factor()
        while self.peek() == "*":
            self.position += 1
            node = ("*", node, self.factor())
        return node

    def factor(self) -> Node:
        if self.position >= len(self.tokens):
            raise self.fail("expected a number or connections")
        kind, text, offset = self.tokens[self.position]
        if kind == "number":
            self.position += 1
            return int(text)
        if kind == "name":
            if text != CONNECTIONS:
                raise AmountError(f"unknown name {text!r}: the only name an amount may use is 'connections'", offset)
            self.position += 1
            return CONNECTIONS
        if text == "(":
            self.position += 1
            node = self.expression()
            if self.peek() != ")":
                raise self.fail("expected ')'")
            self.position += 1
            return node
        raise self.fail("expected a number or connections")


def parse_amount(text: str | int | float | bool) -> Amount:
    """Read an amount (a number as YAML gives it, or text), raising AmountError with the column of a mistake.

    JSON Schema's ``integer`` lets ``2.0`` through (a float with no fraction, and ``true`` is an int in
    Python): both are refused here, where the amount is read.
    """
    if isinstance(text, bool):
        raise AmountError(f"{str(text).lower()} is no amount: write a number, or connections", 0)
    if isinstance(text, float):
        whole = f"write {int(text)}, not {text!r}" if text.is_integer() else "a count has no fraction"
        raise AmountError(f"an amount is a whole number: {whole}", 0)
    if isinstance(text, int):
        if text < 0:
            raise AmountError("an amount is not negative", 0)
        return Amount(str(text), text)
    if len(text) > MAX_AMOUNT_CHARS:
        raise AmountError(f"longer than {MAX_AMOUNT_CHARS} characters: an amount is a few words", 0)
    parser = _Parser(text)
    if not parser.tokens:
        raise AmountError("an empty amount: write a number, connections, or e.g. connections + 2", 0)
    tree = parser.expression()
    if parser.position < len(parser.tokens):
        raise parser.fail("expected +, - or * between parts")
    return Amount(text.strip(), tree)
