"""The step language: one line of an expectation, written the way strace prints the event.

A reader who knows ``strace -f`` output should read every step without the
docs open, so steps borrow its notation::

    accept4 -> $conn                      a call, its result captured
    close($conn)                          an argument compared with a capture
    wait4(-1, _, WNOHANG) -> child        positional arguments, ``_`` for any,
                                          a result that is a pid of a child
    accept4 -> ERESTARTSYS                an errno, the restart codes included
    accept4 -> EINTR                      what the program saw of an interrupted call
    accept4 -> restarted                  an interrupted call the kernel entered again
    rt_sigaction(SIGCHLD, act.flags=!SA_RESTART)   a path into a decoded struct,
                                          a flag that must be absent
    --- SIGCHLD {si_code=CLD_EXITED, si_pid=$child, si_status=0} ---
    +++ exited 0 +++       +++ killed SIGTERM +++
    spawn process $child   exec
    accept4 -> $conn @ serve              made from Python code: a function,
    close($conn) @ myserver.py:41         a file and line, or a file
                                          (needs the Python frames, which a
                                          step with @ turns on)

Parsing is separate from matching (:mod:`harness.analysis.match`): a step is a value,
checked once when the file is loaded, with the column of any mistake and the
nearest valid name for a misspelt syscall, errno, signal or constant.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import NoReturn

from harness.model import kernel, kernel_flags
from harness.model.hints import closest
from harness.model.record import replace
from harness.model.syscalls import argument_order
from harness.model.syscalls.structs import SIGINFO_FIELDS

# -- values ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Wildcard:
    """``_``, or a result left out: anything matches."""

    def __str__(self) -> str:
        return "_"


@dataclass(frozen=True, slots=True)
class Literal:
    """A number or a name; a name also matches a flag list that contains it."""

    value: int | str

    def __str__(self) -> str:
        return str(self.value)


@dataclass(frozen=True, slots=True)
class Flags:
    """``A|B|!C``: a flag list holding every ``present`` name and no ``absent`` one."""

    present: tuple[str, ...]
    absent: tuple[str, ...]

    def __str__(self) -> str:
        return "|".join([*self.present, *(f"!{name}" for name in self.absent)])


@dataclass(frozen=True, slots=True)
class Capture:
    """``$name``: bound by the first event that matches, compared by every later step."""

    name: str

    def __str__(self) -> str:
        return f"${self.name}"


@dataclass(frozen=True, slots=True)
class ChildPid:
    """``child``: the pid of a process that the event's own process created."""

    def __str__(self) -> str:
        return "child"


@dataclass(frozen=True, slots=True)
class ErrnoName:
    """A result that is an error: ``EINTR``, ``ECHILD``, or a restart code like ``ERESTARTSYS``."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class NoResult:
    """``?``: the call never returned (``exit_group``, or a call the task died in)."""

    def __str__(self) -> str:
        return "?"


@dataclass(frozen=True, slots=True)
class Restarted:
    """``restarted``: the call was interrupted and the kernel entered it again; the program never saw it end."""

    def __str__(self) -> str:
        return "restarted"


Value = Wildcard | Literal | Flags | Capture | ChildPid
Result = Wildcard | Literal | Capture | ChildPid | ErrnoName | NoResult | Restarted

# -- steps ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyscallStep:
    """A system call, by name, with optional argument and result patterns."""

    text: str
    name: str
    args: tuple[tuple[str, Value], ...] = ()
    """(argument path, pattern); a path like ``act.flags`` reaches into a decoded struct."""
    result: Result = Wildcard()
    where: str | None = None
    """``@ WHERE``: the Python code that must have made the call (see :func:`harness.model.frames.matches`)."""


@dataclass(frozen=True, slots=True)
class SignalStep:
    """A signal delivered to the task, with optional siginfo patterns."""

    text: str
    name: str
    fields: tuple[tuple[str, Value], ...] = ()
    where: str | None = None
    """``@ WHERE``: the Python code the task was running when the signal came."""


@dataclass(frozen=True, slots=True)
class ExitStep:
    """The task ended: ``exited`` with a code, ``killed`` by a signal, or either."""

    text: str
    how: str | None = None
    value: Value = Wildcard()


@dataclass(frozen=True, slots=True)
class SpawnStep:
    """The task created a process or a thread; ``child`` matches its pid (capture) or role (name)."""

    text: str
    kind: str | None = None
    child: Value = Wildcard()
    where: str | None = None
    """``@ WHERE``: the Python code that forked or started the thread."""


@dataclass(frozen=True, slots=True)
class ExecStep:
    """The task replaced its program."""

    text: str


@dataclass(frozen=True, slots=True)
class AnyStep:
    """``any_of: [STEP, STEP]``: an event that matches one of the options (the first that does binds).

    Written as a YAML mapping rather than a string, since "exited 0 or killed
    by SIGTERM" is two steps a reader already knows, not a new notation.
    """

    text: str
    options: tuple[SimpleStep, ...]


SimpleStep = SyscallStep | SignalStep | ExitStep | SpawnStep | ExecStep
Step = SimpleStep | AnyStep


def any_of(options: tuple[SimpleStep, ...]) -> AnyStep:
    """The alternative of ``options``, its text as the file would write it."""
    return AnyStep("any_of: [" + ", ".join(option.text for option in options) + "]", options)


def simple_steps(step: Step) -> tuple[SimpleStep, ...]:
    """The one-event steps a step stands for: itself, or its alternatives."""
    return step.options if isinstance(step, AnyStep) else (step,)


def captures_of(step: Step) -> list[str]:
    """Every capture a step names, in order: what it binds or compares."""
    values: list[Value | Result] = []
    match step:
        case AnyStep():
            return list(dict.fromkeys(name for option in step.options for name in captures_of(option)))
        case SyscallStep():
            values = [value for _, value in step.args] + [step.result]
        case SignalStep():
            values = [value for _, value in step.fields]
        case ExitStep():
            values = [step.value]
        case SpawnStep():
            values = [step.child]
    return [value.name for value in values if isinstance(value, Capture)]


# -- parsing --------------------------------------------------------------------


class StepError(ValueError):
    """A step that cannot be parsed; ``offset`` is the 0-based column within the step's text."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<arrow>->|→)
    | (?P<mark>---|\+\+\+)
    | (?P<capture>\$[A-Za-z_]\w*)
    | (?P<number>-?\d+)
    | (?P<name>[A-Za-z_][\w./]*)
    | (?P<punct>[(){},=|!?])
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    offset: int


def _tokens(text: str) -> Iterator[_Token]:
    position = 0
    while position < len(text):
        if text[position:].isspace():
            return
        start = len(text) - len(text[position:].lstrip())
        if text.startswith("=>", start):
            raise StepError("'=>' is not a result arrow: write '->', as in 'accept4 -> $conn'", start)
        found = _TOKEN.match(text, position)
        if found is None or found.lastgroup is None:
            raise StepError(f"unexpected character {text[start]!r}", start)
        kind = found.lastgroup
        yield _Token(kind, found.group(kind), found.start(kind))
        position = found.end()


def _hint(name: str, choices: Collection[str]) -> str:
    close = closest(name, choices)
    return f"; did you mean {close[0]!r}?" if close else ""


class _Parser:
    def __init__(self, text: str, syscalls: Collection[str]) -> None:
        self.text = text
        self.syscalls = syscalls
        self.tokens = list(_tokens(text))
        self.position = 0

    # token stream

    def peek(self, text: str | None = None, kind: str | None = None) -> bool:
        if self.position >= len(self.tokens):
            return False
        token = self.tokens[self.position]
        return (text is None or token.text == text) and (kind is None or token.kind == kind)

    def take(self, what: str, text: str | None = None, kind: str | None = None) -> _Token:
        if not self.peek(text, kind):
            self.fail(f"expected {what}")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def fail(self, message: str, token: _Token | None = None) -> NoReturn:
        if token is None and self.position < len(self.tokens):
            token = self.tokens[self.position]
        if token is None:
            raise StepError(f"{message} at the end of the step", len(self.text.rstrip()))
        raise StepError(f"{message}, found {token.text!r}", token.offset)

    def done(self) -> None:
        if self.position < len(self.tokens):
            self.fail("expected the end of the step")

    # grammar

    def step(self) -> SimpleStep:
        if not self.tokens:
            raise StepError("empty step: write a call (accept4 -> $conn), a signal (--- SIGCHLD) or an exit", 0)
        first = self.tokens[0]
        if first.text == "---":
            return self.signal()
        if first.text == "+++":
            return self.exit()
        if first.text == "spawn":
            return self.spawn()
        if first.text == "exec":
            self.position = 1
            self.done()
            return ExecStep(self.text)
        return self.syscall()

    def syscall(self) -> SyscallStep:
        token = self.take("a syscall name", kind="name")
        if token.text not in self.syscalls:
            raise StepError(f"unknown syscall {token.text!r}{_hint(token.text, self.syscalls)}", token.offset)
        args: list[tuple[str, Value]] = []
        if self.peek("("):
            self.position += 1
            args = self.arguments(token.text)
            self.take("',' or ')'", ")")
        result: Result = Wildcard()
        if self.peek(kind="arrow"):
            self.position += 1
            result = self.result()
        self.done()
        return SyscallStep(self.text, token.text, tuple(args), result)

    def arguments(self, call: str) -> list[tuple[str, Value]]:
        order = argument_order(call)
        args: list[tuple[str, Value]] = []
        index = 0
        named = False
        while not self.peek(")"):
            if args or index:
                self.take("',' or ')'", ",")
            if (
                self.peek(kind="name")
                and self.position + 1 < len(self.tokens)
                and self.tokens[self.position + 1].text == "="
            ):
                key = self.take("an argument name", kind="name")
                root = key.text.split(".")[0]
                if root not in order:
                    known = ", ".join(order) or "none"
                    raise StepError(
                        f"{call} has no argument {root!r}{_hint(root, order)} (its arguments: {known})", key.offset
                    )
                if any(path == key.text for path, _ in args):
                    raise StepError(f"{key.text} is given twice", key.offset)
                self.take("'='", "=")
                args.append((key.text, self.value()))
                named = True
            else:
                start = self.tokens[self.position] if self.position < len(self.tokens) else None
                if named:
                    self.fail("a positional argument cannot follow a named one: name it too, e.g. fd=3", start)
                if index >= len(order):
                    plural = "s" if len(order) != 1 else ""
                    self.fail(f"{call} has {len(order)} argument{plural} ({', '.join(order)})", start)
                value = self.value()
                if not isinstance(value, Wildcard):
                    args.append((order[index], value))
            index += 1
        return args

    def value(self) -> Value:
        if self.peek(kind="capture"):
            return Capture(self.take("a capture", kind="capture").text[1:])
        if self.peek(kind="number"):
            return Literal(int(self.take("a number", kind="number").text))
        if self.peek("!") or self.peek(kind="name"):
            return self.names()
        self.fail("expected a value (a number, a name, $capture or _)")

    def names(self) -> Value:
        present: list[str] = []
        absent: list[str] = []
        while True:
            negated = self.peek("!")
            if negated:
                self.position += 1
            token = self.take("a name", kind="name")
            if token.text == "_" and not negated and not present:
                return Wildcard()
            if token.text == "child" and not negated and not present:
                return ChildPid()
            self.check_constant(token)
            (absent if negated else present).append(token.text)
            if not self.peek("|"):
                break
            self.position += 1
        if len(present) == 1 and not absent:
            return Literal(present[0])
        return Flags(tuple(present), tuple(absent))

    def check_constant(self, token: _Token) -> None:
        if token.text not in kernel_flags.SYMBOLIC_VALUES:
            raise StepError(
                f"unknown name {token.text!r}{_hint(token.text, kernel_flags.SYMBOLIC_VALUES)} "
                "(values are numbers, kernel constants like WNOHANG or SIGCHLD, $captures, child or _)",
                token.offset,
            )

    def result(self) -> Result:
        if self.peek("?"):
            self.position += 1
            return NoResult()
        if self.peek(kind="number"):
            token = self.take("a number", kind="number")
            if token.text.startswith("-"):
                raise StepError(
                    f"a failed call is matched by its errno, not {token.text}: write e.g. '-> EINTR'", token.offset
                )
            return Literal(int(token.text))
        if self.peek(kind="capture"):
            return Capture(self.take("a capture", kind="capture").text[1:])
        token = self.take("a result (a number, an errno like EINTR, $capture, child, restarted, ? or _)", kind="name")
        if token.text == "_":
            return Wildcard()
        if token.text == "restarted":
            return Restarted()
        if token.text == "child":
            return ChildPid()
        if token.text not in kernel.ERRNO_NUMBERS:
            raise StepError(f"unknown errno {token.text!r}{_hint(token.text, kernel.ERRNO_NUMBERS)}", token.offset)
        return ErrnoName(token.text)

    def signal(self) -> SignalStep:
        self.take("'---'", "---")
        token = self.take("a signal name", kind="name")
        if token.text not in kernel.SIGNAL_NUMBERS:
            raise StepError(f"unknown signal {token.text!r}{_hint(token.text, kernel.SIGNAL_NUMBERS)}", token.offset)
        fields: list[tuple[str, Value]] = []
        if self.peek("{"):
            self.position += 1
            while not self.peek("}"):
                if fields:
                    self.take("',' between siginfo fields", ",")
                key = self.take("a siginfo field like si_pid", kind="name")
                if key.text not in SIGINFO_FIELDS:
                    raise StepError(
                        f"unknown siginfo field {key.text!r}{_hint(key.text, SIGINFO_FIELDS)} "
                        f"(fields: {', '.join(SIGINFO_FIELDS)})",
                        key.offset,
                    )
                self.take("'='", "=")
                fields.append((key.text, self.value()))
            self.position += 1
        if self.peek("---"):
            self.position += 1
        self.done()
        return SignalStep(self.text, token.text, tuple(fields))

    def exit(self) -> ExitStep:
        self.take("'+++'", "+++")
        how = self.take("'exited' or 'killed'", kind="name")
        if how.text not in ("exited", "killed"):
            self.fail("expected 'exited' or 'killed'", how)
        if self.peek("with"):  # strace's own wording: +++ exited with 0 +++
            self.position += 1
        value: Value = Wildcard()
        if not self.peek("+++") and self.position < len(self.tokens):
            value = self.value()
            if how.text == "killed" and isinstance(value, Literal) and value.value not in kernel.SIGNAL_NUMBERS:
                self.fail("expected the signal that killed the task, like SIGTERM", self.tokens[self.position - 1])
            code = value.value if isinstance(value, Literal) else None
            if how.text == "exited" and isinstance(value, Literal | Flags) and not isinstance(code, int):
                self.fail(
                    "expected the exit code, a number (for a signal, write +++ killed SIGTERM)",
                    self.tokens[self.position - 1],
                )
        if self.peek("+++"):
            self.position += 1
        self.done()
        return ExitStep(self.text, how.text, value)

    def spawn(self) -> SpawnStep:
        self.take("'spawn'", "spawn")
        kind = None
        if self.peek("process") or self.peek("thread"):
            kind = self.take("process or thread", kind="name").text
        child: Value = Wildcard()
        if self.peek(kind="capture"):
            child = Capture(self.take("a capture", kind="capture").text[1:])
        elif self.peek(kind="name"):
            child = Literal(self.take("a role", kind="name").text)
        self.done()
        return SpawnStep(self.text, kind, child)


#: What may follow ``@``: a function name (``<module>`` too), ``FILE.py``, ``FILE.py:LINE``, or a path ending so.
_WHERE = re.compile(r"(?:[\w./-]+\.py(?::\d+)?|<?[A-Za-z_]\w*>?)")


def parse_step(text: str, *, syscalls: Collection[str] | None = None) -> SimpleStep:
    """Parse one step; ``syscalls`` are the valid call names (default: every call of this architecture)."""
    if syscalls is None:
        from harness.model.syscalls import known_syscalls

        syscalls = known_syscalls()
    body, at, where = text.partition("@")
    step = _Parser(body if at else text, syscalls).step()
    if not at:
        return step
    offset = len(body) + 1 + (len(where) - len(where.lstrip()))
    where = where.strip()
    if not isinstance(step, SyscallStep | SignalStep | SpawnStep):
        raise StepError("'@' names the Python code of a call, a signal or a spawn; an exit or exec has none", len(body))
    if not _WHERE.fullmatch(where):
        raise StepError(
            "after '@' write a function (@ serve), a file and line (@ myserver.py:41) or a file (@ myserver.py)",
            offset,
        )
    return replace(step, text=text, where=where)


def where_of(step: Step) -> tuple[str, ...]:
    """The ``@ WHERE`` clauses of a step (of each option of an ``any_of``)."""
    options = step.options if isinstance(step, AnyStep) else (step,)
    return tuple(option.where for option in options if not isinstance(option, ExitStep | ExecStep) and option.where)


#: Builds a step from its text; the loader passes one that knows the architecture's calls.
StepParser = Callable[[str], Step]
