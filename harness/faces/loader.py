"""Read an expectation file: YAML with source marks, a JSON Schema, then the steps.

Every mistake ends in one :class:`ExpectationError` that names the file,
line and column, quotes the line, and suggests the nearest valid name for a
misspelt key, syscall, errno, signal, fact, role or variant.  The loader
keeps the YAML node tree beside the data so that a schema error found at a
JSON path can be traced back to the exact place it was written.
"""

from __future__ import annotations

import functools
import math
import shlex
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from harness.analysis.golden import GOLDEN_SUFFIX
from harness.faces import SUFFIX
from harness.model import kernel
from harness.model.amounts import AmountError, parse_amount
from harness.model.durations import DurationError, parse_duration
from harness.model.errors import HarnessError, UsageError
from harness.model.expectations import (
    FACTS,
    MAIN,
    Assertion,
    Check,
    CountCheck,
    EachCheck,
    ExpectationFile,
    FactCheck,
    FileWarning,
    GoldenCheck,
    InForceCheck,
    Location,
    NeverCheck,
    Operator,
    RoleSelector,
    SequenceCheck,
    ServerSpec,
    Window,
    spawned_capture,
    step_syscalls,
)
from harness.model.files import Unreadable, read_bounded
from harness.model.hints import closest
from harness.model.injection import InjectionError, parse_injection
from harness.model.scenario import (
    CLEAN_EXITS,
    DEFAULT_PROTOCOL,
    DEFAULT_TIMEOUT,
    MODES,
    PROTOCOL_NAMES,
    STOP_BY_EXIT,
    ClientCommand,
    Protocol,
    Scenario,
    Stop,
)
from harness.model.steps import (
    Literal,
    SimpleStep,
    Step,
    StepError,
    SyscallStep,
    any_of,
    captures_of,
    parse_step,
    where_of,
)
from harness.model.sweep import DEFAULT_SIGNAL, SiteSelector, SweepCheck
from harness.model.yaml_shape import MAX_NESTING, DataLoader, shape_problem

#: The largest expectation file read: the bundled ones are a few KiB; a limit keeps a
#: mistaken or hostile path (a device, a huge file) from exhausting memory.
MAX_FILE_BYTES = 1 << 20
#: Values a file may expand to, per byte of its text: aliases (``*name``) repeat a node
#: without repeating its text, and nested ones multiply ("billion laughs").  Plain YAML
#: has fewer values than bytes; the bound keeps every later walk linear in the file's size.
_VALUES_PER_BYTE = 4
#: The most assertions a file may hold: each one is matched against the whole trace.
MAX_ASSERTIONS = 2000
__all__ = ["SUFFIX", "ExpectationError", "client_command", "command_server", "load_expectations"]
CHECK_KEYS = ("sequence", "count", "never", "each", "fact", "golden", "in_force", "sweep")
#: Keys that only go with one kind of check, and the checks they go with.
BELONGS: dict[str, tuple[str, ...]] = {
    "adjacent": ("sequence",),
    "equals": ("count",),
    "at_least": ("count",),
    "at_most": ("count",),
    "then": ("each",),
    "child": ("each",),
    "in": ("each",),
    "after": ("never", "count"),
    "before": ("never", "count"),
    "within": ("never", "count"),
    "at": ("in_force",),
    "signal": ("sweep",),
    "except": ("sweep",),
}
AMOUNT_KEYS: dict[str, Operator] = {"equals": "==", "at_least": ">=", "at_most": "<="}


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


def _together(errors: list[ExpectationError]) -> ExpectationError:
    """One error for several mistakes, in file order (the first one's place heads the report)."""
    ordered = sorted(errors, key=lambda error: (error.location.line, error.location.column))
    first = ordered[0]
    excerpt = str(first).split("\n", 1)[1] if "\n" in str(first) else ""
    return ExpectationError(first.location, first.message, excerpt, tuple(ordered[1:]))


@functools.cache
def schema() -> dict[str, Any]:
    """The JSON Schema of expectation files (harness/faces/expectation.schema.yaml)."""
    text = resources.files("harness.faces").joinpath("expectation.schema.yaml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    # Closed sets written once, in the model:
    loaded["$defs"]["assertion"]["properties"]["fact"] = {"enum": list(FACTS)}
    loaded["properties"]["scenario"]["properties"]["mode"] = {"enum": list(MODES)}
    loaded["properties"]["server"]["else"]["properties"]["protocol"] = {"enum": list(PROTOCOL_NAMES)}
    return loaded


# -- YAML with marks --------------------------------------------------------------

Path_ = tuple[str | int, ...]


#: What is said of a file that nests past the shape check's bound, whatever refused it.
_TOO_DEEP = (
    f"it nests deeper than {MAX_NESTING} levels here, which no expectation file needs: "
    "write the assertions as a list of mappings"
)


@dataclass(frozen=True, slots=True)
class _Mark:
    line: int
    column: int
    quoted: bool = False
    in_flow_list: bool = False
    """A plain scalar inside ``[a, b]``: YAML ends it at the first comma."""


class _Source:
    """The file's text, its data, and the mark of every key and value by JSON path."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.values: dict[Path_, _Mark] = {}
        self.keys: dict[Path_, _Mark] = {}
        self._budget = _VALUES_PER_BYTE * len(text) + 1000
        problem = shape_problem(text, aliases=True)
        if problem is not None:  # refused before PyYAML recurses through it for seconds
            raise self._at(
                problem.line,
                problem.column,
                _TOO_DEEP,
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
            raise self._at(1, 1, _TOO_DEEP) from None
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
        self.values[path] = _Mark(node.start_mark.line + 1, node.start_mark.column + 1, _quoted(node))
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
                self.keys[(*path, key)] = _Mark(key_node.start_mark.line + 1, key_node.start_mark.column + 1)
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
        mark = marks.get(path) or self.values.get(path[:-1]) or _Mark(1, 1)
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


def _nearest(name: str, choices: list[str]) -> str:
    close = closest(name, choices)
    return f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(choices)}"


def _schema_errors(source: _Source) -> Iterator[tuple[Path_, ExpectationError]]:
    """Every mistake the schema finds, with the JSON path of the part it refuses."""
    validator = jsonschema.Draft202012Validator(schema())
    # Unknown keys first: a misspelt key is usually also why a required one is "missing".
    errors = validator.iter_errors(source.data)
    steps_refused: set[Path_] = set()
    suggested: set[tuple[Path_, str]] = set()
    for error in sorted(errors, key=lambda e: (e.validator != "additionalProperties", list(map(str, e.absolute_path)))):
        path: Path_ = tuple(error.absolute_path)
        if isinstance(error.instance, dict) and "any_of" in error.schema.get("properties", {}):
            if path not in steps_refused:  # one mistake, however many rules of the step's schema it breaks
                steps_refused.add(path)
                yield (
                    path,
                    source.error(
                        path,
                        f"expected a step (a string like 'close($conn)', quoted if YAML reads it otherwise) "
                        f"or any_of: [STEP, STEP], found {error.instance!r}",
                    ),
                )
            continue
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = list(error.schema.get("properties", {}))
            for key in error.instance:
                if key not in allowed:
                    suggested.update((path, close) for close in closest(str(key), allowed))
                    yield (
                        (*path, key),
                        source.error((*path, key), f"unknown key {key!r}{_nearest(str(key), allowed)}", key=True),
                    )
            continue
        if error.validator == "required":
            missing = [key for key in error.validator_value if key not in error.instance]
            missing = [key for key in missing if (path, key) not in suggested]  # a misspelling explains it
            if not missing:
                continue
            where = "the file" if not path else f"this {'assertion' if 'name' in missing else 'entry'}"
            yield path, source.error(path, f"{where} lacks the key {missing[0]!r}")
            continue
        if error.validator == "enum" and isinstance(error.instance, str):
            choices = [str(choice) for choice in error.validator_value]
            close = closest(error.instance, choices)
            hint = f"did you mean {close[0]!r}?" if close else "use one of: " + ", ".join(map(repr, choices))
            yield path, source.error(path, f"{path[-1] if path else 'value'}: unknown value {error.instance!r}; {hint}")
            continue
        field = ".".join(map(str, path)) or "the file"
        yield path, source.error(path, f"{field}: {_plain(error)}")


def _plain(error: jsonschema.ValidationError) -> str:
    """A schema error in words: what was expected and what was found."""
    found = error.instance
    if error.validator in ("type", "oneOf", "const"):
        expected = {
            "server": "a variant name, or a mapping with 'command' (and 'protocol')",
            "command": "a command line string, or a list of its words",
            "equals": "a number, 'connections', or an expression like 'connections + 2'",
            "at_least": "a number, 'connections', or an expression like 'connections + 2'",
            "at_most": "a number, 'connections', or an expression like 'connections + 2'",
        }.get(str(error.absolute_path[-1]) if error.absolute_path else "")
        if expected is None:
            expected = f"{error.validator_value}" if error.validator == "type" else "another form"
        return f"expected {expected}, found {found!r}"
    if error.validator == "pattern" and error.absolute_path and error.absolute_path[-1] == "in":
        return f"expected a capture like $worker, found {found!r}"
    # The harness's own words for every other rule of the schema: jsonschema's change between its
    # versions (4.18 says "[] is too short", today's "[] should be non-empty"), and a message is a promise too.
    bound = error.validator_value
    if error.validator == "minItems":
        return f"expected at least {bound} item{'s' if bound != 1 else ''}, found {found!r}"
    if error.validator == "minLength":
        return (
            f"expected a non-empty string, found {found!r}"
            if bound == 1
            else f"expected at least {bound} characters, found {found!r}"
        )
    if error.validator in _BOUNDS:
        return f"expected {_BOUNDS[str(error.validator)]} {bound}, found {found!r}"
    return f"{found!r} breaks the rule {error.validator}: {bound!r}"


#: The numeric rules of JSON Schema, in words ("expected at least 1").
_BOUNDS = {
    "minimum": "at least",
    "exclusiveMinimum": "more than",
    "maximum": "at most",
    "exclusiveMaximum": "less than",
}


# -- assertions -------------------------------------------------------------------------


class _Reader:
    def __init__(self, source: _Source, syscalls: frozenset[str]) -> None:
        self.source = source
        self.syscalls = syscalls
        self.parsed: list[Step] = []
        self.written: list[tuple[Path_, SimpleStep]] = []
        """The steps of the assertion being read, each with its place."""
        self.global_captures: tuple[str, ...] = ()
        """The captures of the file's ``start_after``: visible to every assertion."""
        self.warnings: list[FileWarning] = []

    def _golden_path(self, path: Path_, written: str) -> Path:
        """A golden file's path: a ``.golden.yaml`` file, relative ones inside this file's directory tree.

        The suffix keeps a ``golden:`` key from pointing the comparison (and
        its failure report) at any other file; the tree keeps ``../`` from
        reaching out of the project.  An absolute path is taken as meant.
        """
        golden = Path(written)
        if not golden.name.endswith(GOLDEN_SUFFIX):
            raise self.source.error(path, f"a golden file's name ends in {GOLDEN_SUFFIX} (got {golden.name!r})")
        if golden.is_absolute():
            return golden
        here = self.source.path.parent
        if not (here / golden).resolve().is_relative_to(here.resolve()):
            raise self.source.error(
                path,
                "a relative golden path stays inside this file's directory; "
                "write an absolute path to use a golden file elsewhere",
            )
        return here / golden

    def _at(self, path: Path_) -> Any:
        value = self.source.data
        for key in path:
            value = value[key]
        return value

    def capture_warnings(self, path: Path_, check: Check) -> list[FileWarning]:
        """A capture written once in an assertion binds whatever it meets and compares nothing: most often a typo.

        The file's ``start_after`` captures count as written already, and so
        does the capture an ``each`` names the ``child`` process by; a name
        that starts with ``_`` (``accept4 -> $_conn``: any successful result)
        says the single use is meant.
        """
        uses: dict[str, list[tuple[Path_, str]]] = {}
        for where, step in self.written:
            for name in captures_of(step):
                uses.setdefault(name, []).append((where, step.text))
        used = set(self.global_captures)
        if isinstance(check, EachCheck) and check.child:
            used.add(check.in_capture or spawned_capture((check.each, *check.then)) or "")
        warnings = []
        for name, places in uses.items():
            if len(places) != 1 or name in used or name.startswith("_"):
                continue
            where, text = places[0]
            others = [other for other in [*uses, *self.global_captures] if other != name]
            close = closest(name, others)
            hint = f": a typo of ${close[0]}?" if close else ""
            message = (
                f"${name} is used only once in assertion {self._at((*path, 'name'))!r}, so it binds whatever it "
                f"meets and is compared with nothing{hint} (write _ for any value, or ${'_' + name} for a "
                "result that only has to be a success)"
            )
            error = self.source.error(where, message, offset=text.find(f"${name}"))
            excerpt = str(error).split("\n", 1)[1] if "\n" in str(error) else ""
            warnings.append(FileWarning(error.location, message, excerpt))
        return warnings

    def step(self, path: Path_) -> Step:
        """The step written at ``path``: a string, or ``any_of:`` and a list of strings."""
        written = self._at(path)
        if isinstance(written, dict):
            options = tuple(self.simple_step((*path, "any_of", number)) for number in range(len(written["any_of"])))
            return any_of(options)
        return self.simple_step(path)

    def simple_step(self, path: Path_) -> SimpleStep:
        text = self._at(path)
        try:
            step = parse_step(str(text), syscalls=self.syscalls)
        except StepError as error:
            mark = self.source.values.get(path)
            if mark is not None and mark.in_flow_list and str(text).count("(") > str(text).count(")"):
                raise self.source.error(
                    path,
                    "this step was cut at a comma: inside [a, b] YAML splits unquoted text at every comma; "
                    'quote the step ("rt_sigaction(SIGCHLD, act.flags=!SA_RESTART) -> 0") '
                    "or write the list one '- step' per line",
                ) from None
            raise self.source.error(path, error.message, offset=error.offset) from None
        self.parsed.append(step)
        self.written.append((path, step))
        return step

    def assertion(self, index: int, data: dict[str, Any]) -> Assertion:
        path: Path_ = ("assertions", index)
        checks = [key for key in CHECK_KEYS if key in data]
        if len(checks) != 1:
            what = "none" if not checks else " and ".join(checks)
            raise self.source.error(
                path, f"assertion {data['name']!r} needs exactly one of {', '.join(CHECK_KEYS)} (it has {what})"
            )
        kind = checks[0]
        for key, kinds in BELONGS.items():
            if key in data and kind not in kinds:
                raise self.source.error(
                    (*path, key), f"{key!r} only goes with {' or '.join(map(repr, kinds))}", key=True
                )
        if kind == "each" and "then" not in data and "child" not in data:
            raise self.source.error(
                (*path, "each"), "'each' needs 'then' (steps of this role) or 'child' (steps of the process it spawned)"
            )
        if kind == "sweep":
            for key in ("role", "start_after", "whole_trace"):
                if key in data:
                    raise self.source.error(
                        (*path, key),
                        f"{key!r} does not go with 'sweep': a sweep delivers its signal at every site, in every "
                        "role, and judges each whole run",
                        key=True,
                    )
        if "start_after" in data and data.get("whole_trace"):
            raise self.source.error(
                (*path, "start_after"), "'start_after' and 'whole_trace: true' contradict: keep one", key=True
            )
        self.written = []
        roles = MAIN
        if "role" in data:
            try:
                roles = RoleSelector.parse(data["role"])
            except ValueError as error:
                raise self.source.error((*path, "role"), str(error)) from None
        check = self.check(kind, data, path)
        start_after = self.step((*path, "start_after")) if "start_after" in data else None
        self.warnings.extend(self.capture_warnings(path, check))
        location = Location(str(self.source.path), self.source.line((*path, "name")))
        return Assertion(
            data["name"],
            roles,
            check,
            location,
            whole_trace=bool(data.get("whole_trace", False)),
            start_after=start_after,
        )

    def steps(self, path: Path_) -> tuple[Step, ...]:
        return tuple(self.step((*path, number)) for number in range(len(self._at(path))))

    def lines(self, path: Path_) -> tuple[int, ...]:
        return tuple(self.source.line((*path, number)) for number in range(len(self._at(path))))

    def window(self, data: dict[str, Any], path: Path_) -> Window:
        after = self.step((*path, "after")) if "after" in data else None
        before = self.step((*path, "before")) if "before" in data else None
        within = None
        if "within" in data:
            if after is None:
                raise self.source.error(
                    (*path, "within"),
                    "'within' counts from the event 'after' names: add 'after: STEP' (e.g. after: listen)",
                )
            try:
                within = parse_duration(data["within"])
            except DurationError as error:
                raise self.source.error((*path, "within"), str(error)) from None
        return Window(after, before, within)

    def amount(self, path: Path_) -> int | str:
        written = self._at(path)
        try:
            parse_amount(written)
        except AmountError as error:
            raise self.source.error(path, error.message, offset=error.offset) from None
        return int(written) if isinstance(written, int) else str(written)

    def check(self, kind: str, data: dict[str, Any], path: Path_) -> Check:
        if kind == "sequence":
            steps = self.steps((*path, "sequence"))
            return SequenceCheck(steps, bool(data.get("adjacent", False)), self.lines((*path, "sequence")))
        if kind == "count":
            amounts = [key for key in AMOUNT_KEYS if key in data]
            if len(amounts) != 1:
                raise self.source.error(
                    (*path, "count"),
                    "a count needs exactly one of equals, at_least, at_most (e.g. equals: connections)",
                )
            step = self.step((*path, "count"))
            value = self.amount((*path, amounts[0]))
            return CountCheck(step, AMOUNT_KEYS[amounts[0]], value, self.window(data, path))
        if kind == "never":
            step = self.step((*path, "never"))
            return NeverCheck(step, self.window(data, path))
        if kind == "each":
            return self.each(data, path)
        if kind == "fact":
            return FactCheck(data["fact"])
        if kind == "in_force":
            return self.in_force(data, path)
        if kind == "sweep":
            return self.sweep(data, path)
        return GoldenCheck(self._golden_path((*path, "golden"), data["golden"]))

    def in_force(self, data: dict[str, Any], path: Path_) -> InForceCheck:
        if "at" not in data:
            raise self.source.error(
                (*path, "in_force"),
                "'in_force' needs 'at': the calls at which the disposition must be in force (e.g. at: accept4)",
            )
        disposition = self.step((*path, "in_force"))
        signal = dict(disposition.args).get("signal") if isinstance(disposition, SyscallStep) else None
        if not isinstance(disposition, SyscallStep) or disposition.name != "rt_sigaction":
            raise self.source.error(
                (*path, "in_force"),
                "'in_force' takes an rt_sigaction step naming the signal, "
                "e.g. rt_sigaction(SIGCHLD, act.flags=!SA_RESTART)",
            )
        if not isinstance(signal, Literal) or not isinstance(signal.value, str):
            raise self.source.error((*path, "in_force"), "'in_force' must name one signal: rt_sigaction(SIGCHLD, ...)")
        return InForceCheck(self.step((*path, "at")), disposition, signal.value)

    def sweep(self, data: dict[str, Any], path: Path_) -> SweepCheck:
        signal = data.get("signal", DEFAULT_SIGNAL)
        if signal not in kernel.SIGNAL_NUMBERS or signal in ("SIGKILL", "SIGSTOP"):
            close = closest(signal, kernel.SIGNAL_NUMBERS)
            hint = f"; did you mean {close[0]!r}?" if close and signal not in kernel.SIGNAL_NUMBERS else ""
            raise self.source.error(
                (*path, "signal"), f"{signal!r} is not a signal a program can catch (e.g. SIGCHLD, SIGUSR1){hint}"
            )
        excepted = []
        for number, text in enumerate(data.get("except", [])):
            try:
                excepted.append(SiteSelector.parse(text))
            except ValueError as error:
                raise self.source.error((*path, "except", number), str(error)) from None
        return SweepCheck(signal, tuple(excepted))

    def each(self, data: dict[str, Any], path: Path_) -> EachCheck:
        each = self.step((*path, "each"))
        then = self.steps((*path, "then")) if "then" in data else ()
        child = self.steps((*path, "child")) if "child" in data else ()
        lines = (
            self.source.line((*path, "each")),
            *(self.lines((*path, "then")) if then else ()),
            *(self.lines((*path, "child")) if child else ()),
        )
        named = data.get("in")
        if named is not None:
            bound = {name for step in (each, *then) for name in captures_of(step)}
            if named.removeprefix("$") not in bound:
                known = ", ".join(f"${name}" for name in sorted(bound)) or "none"
                raise self.source.error(
                    (*path, "in"),
                    f"'in: {named}' names no capture of 'each' or 'then' (their captures: {known})",
                )
            return EachCheck(each, then, child, named.removeprefix("$"), lines)
        if child and spawned_capture((each, *then)) is None:
            raise self.source.error(
                (*path, "child"),
                "'child' steps need the process they run in: bind it in 'then' (clone -> $child, "
                "spawn process $child) or name a capture with 'in: $worker'",
                key=True,
            )
        return EachCheck(each, then, child, None, lines)


def _server(source: _Source) -> ServerSpec:
    server = source.data["server"]
    if isinstance(server, str):
        from harness.running.variants import list_variants

        try:
            variants = list_variants()
        except HarnessError as error:
            raise source.error(("server",), str(error)) from None
        if server not in variants:
            close = closest(server, list(variants))
            hint = f"did you mean {close[0]!r}?" if close else f"bundled variants: {', '.join(variants)}"
            raise source.error(("server",), f"unknown server variant {server!r}; {hint}")
        return ServerSpec(variant=server, protocol=variants[server].protocol)
    words = _words(source, ("server", "command"))
    try:
        spec = command_server(words, protocol=server.get("protocol", DEFAULT_PROTOCOL), here=source.path.parent)
    except UsageError as error:
        raise source.error(("server", "command"), str(error)) from None
    exits = server.get("exit", sorted(CLEAN_EXITS))
    try:
        stop = Stop.parse(
            server.get("stop", STOP_BY_EXIT),
            server.get("grace"),
            frozenset(exits if isinstance(exits, list) else [exits]),
        )
    except UsageError as error:
        raise source.error(("server", "stop" if "stop" in server else "grace"), str(error)) from None
    if "client" in source.data and "protocol" in server:
        raise source.error(
            ("server", "protocol"),
            "the client command talks to the server in place of the protocol's clients: leave out server.protocol",
        )
    return replace(spec, stop=stop)


def _words(source: _Source, path: Path_) -> tuple[str, ...]:
    """A command written as one string (split as a shell would) or as a list of words."""
    command: Any = source.data
    for key in path:
        command = command[key]
    try:
        return tuple(shlex.split(command)) if isinstance(command, str) else tuple(str(word) for word in command)
    except ValueError as error:
        raise source.error(path, f"cannot split the command: {error}") from None


def _client(source: _Source) -> ClientCommand | None:
    """The file's ``client.command``, placeholders of place filled and paths anchored as the server's are."""
    if "client" not in source.data:
        return None
    words = _words(source, ("client", "command"))
    try:
        return client_command(words, here=source.path.parent)
    except UsageError as error:
        raise source.error(("client", "command"), str(error)) from None


def command_server(words: Sequence[str], *, protocol: Protocol, here: Path) -> ServerSpec:
    """A command of the user's own as a server: ``{port}`` required, placeholders filled, paths anchored at ``here``.

    The one rule for a server command, in an expectation file (``here`` is
    its directory) and on the command line (``here`` is the current directory).
    """
    if not any("{port}" in word for word in words):
        raise UsageError("the command must be told its port: put {port} where it goes, e.g. --port {port}")
    return ServerSpec(command=_anchored(tuple(words), here), protocol=protocol)


def client_command(words: Sequence[str], *, here: Path) -> ClientCommand:
    """A client command of the user's own: ``{port}`` required, anchored at ``here`` as a server command is."""
    return ClientCommand(_anchored(tuple(words), here))


def _anchored(words: tuple[str, ...], here: Path) -> tuple[str, ...]:
    """The command as it runs from any directory: placeholders of place filled, relative paths made absolute.

    ``{here}`` is the file's directory and ``{python}`` the interpreter running
    the harness.  A program given with a slash (``./server``) and an argument
    naming a file that exists beside the expectation file (``server.py``)
    resolve against the file's directory, as the ``golden:`` paths do; a bare
    program name (``python3``) is still looked up on PATH.
    """
    here = here.absolute()
    filled = [word.replace("{here}", str(here)).replace("{python}", sys.executable) for word in words]
    anchored = []
    for index, word in enumerate(filled):
        relative = not word.startswith(("-", "/")) and "{" not in word
        if relative and (index > 0 or "/" in word) and (here / word).exists():
            word = str(here / word)
        anchored.append(word)
    return tuple(anchored)


def _read_text(path: Path) -> str:
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


def load_expectations(path: str | Path) -> ExpectationFile:
    """Read and check one expectation file; raise :class:`ExpectationError` naming every mistake, in file order.

    The schema is checked first; each part it did not refuse (the server,
    the scenario, each assertion) is then read on its own, so that one run
    reports all of a file's mistakes, not the first of them.
    """
    from harness.model.syscalls import known_syscalls

    path = Path(path)
    text = _read_text(path)
    source = _Source(path, text)
    refusals = list(_schema_errors(source))
    errors = [error for _, error in refusals]
    data = source.data
    if not isinstance(data, dict):
        raise _together(errors)  # the schema refused it: a file is a mapping
    reader = _Reader(source, known_syscalls())

    def clean(*where: str | int) -> bool:
        """The part at this path was written, and the schema refused nothing in it."""
        node: Any = data
        for part in where:
            if isinstance(node, list):
                if not isinstance(part, int) or part >= len(node):
                    return False
                node = node[part]
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                return False
        return not any(path[: len(where)] == where for path, _ in refusals)

    def attempt(read: Any, *args: Any) -> Any:
        try:
            return read(*args)
        except ExpectationError as error:
            errors.append(error)
            return None

    server = attempt(_server, source) if clean("server") else None
    client = attempt(_client, source) if clean("client") else None
    if server is not None and client is not None:
        server = replace(server, client_command=client)
    scenario = attempt(_scenario, source) if "scenario" not in data or clean("scenario") else None
    start_after = attempt(reader.step, ("start_after",)) if clean("start_after") else None
    reader.global_captures = tuple(captures_of(start_after)) if start_after is not None else ()
    injections = []
    for number, spec in enumerate(data.get("inject", []) if clean("inject") else []):
        try:
            injections.append(parse_injection(spec, syscalls=reader.syscalls))
        except InjectionError as error:
            errors.append(source.error(("inject", number), str(error)))
    if clean("timeout") and not math.isfinite(data["timeout"]):  # NaN passes every schema comparison
        errors.append(source.error(("timeout",), "the timeout must be a number of seconds, like 60"))
    assertions: list[Assertion] = []
    if isinstance(data.get("assertions"), list) and not any(path == ("assertions",) for path, _ in refusals):
        if (count := len(data["assertions"])) > MAX_ASSERTIONS:
            limit = f"a file may hold at most {MAX_ASSERTIONS}; split it into several files"
            raise _together([*errors, source.error(("assertions",), f"{count} assertions: {limit}")])
        names: list[str] = []
        for index, item in enumerate(data["assertions"]):
            if not clean("assertions", index):
                continue
            assertion = attempt(reader.assertion, index, item)
            if assertion is None:
                continue
            if assertion.name in names:
                name_error = f"two assertions are called {assertion.name!r}: names must differ"
                errors.append(source.error(("assertions", index, "name"), name_error))
            names.append(assertion.name)
            assertions.append(assertion)
    if errors:
        raise _together(errors)
    assert server is not None and scenario is not None  # each was read, or its mistake raised above
    if any(where_of(step) for step in reader.parsed):
        scenario = replace(scenario, python_frames=True)  # a step with @ needs the frames: read them
    return ExpectationFile(
        path=path,
        server=server,
        scenario=scenario,
        assertions=tuple(assertions),
        start_after=start_after,
        timeout=float(data.get("timeout", DEFAULT_TIMEOUT)),
        syscalls=step_syscalls(reader.parsed),
        injections=tuple(injections),
        warnings=tuple(sorted(reader.warnings, key=lambda warning: (warning.location.line, warning.location.column))),
    )


def _scenario(source: _Source) -> Scenario:
    """The run's scenario; a mistake is worded in the file's terms (``mode: free``, not ``--mode free``)."""
    scenario = source.data.get("scenario", {})
    if scenario.get("concurrency", 1) != 1 and scenario.get("mode", "deterministic") == "deterministic":
        concurrency = scenario["concurrency"]
        raise source.error(
            ("scenario", "concurrency"),
            f"'concurrency: {concurrency}' needs 'mode: free' in 'scenario:' "
            "(deterministic mode serves one connection at a time)",
        )
    if scenario.get("ready", 1) != 1 and scenario.get("mode", "deterministic") == "deterministic":
        raise source.error(
            ("scenario", "ready"),
            f"'ready: {scenario['ready']}' needs 'mode: free' in 'scenario:' "
            "(deterministic mode starts each client by its own holds)",
        )
    try:
        return Scenario(**scenario)
    except HarnessError as error:
        raise source.error(("scenario",), str(error)) from None
