"""The shape of a YAML text (nesting depth, aliases), checked on its parse events before anything is built.

Why before: PyYAML's composer and constructor recurse once per nesting level, so
brackets nested thousands deep end in ``RecursionError`` only after seconds of
work (5000 ``[`` took 4 s to compose, and a golden file that also scanned its
events twice took 14 s); and its pure-Python scanner slows quadratically on
nested flow collections.  The event stream shows the depth and every alias as
they come, so a crafted text is refused at the first event past the bound,
with its line and column.  libyaml's C parser gives the same events at a small
fraction of the cost; PyYAML ships with it, and the pure-Python parser stands
in where it was built without.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import yaml

#: The deepest nesting of mappings and lists a file the harness reads may have.
#: An expectation file needs about 6 levels and a golden file 3; the bound only
#: has to stop a crafted file long before PyYAML's recursion would.
MAX_NESTING = 64

_Parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
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
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Parser):
            if isinstance(event, _OPENS):
                depth += 1
                if depth > MAX_NESTING:
                    return _problem("nesting", event)
            elif isinstance(event, _CLOSES):
                depth -= 1
            elif not aliases and isinstance(event, yaml.AliasEvent):
                return _problem("alias", event)
    except yaml.YAMLError:
        return None
    return None


def _problem(kind: Literal["nesting", "alias"], event: yaml.Event) -> ShapeProblem:
    mark = event.start_mark
    return ShapeProblem(kind, mark.line + 1, mark.column + 1) if mark is not None else ShapeProblem(kind, 1, 1)
