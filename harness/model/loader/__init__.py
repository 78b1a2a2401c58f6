"""Read an expectation file: YAML with source marks, a JSON Schema, then the steps.

Every mistake ends in one :class:`ExpectationError` that names the file,
line and column, quotes the line, and suggests the nearest valid name for a
misspelt key, syscall, errno, signal, fact, role or variant.  It sits below
the running layer, which reads the files it runs (a source named on the
command line, an expectation file's own server): :mod:`.marks` keeps the
places, :mod:`.schema` checks the shape, :mod:`.assertions` reads the checks
and :mod:`.servers` what is run.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from harness.model.command_lines import client_command, server_spec_of_command
from harness.model.expectations import Assertion, ExpectationFile, step_syscalls
from harness.model.injection import Injection, InjectionError, parse_injection
from harness.model.loader.assertions import MAX_ASSERTIONS, Reader
from harness.model.loader.marks import ExpectationError, Source, read_text, together
from harness.model.loader.schema import schema_errors
from harness.model.loader.servers import client_of, scenario_of, server_of
from harness.model.record import replace
from harness.model.scenario import DEFAULT_TIMEOUT
from harness.model.steps import captures_of, where_of

__all__ = ["ExpectationError", "client_command", "load_expectations", "server_spec_of_command"]


def load_expectations(path: str | Path) -> ExpectationFile:
    """Read and check one expectation file; raise :class:`ExpectationError` naming every mistake, in file order.

    The schema is checked first; each part it did not refuse (the server,
    the scenario, each assertion) is then read on its own, so that one run
    reports all of a file's mistakes, not the first of them.
    """
    path = Path(path)
    reading = _Reading(Source(path, read_text(path)))
    data, source, reader = reading.data, reading.source, reading.reader
    server = reading.attempt(server_of, source) if reading.clean("server") else None
    client = reading.attempt(client_of, source) if reading.clean("client") else None
    if server is not None and client is not None:
        server = replace(server, client_command=client)
    scenario = reading.attempt(scenario_of, source) if "scenario" not in data or reading.clean("scenario") else None
    start_after = reading.attempt(reader.step, ("start_after",)) if reading.clean("start_after") else None
    reader.global_captures = tuple(captures_of(start_after)) if start_after is not None else ()
    injections = reading.injections()
    if reading.clean("timeout") and not math.isfinite(data["timeout"]):  # NaN passes every schema comparison
        reading.errors.append(source.error(("timeout",), "the timeout must be a number of seconds, like 60"))
    assertions = reading.assertions()
    if reading.errors:
        raise together(reading.errors)
    assert server is not None and scenario is not None  # each was read, or its mistake raised above
    if any(where_of(step) for step in reader.parsed):
        scenario = replace(scenario, python_frames=True)  # a step with @ needs the frames: read them
    return ExpectationFile(
        path=path,
        server=server,
        scenario=scenario,
        assertions=assertions,
        start_after=start_after,
        timeout=float(data.get("timeout", DEFAULT_TIMEOUT)),
        syscalls=step_syscalls(reader.parsed),
        injections=injections,
        warnings=tuple(sorted(reader.warnings, key=lambda warning: (warning.location.line, warning.location.column))),
    )


class _Reading:
    """One file being read: what the schema refused, the mistakes found so far, and the parts read on their own."""

    def __init__(self, source: Source) -> None:
        from harness.model.syscalls import known_syscalls

        self.source = source
        self.refusals = list(schema_errors(source))
        self.errors = [error for _, error in self.refusals]
        if not isinstance(source.data, dict):
            raise together(self.errors)  # the schema refused it: a file is a mapping
        self.data: dict[str, Any] = source.data
        self.reader = Reader(source, known_syscalls())

    def clean(self, *where: str | int) -> bool:
        """The part at this path was written, and the schema refused nothing in it."""
        node: Any = self.data
        for part in where:
            if isinstance(node, list):
                if not isinstance(part, int) or part >= len(node):
                    return False
                node = node[part]
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                return False
        return not any(path[: len(where)] == where for path, _ in self.refusals)

    def attempt(self, read: Any, *args: Any) -> Any:
        """What ``read`` gives, or None with its mistake noted."""
        try:
            return read(*args)
        except ExpectationError as error:
            self.errors.append(error)
            return None

    def injections(self) -> tuple[Injection, ...]:
        """The file's ``inject:`` specs, each mistake noted at its place."""
        injections = []
        for number, spec in enumerate(self.data.get("inject", []) if self.clean("inject") else []):
            try:
                injections.append(parse_injection(spec, syscalls=self.reader.syscalls))
            except InjectionError as error:
                self.errors.append(self.source.error(("inject", number), str(error)))
        return tuple(injections)

    def assertions(self) -> tuple[Assertion, ...]:
        """The file's assertions, each read on its own; two with one name is a mistake."""
        data, source = self.data, self.source
        if not isinstance(data.get("assertions"), list) or any(path == ("assertions",) for path, _ in self.refusals):
            return ()
        if (count := len(data["assertions"])) > MAX_ASSERTIONS:
            limit = f"a file may hold at most {MAX_ASSERTIONS}; split it into several files"
            raise together([*self.errors, source.error(("assertions",), f"{count} assertions: {limit}")])
        assertions: list[Assertion] = []
        for index, item in enumerate(data["assertions"]):
            assertion = self.attempt(self.reader.assertion, index, item) if self.clean("assertions", index) else None
            if assertion is None:
                continue
            if any(other.name == assertion.name for other in assertions):
                name_error = f"two assertions are called {assertion.name!r}: names must differ"
                self.errors.append(source.error(("assertions", index, "name"), name_error))
            assertions.append(assertion)
        return tuple(assertions)
