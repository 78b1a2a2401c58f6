"""Read an expectation file: YAML with source marks, a JSON Schema, then the steps.

Every mistake ends in one :class:`ExpectationError` that names the file,
line and column, quotes the line, and suggests the nearest valid name for a
misspelt key, syscall, errno, signal, fact, role or variant.  The loader
keeps the YAML node tree beside the data so that a schema error found at a
JSON path can be traced back to the exact place it was written.
"""

from __future__ import annotations

import difflib
import functools
import math
import os
import shlex
import stat
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
from harness.model.errors import HarnessError, UsageError
from harness.model.expectations import (
    FACTS,
    MAIN,
    Assertion,
    Check,
    CountCheck,
    ExpectationFile,
    FactCheck,
    GoldenCheck,
    Location,
    NeverCheck,
    Operator,
    RoleSelector,
    SequenceCheck,
    ServerSpec,
    step_syscalls,
)
from harness.model.injection import InjectionError, parse_injection
from harness.model.scenario import (
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
from harness.model.steps import Step, StepError, parse_step

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
CHECK_KEYS = ("sequence", "count", "never", "fact", "golden")
AMOUNT_KEYS: dict[str, Operator] = {"equals": "==", "at_least": ">=", "at_most": "<="}


class ExpectationError(HarnessError):
    """An expectation file that cannot be used, with the place and the fix."""

    exit_status = 65

    def __init__(self, location: Location, message: str, excerpt: str = "") -> None:
        super().__init__(f"{location}: {message}" + (f"\n{excerpt}" if excerpt else ""))
        self.location = location
        self.message = message


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


@dataclass(frozen=True, slots=True)
class _Mark:
    line: int
    column: int
    quoted: bool = False


class _Source:
    """The file's text, its data, and the mark of every key and value by JSON path."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.values: dict[Path_, _Mark] = {}
        self.keys: dict[Path_, _Mark] = {}
        self._budget = _VALUES_PER_BYTE * len(text) + 1000
        try:
            loader = yaml.SafeLoader(text)
            try:
                node = loader.get_single_node()
                if node is None:
                    raise self.error((), "the file is empty: it needs at least 'server' and 'assertions'")
                self._walk(node, (), loader, set())
                self.data = loader.construct_document(node)
            finally:
                loader.dispose()
        except RecursionError:  # brackets nested thousands deep: PyYAML's composer recurses per level
            raise self._at(1, 1, "not valid YAML here: it nests too deep for an expectation file") from None
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            problem = error.problem or error.context or "not valid YAML"
            raise self._at(line, column, f"not valid YAML: {problem}") from None
        except yaml.YAMLError as error:
            raise self._at(1, 1, f"not valid YAML: {error}") from None

    def _walk(self, node: yaml.Node, path: Path_, loader: yaml.SafeLoader, inside: set[int]) -> None:
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
            inside.discard(id(node))

    def _key(self, node: yaml.Node, loader: yaml.SafeLoader) -> Any:
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


def _quoted(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.style in ("'", '"')


# -- schema errors --------------------------------------------------------------------


def _nearest(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1)
    return f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(choices)}"


def _schema_errors(source: _Source) -> Iterator[ExpectationError]:
    validator = jsonschema.Draft202012Validator(schema())
    # Unknown keys first: a misspelt key is usually also why a required one is "missing".
    errors = validator.iter_errors(source.data)
    for error in sorted(errors, key=lambda e: (e.validator != "additionalProperties", list(map(str, e.absolute_path)))):
        path: Path_ = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = list(error.schema.get("properties", {}))
            for key in error.instance:
                if key not in allowed:
                    yield source.error((*path, key), f"unknown key {key!r}{_nearest(str(key), allowed)}", key=True)
            continue
        if error.validator == "required":
            missing = [key for key in error.validator_value if key not in error.instance]
            where = "the file" if not path else f"this {'assertion' if 'name' in missing else 'entry'}"
            yield source.error(path, f"{where} lacks the key {missing[0]!r}")
            continue
        if error.validator == "enum" and isinstance(error.instance, str):
            choices = [str(choice) for choice in error.validator_value]
            close = difflib.get_close_matches(error.instance, choices, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "use one of: " + ", ".join(map(repr, choices))
            yield source.error(path, f"{path[-1] if path else 'value'}: unknown value {error.instance!r}; {hint}")
            continue
        field = ".".join(map(str, path)) or "the file"
        yield source.error(path, f"{field}: {_plain(error)}")


def _plain(error: jsonschema.ValidationError) -> str:
    """A schema error in words: what was expected and what was found."""
    found = error.instance
    if error.validator in ("type", "oneOf", "const"):
        expected = {
            "server": "a variant name, or a mapping with 'command' (and 'protocol')",
            "command": "a command line string, or a list of its words",
            "equals": "a number or 'connections'",
            "at_least": "a number or 'connections'",
            "at_most": "a number or 'connections'",
        }.get(str(error.absolute_path[-1]) if error.absolute_path else "")
        if expected is None:
            expected = f"{error.validator_value}" if error.validator == "type" else "another form"
        return f"expected {expected}, found {found!r}"
    return f"{error.message}"


# -- assertions -------------------------------------------------------------------------


class _Reader:
    def __init__(self, source: _Source, syscalls: frozenset[str]) -> None:
        self.source = source
        self.syscalls = syscalls
        self.steps: list[Step] = []

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

    def step(self, path: Path_) -> Step:
        text = self.source.data
        for key in path:
            text = text[key]
        try:
            step = parse_step(str(text), syscalls=self.syscalls)
        except StepError as error:
            raise self.source.error(path, error.message, offset=error.offset) from None
        self.steps.append(step)
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
        for key in [*AMOUNT_KEYS, "adjacent"]:
            if key in data and kind != ("sequence" if key == "adjacent" else "count"):
                belongs = "sequence" if key == "adjacent" else "count"
                raise self.source.error((*path, key), f"{key!r} only goes with {belongs!r}", key=True)
        roles = MAIN
        if "role" in data:
            try:
                roles = RoleSelector.parse(data["role"])
            except ValueError as error:
                raise self.source.error((*path, "role"), str(error)) from None
        check = self.check(kind, data, path)
        location = Location(str(self.source.path), self.source.line((*path, "name")))
        return Assertion(data["name"], roles, check, location, whole_trace=bool(data.get("whole_trace", False)))

    def check(self, kind: str, data: dict[str, Any], path: Path_) -> Check:
        if kind == "sequence":
            steps = tuple(self.step((*path, "sequence", number)) for number in range(len(data["sequence"])))
            lines = tuple(self.source.line((*path, "sequence", number)) for number in range(len(steps)))
            return SequenceCheck(steps, bool(data.get("adjacent", False)), lines)
        if kind == "count":
            amounts = [key for key in AMOUNT_KEYS if key in data]
            if len(amounts) != 1:
                raise self.source.error(
                    (*path, "count"),
                    "a count needs exactly one of equals, at_least, at_most (e.g. equals: connections)",
                )
            return CountCheck(self.step((*path, "count")), AMOUNT_KEYS[amounts[0]], data[amounts[0]])
        if kind == "never":
            return NeverCheck(self.step((*path, "never")))
        if kind == "fact":
            return FactCheck(data["fact"])
        return GoldenCheck(self._golden_path((*path, "golden"), data["golden"]))


def _server(source: _Source) -> ServerSpec:
    server = source.data["server"]
    if isinstance(server, str):
        from harness.running.variants import list_variants

        try:
            variants = list_variants()
        except HarnessError as error:
            raise source.error(("server",), str(error)) from None
        if server not in variants:
            close = difflib.get_close_matches(server, list(variants), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"bundled variants: {', '.join(variants)}"
            raise source.error(("server",), f"unknown server variant {server!r}; {hint}")
        return ServerSpec(variant=server, protocol=variants[server].protocol, client_command=_client(source))
    words = _words(source, ("server", "command"))
    try:
        spec = command_server(words, protocol=server.get("protocol", DEFAULT_PROTOCOL), here=source.path.parent)
    except UsageError as error:
        raise source.error(("server", "command"), str(error)) from None
    try:
        stop = Stop.parse(server.get("stop", STOP_BY_EXIT), server.get("grace"))
    except UsageError as error:
        raise source.error(("server", "stop" if "stop" in server else "grace"), str(error)) from None
    client = _client(source)
    if client is not None and "protocol" in server:
        raise source.error(
            ("server", "protocol"),
            "the client command talks to the server in place of the protocol's clients: leave out server.protocol",
        )
    return replace(spec, stop=stop, client_command=client)


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
        # O_NONBLOCK: opening a FIFO must not wait for a writer; the check below refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise ExpectationError(where, f"cannot read the file: {error.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ExpectationError(where, "not a regular file: an expectation file is a YAML text file")
        data = os.read(fd, MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise ExpectationError(
            where, f"larger than {MAX_FILE_BYTES // 1024} KiB: an expectation file is a few KiB; split it"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ExpectationError(where, "not a text file (expected UTF-8 YAML)") from None


def load_expectations(path: str | Path) -> ExpectationFile:
    """Read and check one expectation file; raise :class:`ExpectationError` on any mistake."""
    from harness.model.syscalls import known_syscalls

    path = Path(path)
    text = _read_text(path)
    source = _Source(path, text)
    first = next(_schema_errors(source), None)
    if first is not None:
        raise first
    data = source.data
    reader = _Reader(source, known_syscalls())
    server = _server(source)
    try:
        scenario = Scenario(**data.get("scenario", {}))
    except HarnessError as error:
        raise source.error(("scenario",), str(error)) from None
    start_after = reader.step(("start_after",)) if "start_after" in data else None
    injections = []
    for number, spec in enumerate(data.get("inject", [])):
        try:
            injections.append(parse_injection(spec, syscalls=reader.syscalls))
        except InjectionError as error:
            raise source.error(("inject", number), str(error)) from None
    if not math.isfinite(data.get("timeout", DEFAULT_TIMEOUT)):  # NaN passes every schema comparison
        raise source.error(("timeout",), "the timeout must be a number of seconds, like 60")
    if (count := len(data["assertions"])) > MAX_ASSERTIONS:
        limit = f"a file may hold at most {MAX_ASSERTIONS}; split it into several files"
        raise source.error(("assertions",), f"{count} assertions: {limit}")
    assertions = tuple(reader.assertion(index, item) for index, item in enumerate(data["assertions"]))
    names = [assertion.name for assertion in assertions]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise source.error(("assertions", index, "name"), f"two assertions are called {name!r}: names must differ")
    return ExpectationFile(
        path=path,
        server=server,
        scenario=scenario,
        assertions=assertions,
        start_after=start_after,
        timeout=float(data.get("timeout", DEFAULT_TIMEOUT)),
        syscalls=step_syscalls(reader.steps),
        injections=tuple(injections),
    )
