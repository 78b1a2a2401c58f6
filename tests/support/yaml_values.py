"""Every kind of value YAML can produce, and every place in a real file where one can stand: for the loaders' fuzzers.

A loader that holds for the values it expects can still crash on the ones
YAML makes of a typo: a date (``2024-02-30``), a float where a count goes,
an explicit tag that cannot read its text, an integer of thousands of
digits.  Each is put in place of each scalar of a real file.
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

#: One YAML scalar text for each thing YAML can make, valid or not.
YAML_VALUES: tuple[str, ...] = (
    "2024-02-30",
    "2001-12-14t21:59:43.10-05:00",
    "!!timestamp 2001-13-45",
    "!!int abc",
    "!!float abc",
    "!!bool maybe",
    "!!binary aGVsbG8=",
    "!!set {a: null}",
    "!!python/object:os.system x",
    "!!str 12",
    "2.0",
    "1e400",
    ".nan",
    "-.inf",
    "-1",
    "0",
    "true",
    "~",
    "[]",
    "{}",
    "''",
    "'\\x1b]0;title\\x07'",
    "1" + "0" * 4400,
    "0x" + "f" * 40,
    "<<: {a: 1}",
)


def scalar_places(text: str) -> list[tuple[int, int]]:
    """The character spans of every plain scalar value (not key) in a YAML document."""
    places: list[tuple[int, int]] = []

    def walk(node: yaml.Node) -> Iterator[yaml.Node]:
        if isinstance(node, yaml.MappingNode):
            for _, value in node.value:
                yield from walk(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                yield from walk(item)
        else:
            yield node

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    assert root is not None, "a real file, not an empty one"
    for node in walk(root):
        if node.start_mark.line == node.end_mark.line:  # a one-line scalar: replaceable as it stands
            places.append((node.start_mark.index, node.end_mark.index))
    return places


def with_value(text: str, place: tuple[int, int], value: str) -> str:
    """The text with the scalar at ``place`` replaced by ``value`` (in a flow list, it is quoted first)."""
    start, end = place
    return text[:start] + value + text[end:]
