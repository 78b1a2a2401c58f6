"""What an expectation file says, as values: the server, the scenario, and the assertions.

The YAML form is read by :mod:`harness.model.loader`; matching is
:mod:`harness.analysis.match`.  Keeping the model apart from both lets Python code
(the ``harness_run`` fixture) build the same assertions without YAML.

An assertion has one *check* — an ordered sequence of steps, a count, a
step that must never happen (both optionally within a :class:`Window`), a
promise per occurrence (:class:`EachCheck`), an end-state fact, or a golden
trace — and the roles it applies to (:class:`RoleSelector`).
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from harness.model.durations import duration_text
from harness.model.hints import closest
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
from harness.model.steps import Capture, SpawnStep, Step, SyscallStep, simple_steps
from harness.model.sweep import SweepCheck

#: The suffix that marks a file as an expectation file: pytest collects only these, ``harness check`` looks for
#: them, and the commands that take a source run the server of one.
EXPECTATION_SUFFIX = ".expect.yaml"

#: How a golden file's name ends: what ``golden:`` keys and ``harness diff`` recognise.
GOLDEN_SUFFIX = ".golden.yaml"


@dataclass(frozen=True, slots=True)
class Location:
    """Where something was written: for messages and for pytest's report header."""

    path: str
    line: int
    """1-based line."""
    column: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}" if self.line else self.path


@dataclass(frozen=True, slots=True)
class FileWarning:
    """Something in a file that is valid but most likely a mistake (a capture used once): shown, not failed."""

    location: Location
    message: str
    excerpt: str = ""
    """The line and a caret under the column."""

    def __str__(self) -> str:
        return f"{self.location}: warning: {self.message}" + (f"\n{self.excerpt}" if self.excerpt else "")


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
            close = closest(words[0], QUANTIFIERS)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(f"role {text!r}: {hint}a role family takes 'every' or 'any' before it")
        if not (pattern in ROLE_WORDS or _ROLE.fullmatch(pattern) or ("*" in pattern and quantifier)):
            close = closest(pattern, [*ROLE_WORDS, ROOT_ROLE])
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
class Window:
    """Where a ``never`` or ``count`` looks: from each event matching ``after`` to the next matching ``before``.

    Either end may be left open (the role's first or last event).  The
    window repeats: after a ``before``, the next ``after`` opens it again, so
    "no accept between a SIGCHLD and its wait" holds for every SIGCHLD.
    Captures bound by ``after`` are visible to the step and to ``before``.
    ``within`` also closes it by the clock: only events that happened at most
    that many seconds after the ``after`` event count (a call: when it
    returned).  That depends on the machine's speed, so it is for soak runs;
    event-order windows are the ones a CI can rely on.
    """

    after: Step | None = None
    before: Step | None = None
    within: float | None = None
    """Seconds after the ``after`` event at which the window closes, if it is bounded in time."""

    def __str__(self) -> str:
        within = f"within {duration_text(self.within)} " if self.within is not None else ""
        ends = [
            f"{within}after {self.after.text!r}" if self.after else "",
            f"before {self.before.text!r}" if self.before else "",
        ]
        return " and ".join(end for end in ends if end)

    @property
    def bounded(self) -> bool:
        """Whether the window leaves out any event of the role."""
        return self.after is not None or self.before is not None or self.within is not None


#: The whole role: no window.
EVERYWHERE = Window()


@dataclass(frozen=True, slots=True)
class CountCheck:
    """The number of events matching ``step`` compares with a number or with the scenario's connections."""

    step: Step
    operator: Operator
    value: int | str
    """A number, ``connections``, or an expression of them like ``connections + 2`` (harness.model.amounts)."""
    window: Window = EVERYWHERE


@dataclass(frozen=True, slots=True)
class NeverCheck:
    """No event of the role matches ``step`` (within the window)."""

    step: Step
    window: Window = EVERYWHERE


@dataclass(frozen=True, slots=True)
class EachCheck:
    """A promise per occurrence: after every event matching ``each``, the ``then`` steps follow.

    The ``then`` steps match in the role, in order, after the occurrence and
    before the next event matching ``each``.  Each occurrence binds its
    captures afresh (the file's ``start_after`` captures stay visible).  The
    ``child`` steps then match, in order, in the process whose pid the
    capture ``in_capture`` holds — by default the one a spawning step
    (``clone -> $child``, ``spawn process $child``) bound — with this
    occurrence's captures visible: the promise that crosses roles.
    """

    each: Step
    then: tuple[Step, ...] = ()
    child: tuple[Step, ...] = ()
    in_capture: str | None = None
    """The capture naming the process of the ``child`` steps."""
    lines: tuple[int, ...] = ()
    """The line of the ``each`` step, then of each ``then`` step, then of each ``child`` step."""


#: The end-state facts an assertion can name.
Fact = Literal[
    "no zombie left",
    "reaped before the next accept",
    "no accepted descriptor left open",
    "closes the listening socket",
]
#: What each fact promises (harness.analysis.facts derives them).
FACTS: dict[Fact, str] = {
    "no zombie left": "every child that exited was reaped by its parent (a wait, or the kernel under SIG_IGN) "
    "before the parent exited",
    "reaped before the next accept": "every child that exited was reaped by its parent before the parent's next "
    "accept returned a connection (or before it exited, if it accepted no more)",
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


@dataclass(frozen=True, slots=True)
class InForceCheck:
    """At every event of the role matching ``at``, the signal's disposition in force was set as ``disposition`` says.

    ``disposition`` is an ``rt_sigaction`` step naming the signal
    (``rt_sigaction(SIGCHLD, act.flags=!SA_RESTART)``): it must match the
    ``rt_sigaction`` whose ``act`` was in force when each ``at`` call was
    entered, the process's own or inherited across fork.  A step that matched
    an earlier install proves nothing about a later re-install; this does.
    At least one event must match ``at``: a promise about no call is no promise.
    """

    at: Step
    disposition: SyscallStep
    signal: str
    """The signal the disposition step names."""


#: Calls whose result is the pid of the process they created.
SPAWNING_CALLS = ("clone", "clone3", "fork", "vfork")


def spawned_capture(steps: tuple[Step, ...]) -> str | None:
    """The capture of the last step binding a created process's pid (``clone -> $child``, ``spawn process $w``).

    It names the process of an ``each`` assertion's ``child`` steps unless ``in:`` names another capture.
    """
    found = None
    for step in steps:
        if isinstance(step, SyscallStep) and step.name in SPAWNING_CALLS and isinstance(step.result, Capture):
            found = step.result.name
        elif isinstance(step, SpawnStep) and step.kind != "thread" and isinstance(step.child, Capture):
            found = step.child.name
    return found


Check = SequenceCheck | CountCheck | NeverCheck | EachCheck | FactCheck | GoldenCheck | InForceCheck | SweepCheck


@dataclass(frozen=True, slots=True)
class Assertion:
    """One promise about a run: a name a person reads, the roles, the check."""

    name: str
    roles: RoleSelector
    check: Check
    location: Location | None = None
    whole_trace: bool = False
    """Match from the first event, ignoring the file's ``start_after`` (for set-up done before it)."""
    start_after: Step | None = None
    """This assertion's own start marker, in place of the file's (whose captures stay visible to it)."""


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
    warnings: tuple[FileWarning, ...] = ()
    """What is valid but most likely a typo, in file order: ``harness check`` and the plugin show them."""


def step_syscalls(steps: list[Step]) -> tuple[str, ...]:
    """The syscalls a list of steps names, each once, in order."""
    return tuple(
        dict.fromkeys(simple.name for step in steps for simple in simple_steps(step) if isinstance(simple, SyscallStep))
    )
