"""The YAML the harness reads: its shape checked before anything is built, and only JSON's types built from it.

The shape (nesting depth, aliases) is checked on the parse events, before anything is built.

Why before: PyYAML's composer and constructor recurse once per nesting level, so
brackets nested thousands deep end in ``RecursionError`` only after seconds of
work (5000 ``[`` took 4 s to compose, and a golden file that also scanned its
events twice took 14 s); and its pure-Python scanner slows quadratically on
nested flow collections.  The event stream shows the depth and every alias as
they come, so a crafted text is refused at the first event past the bound,
with its line and column.

Why two parsers: libyaml's C parser gives the same events at a small fraction
of the cost, but what it refuses depends on its version.  libyaml 0.2.6
(bundled with PyYAML 6.0.4) stops at 1000 levels with its own "exceeded
maximum nesting depth", and its scanner reads a flow collection's brackets
ahead of the events, so that error comes before the event that would show
the 65th level.  So the answer never rests on the C parser alone: where it
fails, the pure-Python parser (no nesting limit of its own, and a scanner
that looks at most 1024 characters ahead for a simple key) reads the text
again and finds the place, or the real syntax error, which the reader that
follows reports.  Only text the C parser refuses pays for the second reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import yaml

#: The deepest nesting of mappings and lists a file the harness reads may have.
#: An expectation file needs about 6 levels and a golden file 3; the bound only
#: has to stop a crafted file long before PyYAML's recursion would.
MAX_NESTING = 64

#: The parsers tried in turn: libyaml's where PyYAML was built with it, then the pure-Python one.
PARSERS: tuple[type[yaml.SafeLoader], ...] = tuple(
    dict.fromkeys((getattr(yaml, "CSafeLoader", yaml.SafeLoader), yaml.SafeLoader))
)
_OPENS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSES = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


@dataclass(frozen=True, slots=True)
class ShapeProblem:
    """Where a text first goes past what the harness reads, and how."""

    kind: Literal["nesting", "alias"]
    line: int
    """1-based."""
    column: int
    """1-based."""


def shape_problem(text: str, *, aliases: bool) -> ShapeProblem | None:
    """The first place ``text`` nests deeper than :data:`MAX_NESTING` (or has an alias, unless ``aliases``).

    None also for text that is not valid YAML: the reader that follows reports that in its own words.
    """
    for parser in PARSERS:
        try:
            return shape_problem_by(parser, text, aliases=aliases)
        except yaml.YAMLError:
            continue  # a parser's own limit or a real syntax error: the next parser tells them apart
    return None


def shape_problem_by(parser: type[yaml.SafeLoader], text: str, *, aliases: bool) -> ShapeProblem | None:
    """:func:`shape_problem` as read by one parser, whose :class:`yaml.YAMLError` is let through."""
    depth = 0
    for event in yaml.parse(text, Loader=parser):
        if isinstance(event, _OPENS):
            depth += 1
            if depth > MAX_NESTING:
                return _problem("nesting", event)
        elif isinstance(event, _CLOSES):
            depth -= 1
        elif not aliases and isinstance(event, yaml.AliasEvent):
            return _problem("alias", event)
    return None


def _problem(kind: Literal["nesting", "alias"], event: yaml.Event) -> ShapeProblem:
    mark = event.start_mark
    return ShapeProblem(kind, mark.line + 1, mark.column + 1) if mark is not None else ShapeProblem(kind, 1, 1)


#: The tags a file the harness reads may hold: JSON's types.  YAML's others (timestamps, binary, sets,
#: Python objects) are read by no field, and an explicit tag (``!!int abc``) is a place for a typo to hide.
_DATA_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map", "merge")
)
#: The most digits an integer may have (a 64-bit value has at most 20): CPython refuses to read more than
#: 4300 as a str-to-int safeguard, with an error that names no place.
MAX_INT_DIGITS = 20


class DataLoader(yaml.SafeLoader):
    """PyYAML's safe loader, building JSON's types only, and saying where a value cannot be read.

    ``2024-02-30`` stays the string it looks like (YAML 1.1 would make it a
    date, and fail on the 30th of February); ``!!timestamp``, ``!!binary`` or
    any other tag but JSON's is refused; a value its own tag cannot read
    (``!!int abc``, ``!!bool maybe``) or an integer of more than
    :data:`MAX_INT_DIGITS` digits is a :class:`yaml.constructor.ConstructorError`
    at its line and column, never a Python exception from inside PyYAML.
    """

    yaml_implicit_resolvers = {  # noqa: RUF012 - PyYAML's own class attribute, replaced whole, never mutated
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_object(self, node: yaml.Node, deep: bool = False) -> object:
        """Build one value, refusing tags outside JSON's and values their tag cannot read, at their place."""
        if node.tag not in _DATA_TAGS:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"the tag {node.tag.replace('tag:yaml.org,2002:', '!!')} is not read here: write the value without it",
                node.start_mark,
            )
        if node.tag == "tag:yaml.org,2002:int" and isinstance(node.value, str):
            digits = sum(character.isdigit() for character in node.value)
            if digits > MAX_INT_DIGITS:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"a number of {digits} digits is read by no field (at most {MAX_INT_DIGITS})",
                    node.start_mark,
                )
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, KeyError, TypeError, OverflowError):
            kind = node.tag.rsplit(":", 1)[-1]
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a valid {kind}", node.start_mark
            ) from None
