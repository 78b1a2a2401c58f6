"""The server, client and scenario of an expectation file or a command line: what is run, and how."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.model.errors import HarnessError, UsageError
from harness.model.expectations import (
    ServerSpec,
)
from harness.model.hints import closest
from harness.model.loader.marks import Path_, Source
from harness.model.scenario import (
    CLEAN_EXITS,
    DEFAULT_PROTOCOL,
    STOP_BY_EXIT,
    ClientCommand,
    Protocol,
    Scenario,
    Stop,
)


def server_of(source: Source) -> ServerSpec:
    """The file's ``server``: a bundled variant's name, or a command with its stop and exits."""
    server = source.data["server"]
    if isinstance(server, str):
        from harness.model.variants import list_variants

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
        spec = server_spec_of_command(words, protocol=server.get("protocol", DEFAULT_PROTOCOL), here=source.path.parent)
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


def _words(source: Source, path: Path_) -> tuple[str, ...]:
    """A command written as one string (split as a shell would) or as a list of words."""
    command: Any = source.data
    for key in path:
        command = command[key]
    try:
        return tuple(shlex.split(command)) if isinstance(command, str) else tuple(str(word) for word in command)
    except ValueError as error:
        raise source.error(path, f"cannot split the command: {error}") from None


def client_of(source: Source) -> ClientCommand | None:
    """The file's ``client.command``, placeholders of place filled and paths anchored as the server's are."""
    if "client" not in source.data:
        return None
    words = _words(source, ("client", "command"))
    try:
        return client_command(words, here=source.path.parent)
    except UsageError as error:
        raise source.error(("client", "command"), str(error)) from None


def server_spec_of_command(words: Sequence[str], *, protocol: Protocol, here: Path) -> ServerSpec:
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


def scenario_of(source: Source) -> Scenario:
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
