"""The server, client and scenario of an expectation file or a command line: what is run, and how."""

from __future__ import annotations

import shlex
from typing import Any

from harness.model.command_lines import client_command, server_spec_of_command
from harness.model.errors import HarnessError, UsageError
from harness.model.expectations import (
    ServerSpec,
)
from harness.model.hints import closest
from harness.model.loader.marks import Path_, Source
from harness.model.record import replace
from harness.model.scenario import (
    CLEAN_EXITS,
    DEFAULT_PROTOCOL,
    STOP_BY_EXIT,
    ClientCommand,
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
