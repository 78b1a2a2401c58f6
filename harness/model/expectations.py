"""What an expectation file says, as values: the server, the scenario, and the assertions.

The YAML form is read by :mod:`harness.faces.loader`; matching is
:mod:`harness.analysis.match`.  Keeping the model apart from both lets Python code
(the ``harness_run`` fixture) build the same assertions without YAML.

An assertion has one *check* — an ordered sequence of steps, a count, a
step that must never happen, an end-state fact, or a golden trace — and the
roles it applies to (:class:`RoleSelector`).
"""

from __future__ import annotations

import difflib
import fnmatch
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from harness.model.injection import Injection
from harness.model.roles import ROOT_ROLE
from harness.model.scenario import (
    DEFAULT_PROTOCOL,
    DEFAULT_TIMEOUT,
    STOP_BY_ITSELF,
    ClientCommand,
    ClientSpec,
    Protocol,
    Scenario,
    Stop,
)
from harness.model.steps import Step, SyscallStep

#: The suffix that marks a file as an expectation file: pytest collects only these, ``harness check`` looks for
#: them, and the commands that take a source run the server of one.
EXPECTATION_SUFFIX = ".expect.yaml"


@dataclass(frozen=True, slots=True)
class Location:
    """Where something was written: for messages and for pytest's report header."""

    path: str
    line: int
    """1-based line."""
    column: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}" if self.line else self.path


# -- roles ------------------------------------------------------------------------

_ROLE = re.compile(r"main(\.\d+)*(/t\d+)?")
#: Words that stand for a family of roles, as a reader would say them.
ROLE_WORDS = {
    "child": re.compile(r"main\.\d+"),
    "grandchild": re.compile(r"main\.\d+\.\d+"),
    "process": re.compile(r"main(\.\d+)*"),
    "thread": re.compile(r"main(\.\d+)*/t\d+"),
}
QUANTIFIERS = ("every", "any")


@dataclass(frozen=True, slots=True)
class RoleSelector:
    """``main``, ``every child``, ``any main.*``: which roles an assertion is about.

    ``every`` requires the check to hold in each selected role (and at least
    one role to be selected: a promise about no process at all is no promise);
    ``any`` requires it in at least one; a bare role names exactly one task.
    """

    text: str
    quantifier: str | None
    pattern: str

    @classmethod
    def parse(cls, text: str) -> RoleSelector:
        """Read a selector, raising ValueError with the fix for a malformed one."""
        words = text.split()
        quantifier = words[0] if len(words) == 2 and words[0] in QUANTIFIERS else None
        pattern = words[-1] if words else ""
        if len(words) not in (1, 2):
            raise ValueError(
                f"role {text!r} is not a role: write a role (main, main.1), "
                "or 'every'/'any' and a role family (child, grandchild, process, thread) or a pattern like main.*"
            )
        if len(words) == 2 and quantifier is None:
            close = difflib.get_close_matches(words[0], QUANTIFIERS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(f"role {text!r}: {hint}a role family takes 'every' or 'any' before it")
        if not (pattern in ROLE_WORDS or _ROLE.fullmatch(pattern) or ("*" in pattern and quantifier)):
            close = difflib.get_close_matches(pattern, [*ROLE_WORDS, ROOT_ROLE], n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(
                f"role {text!r} names no task: {hint}roles are main, main.1, main.1.2, main/t1; "
                "families are child, grandchild, process, thread"
            )
        if quantifier is None and (pattern in ROLE_WORDS or "*" in pattern):
            raise ValueError(f"role {text!r} stands for several roles: say 'every {pattern}' or 'any {pattern}'")
        return cls(text, quantifier, pattern)

    def select(self, roles: list[str]) -> list[str]:
        """The roles of a trace this selector picks, in the trace's order."""
        if self.pattern in ROLE_WORDS:
            family = ROLE_WORDS[self.pattern]
            return [role for role in roles if family.fullmatch(role)]
        if "*" in self.pattern:
            return [role for role in roles if fnmatch.fnmatchcase(role, self.pattern)]
        return [role for role in roles if role == self.pattern]

    def __str__(self) -> str:
        return self.text


MAIN = RoleSelector(ROOT_ROLE, None, ROOT_ROLE)


# -- checks -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SequenceCheck:
    """The steps happen in this order in the role; other events may come between unless ``adjacent``."""

    steps: tuple[Step, ...]
    adjacent: bool = False
    lines: tuple[int, ...] = ()
    """The line of each step in its file, when it came from one."""


#: How a count compares with its number: ``equals`` (==), ``at_least`` (>=), ``at_most`` (<=).
Operator = Literal["==", ">=", "<="]


@dataclass(frozen=True, slots=True)
class CountCheck:
    """The number of events matching ``step`` compares with a number or with the scenario's connections."""

    step: Step
    operator: Operator
    value: int | str
    """A number, or ``connections``."""


@dataclass(frozen=True, slots=True)
class NeverCheck:
    """No event of the role matches ``step``."""

    step: Step


#: The end-state facts an assertion can name.
Fact = Literal["no zombie left", "no accepted descriptor left open", "closes the listening socket"]
#: What each fact promises (harness.analysis.facts derives them).
FACTS: dict[Fact, str] = {
    "no zombie left": "every child that exited was reaped by its parent (a wait, or the kernel under SIG_IGN) "
    "before the parent exited",
    "no accepted descriptor left open": "each descriptor the role accepted is closed by its process "
    "before the next accept and before it exits",
    "closes the listening socket": "the role closes every listening socket it inherited before it exits",
}


@dataclass(frozen=True, slots=True)
class FactCheck:
    """An end-state fact derived from the whole trace (see :data:`FACTS`)."""

    fact: Fact


@dataclass(frozen=True, slots=True)
class GoldenCheck:
    """The run's normalized trace equals a recorded golden trace."""

    path: Path


Check = SequenceCheck | CountCheck | NeverCheck | FactCheck | GoldenCheck


@dataclass(frozen=True, slots=True)
class Assertion:
    """One promise about a run: a name a person reads, the roles, the check."""

    name: str
    roles: RoleSelector
    check: Check
    location: Location | None = None
    whole_trace: bool = False
    """Match from the first event, ignoring the file's ``start_after`` (for set-up done before it)."""


# -- the file ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """The server to run: a bundled variant by name, or any command with a ``{port}`` placeholder."""

    variant: str | None = None
    command: tuple[str, ...] = ()
    protocol: Protocol = DEFAULT_PROTOCOL
    stop: Stop = STOP_BY_ITSELF
    """How its run ends once the clients are done (``server.stop``, ``server.grace``)."""
    client_command: ClientCommand | None = None
    """A client of the user's own, run in place of the protocol's (the file's ``client.command``)."""

    @property
    def client(self) -> ClientSpec:
        """What the clients of this server are: the user's command, or the protocol's own client."""
        return self.client_command or self.protocol

    def __str__(self) -> str:
        return self.variant or shlex.join(self.command)


@dataclass(frozen=True, slots=True)
class ExpectationFile:
    """Everything one file asks for: run this server in this scenario, then check these assertions."""

    path: Path
    server: ServerSpec
    scenario: Scenario
    assertions: tuple[Assertion, ...]
    start_after: Step | None = None
    """Match only the events after the first one matching this step (its captures are global)."""
    timeout: float = DEFAULT_TIMEOUT
    syscalls: tuple[str, ...] = field(default=())
    """Calls the steps name beyond the tracer's default set: traced too, so a step can match them."""
    injections: tuple[Injection, ...] = ()
    """Faults and signals the harness injects into the run (harness.model.injection)."""


def step_syscalls(steps: list[Step]) -> tuple[str, ...]:
    """The syscalls a list of steps names, each once, in order."""
    return tuple(dict.fromkeys(step.name for step in steps if isinstance(step, SyscallStep)))
