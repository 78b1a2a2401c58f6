"""YAML with source marks: where each value of an expectation file was written, for its error messages.

The loader keeps the YAML node tree beside the data so that a mistake found
at a path (``assertions.3.count``) is reported at the exact line and column
it was written, with the line quoted; one :class:`ExpectationError` names
them all, in file order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.model.errors import HarnessError
from harness.model.expectations import (
    Location,
)
from harness.model.files import Unreadable, read_bounded
from harness.model.hints import closest
from harness.model.record import replace
from harness.model.yaml_shape import MAX_NESTING, DataLoader, shape_problem

#: The largest expectation file read: the bundled ones are a few KiB; a limit keeps a
#: mistaken or hostile path (a device, a huge file) from exhausting memory.
MAX_FILE_BYTES = 1 << 20
#: Values a file may expand to, per byte of its text: aliases (``*name``) repeat a node
#: without repeating its text, and nested ones multiply ("billion laughs").  Plain YAML
#: has fewer values than bytes; the bound keeps every later walk linear in the file's size.
_VALUES_PER_BYTE = 4
#: The most assertions a file may hold: each one is matched against the whole trace.


class ExpectationError(HarnessError):
    """An expectation file that cannot be used, with the place and the fix."""

    exit_status = 65

    def __init__(
        self, location: Location, message: str, excerpt: str = "", others: tuple[ExpectationError, ...] = ()
    ) -> None:
        text = f"{location}: {message}" + (f"\n{excerpt}" if excerpt else "")
        super().__init__("\n".join([text, *(str(other) for other in others)]))
        self.location = location
        self.message = message
        self.others = others
        """The file's further mistakes, in file order: all of them are reported in one run."""

    @property
    def all(self) -> tuple[ExpectationError, ...]:
        """This mistake and the others, in file order."""
        return (self, *self.others)


def together(errors: list[ExpectationError]) -> ExpectationError:
    """One error for several mistakes, in file order (the first one's place heads the report)."""
    ordered = sorted(errors, key=lambda error: (error.location.line, error.location.column))
    first = ordered[0]
    excerpt = str(first).split("\n", 1)[1] if "\n" in str(first) else ""
    return ExpectationError(first.location, first.message, excerpt, tuple(ordered[1:]))


Path_ = tuple[str | int, ...]


#: What is said of a file that nests past the shape check's bound, whatever refused it.
TOO_DEEP = (
    f"it nests deeper than {MAX_NESTING} levels here, which no expectation file needs: "
    "write the assertions as a list of mappings"
)


@dataclass(frozen=True, slots=True)
class Mark:
    """Where a YAML node was written: its first line and column, and its last."""

    line: int
    column: int
    quoted: bool = False
    in_flow_list: bool = False
    """A plain scalar inside ``[a, b]``: YAML ends it at the first comma."""


class Source:
    """The file's text, its data, and the mark of every key and value by JSON path."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.values: dict[Path_, Mark] = {}
        self.keys: dict[Path_, Mark] = {}
        self._budget = _VALUES_PER_BYTE * len(text) + 1000
        problem = shape_problem(text, aliases=True)
        if problem is not None:  # refused before PyYAML recurses through it for seconds
            raise self._at(
                problem.line,
                problem.column,
                TOO_DEEP,
            )
        try:
            loader = DataLoader(text)
            try:
                node = loader.get_single_node()
                if node is None:
                    raise self.error((), "the file is empty: it needs at least 'server' and 'assertions'")
                self._walk(node, (), loader, set())
                self.data = loader.construct_document(node)
            finally:
                loader.dispose()
        except RecursionError:  # not reached past the shape check, which finds the place; one message all the same
            raise self._at(1, 1, TOO_DEEP) from None
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            raise self._at(line, column, _yaml_problem(error, column)) from None
        except yaml.YAMLError as error:
            raise self._at(1, 1, f"not valid YAML: {error}") from None

    def _walk(self, node: yaml.Node, path: Path_, loader: DataLoader, inside: set[int]) -> None:
        """Note the marks under ``path``; ``inside`` holds the nodes being walked, to refuse an alias loop."""
        if id(node) in inside:
            raise self._at(
                node.start_mark.line + 1, node.start_mark.column + 1, "an alias refers to the node that contains it"
            )
        self._budget -= 1
        if self._budget < 0:
            raise self._at(
                node.start_mark.line + 1,
                node.start_mark.column + 1,
                "aliases (*name) repeat this part so often that the file expands to more values than an "
                "expectation file ever needs: write the repeated part out, or use fewer aliases",
            )
        self.values[path] = Mark(node.start_mark.line + 1, node.start_mark.column + 1, _quoted(node))
        if isinstance(node, yaml.MappingNode):
            inside.add(id(node))
            seen: set[Any] = set()
            for key_node, value_node in node.value:
                key = self._key(key_node, loader)
                if key in seen:
                    raise self._at(
                        key_node.start_mark.line + 1, key_node.start_mark.column + 1, f"duplicate key {key!r}"
                    )
                seen.add(key)
                self.keys[(*path, key)] = Mark(key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                self._walk(value_node, (*path, key), loader, inside)
            inside.discard(id(node))
        elif isinstance(node, yaml.SequenceNode):
            inside.add(id(node))
            for index, item in enumerate(node.value):
                self._walk(item, (*path, index), loader, inside)
                if node.flow_style and isinstance(item, yaml.ScalarNode) and item.style is None:
                    mark = self.values[(*path, index)]
                    self.values[(*path, index)] = replace(mark, in_flow_list=True)
            inside.discard(id(node))

    def _key(self, node: yaml.Node, loader: DataLoader) -> Any:
        """A mapping key as the schema will see it (``1`` is an int), so that its mark can be found again."""
        if not isinstance(node, yaml.ScalarNode):
            raise self._at(node.start_mark.line + 1, node.start_mark.column + 1, "a key must be a plain name")
        return loader.construct_object(node)

    def _at(self, line: int, column: int, message: str) -> ExpectationError:
        excerpt = ""
        if 1 <= line <= len(self.lines):
            text = self.lines[line - 1]
            excerpt = f"    {text}\n    {' ' * (column - 1)}^"
        return ExpectationError(Location(str(self.path), line, column), message, excerpt)

    def error(self, path: Path_, message: str, *, key: bool = False, offset: int = 0) -> ExpectationError:
        """An error at the value (or the key) found at ``path``, ``offset`` columns into a string value."""
        marks = self.keys if key else self.values
        mark = marks.get(path) or self.values.get(path[:-1]) or Mark(1, 1)
        return self._at(mark.line, mark.column + offset + (1 if mark.quoted and offset else 0), message)

    def line(self, path: Path_) -> int:
        """The 1-based line of the value at ``path``."""
        mark = self.values.get(path)
        return mark.line if mark else 1


def _yaml_problem(error: yaml.MarkedYAMLError, column: int) -> str:
    """PyYAML's complaint in words about the file: a bad indent is said as one, not as parser tokens."""
    problem = error.problem or error.context or "not valid YAML"
    if problem.startswith("expected <block end>"):
        block = "list" if "collection" in (error.context or "") or "sequence" in (error.context or "") else "mapping"
        start = f" (the {block} that starts on line {error.context_mark.line + 1})" if error.context_mark else ""
        return (
            f"bad indentation: this line starts at column {column}, which lines up with nothing above it{start}; "
            "indent it exactly as far as the keys or '- ' items it belongs with"
        )
    if problem == "mapping values are not allowed here":
        return (
            "a ':' YAML cannot place here: the line is probably indented deeper than the key above it "
            "(indent it like its siblings), or a value holds ': ' (quote the value)"
        )
    if "'\\t'" in problem:
        return "a tab character: YAML indents with spaces only, so replace the tab with spaces"
    if problem == "but found another document":
        return "a second YAML document starts here ('---'): an expectation file is one document, so remove it"
    return f"not valid YAML: {problem}"


def _quoted(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.style in ("'", '"')


# -- schema errors --------------------------------------------------------------------


def nearest(name: str, choices: list[str]) -> str:
    """``; did you mean X?`` for the choice nearest ``name``, or nothing."""
    close = closest(name, choices)
    return f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(choices)}"


def read_text(path: Path) -> str:
    """The file's text, read only from a regular file of bounded size (never a device or a FIFO)."""
    where = Location(str(path), 0)
    try:
        data = read_bounded(path, MAX_FILE_BYTES)
    except Unreadable as refused:
        if refused.kind in ("missing", "refused"):
            raise ExpectationError(where, f"cannot read the file: {refused.reason}") from None
        what = (
            "an expectation file is a few KiB; split it"
            if refused.kind == "too-large"
            else "an expectation file is a YAML text file"
        )
        raise ExpectationError(where, f"{refused.reason}: {what}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ExpectationError(where, "not a text file (expected UTF-8 YAML)") from None
