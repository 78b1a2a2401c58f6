"""The step language: every form parses to the right value, every mistake to a message and its column."""

from __future__ import annotations

import pytest

from harness.model.steps import (
    Capture,
    ChildPid,
    ErrnoName,
    ExecStep,
    ExitStep,
    Flags,
    Literal,
    NoResult,
    Restarted,
    SignalStep,
    SpawnStep,
    Step,
    StepError,
    SyscallStep,
    Wildcard,
    captures_of,
    parse_step,
)

# -- every form -------------------------------------------------------------------

FORMS: list[tuple[str, Step]] = [
    # calls and their results
    ("accept4", SyscallStep("accept4", "accept4")),
    ("accept4 -> $conn", SyscallStep("accept4 -> $conn", "accept4", (), Capture("conn"))),
    ("accept4 -> 4", SyscallStep("accept4 -> 4", "accept4", (), Literal(4))),
    ("accept4 → 4", SyscallStep("accept4 → 4", "accept4", (), Literal(4))),
    ("wait4 -> _", SyscallStep("wait4 -> _", "wait4", (), Wildcard())),
    ("wait4 -> child", SyscallStep("wait4 -> child", "wait4", (), ChildPid())),
    ("accept4 -> ERESTARTSYS", SyscallStep("accept4 -> ERESTARTSYS", "accept4", (), ErrnoName("ERESTARTSYS"))),
    ("accept4 -> EINTR", SyscallStep("accept4 -> EINTR", "accept4", (), ErrnoName("EINTR"))),
    ("wait4 -> ECHILD", SyscallStep("wait4 -> ECHILD", "wait4", (), ErrnoName("ECHILD"))),
    ("accept4 -> restarted", SyscallStep("accept4 -> restarted", "accept4", (), Restarted())),
    ("exit_group -> ?", SyscallStep("exit_group -> ?", "exit_group", (), NoResult())),
    # arguments: positional (in strace's order, `_` for any), named, paths into structs, flags
    ("close($conn)", SyscallStep("close($conn)", "close", (("fd", Capture("conn")),))),
    ("listen($listen)", SyscallStep("listen($listen)", "listen", (("fd", Capture("listen")),))),
    (
        "wait4(-1, _, WNOHANG) -> child",
        SyscallStep(
            "wait4(-1, _, WNOHANG) -> child",
            "wait4",
            (("pid", Literal(-1)), ("options", Literal("WNOHANG"))),
            ChildPid(),
        ),
    ),
    (
        "accept4(3, _, _, SOCK_CLOEXEC)",
        SyscallStep(
            "accept4(3, _, _, SOCK_CLOEXEC)", "accept4", (("fd", Literal(3)), ("flags", Literal("SOCK_CLOEXEC")))
        ),
    ),
    (
        "exit_group(status=0) -> ?",
        SyscallStep("exit_group(status=0) -> ?", "exit_group", (("status", Literal(0)),), NoResult()),
    ),
    ("accept4(fd=_)", SyscallStep("accept4(fd=_)", "accept4", (("fd", Wildcard()),))),
    (
        "rt_sigaction(SIGCHLD, act.flags=!SA_RESTART) -> 0",
        SyscallStep(
            "rt_sigaction(SIGCHLD, act.flags=!SA_RESTART) -> 0",
            "rt_sigaction",
            (("signal", Literal("SIGCHLD")), ("act.flags", Flags((), ("SA_RESTART",)))),
            Literal(0),
        ),
    ),
    (
        "clone(flags=CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|!CLONE_THREAD)",
        SyscallStep(
            "clone(flags=CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|!CLONE_THREAD)",
            "clone",
            (("flags", Flags(("CLONE_CHILD_SETTID", "CLONE_CHILD_CLEARTID"), ("CLONE_THREAD",))),),
        ),
    ),
    (
        "wait4(options=WNOHANG|__WALL)",
        SyscallStep("wait4(options=WNOHANG|__WALL)", "wait4", (("options", Flags(("WNOHANG", "__WALL"), ())),)),
    ),
    (
        "kill(child, SIGTERM)",
        SyscallStep("kill(child, SIGTERM)", "kill", (("pid", ChildPid()), ("signal", Literal("SIGTERM")))),
    ),
    # a call without a decoder of its own: its arguments are named after the prototype
    ("read(3)", SyscallStep("read(3)", "read", (("fd", Literal(3)),))),
    # signals
    ("--- SIGCHLD", SignalStep("--- SIGCHLD", "SIGCHLD")),
    ("--- SIGCHLD ---", SignalStep("--- SIGCHLD ---", "SIGCHLD")),
    (
        "--- SIGCHLD {si_code=CLD_EXITED, si_pid=$child, si_status=0} ---",
        SignalStep(
            "--- SIGCHLD {si_code=CLD_EXITED, si_pid=$child, si_status=0} ---",
            "SIGCHLD",
            (("si_code", Literal("CLD_EXITED")), ("si_pid", Capture("child")), ("si_status", Literal(0))),
        ),
    ),
    # exits, in our words and in strace's
    ("+++ exited 0 +++", ExitStep("+++ exited 0 +++", "exited", Literal(0))),
    ("+++ exited with 0 +++", ExitStep("+++ exited with 0 +++", "exited", Literal(0))),
    ("+++ exited +++", ExitStep("+++ exited +++", "exited", Wildcard())),
    ("+++ killed SIGTERM +++", ExitStep("+++ killed SIGTERM +++", "killed", Literal("SIGTERM"))),
    ("+++ killed", ExitStep("+++ killed", "killed", Wildcard())),
    ("+++ killed $sig +++", ExitStep("+++ killed $sig +++", "killed", Capture("sig"))),
    # spawns and exec
    ("spawn", SpawnStep("spawn")),
    ("spawn process $child", SpawnStep("spawn process $child", "process", Capture("child"))),
    ("spawn thread", SpawnStep("spawn thread", "thread")),
    ("spawn main.1", SpawnStep("spawn main.1", None, Literal("main.1"))),
    ("exec", ExecStep("exec")),
]


@pytest.mark.parametrize(("text", "step"), FORMS, ids=[text for text, _ in FORMS])
def test_every_form_parses_to_its_value(text: str, step: Step) -> None:
    assert parse_step(text) == step


def test_the_text_is_kept_as_written() -> None:
    text = "  wait4( -1 , _ ,WNOHANG )  ->  child  "
    step = parse_step(text)
    assert isinstance(step, SyscallStep)
    assert step.text == text
    assert step.args == (("pid", Literal(-1)), ("options", Literal("WNOHANG")))


def test_values_print_as_they_are_written() -> None:
    assert [str(value) for value in (Wildcard(), Literal(4), Capture("conn"), ChildPid())] == [
        "_",
        "4",
        "$conn",
        "child",
    ]
    assert str(Flags(("CLONE_VM", "CLONE_FS"), ("CLONE_THREAD",))) == "CLONE_VM|CLONE_FS|!CLONE_THREAD"
    assert [str(result) for result in (ErrnoName("EINTR"), NoResult(), Restarted())] == ["EINTR", "?", "restarted"]


@pytest.mark.parametrize(
    ("text", "captures"),
    [
        ("wait4($pid, _, WNOHANG) -> $reaped", ["pid", "reaped"]),
        ("--- SIGCHLD {si_pid=$child, si_status=$status}", ["child", "status"]),
        ("+++ killed $sig +++", ["sig"]),
        ("spawn process $child", ["child"]),
        ("accept4 -> 4", []),
        ("exec", []),
    ],
)
def test_captures_of_names_every_capture_in_order(text: str, captures: list[str]) -> None:
    assert captures_of(parse_step(text)) == captures


def test_the_syscall_names_can_be_narrowed() -> None:
    assert parse_step("accept", syscalls={"accept"}) == SyscallStep("accept", "accept")
    with pytest.raises(StepError, match=r"unknown syscall 'accept4'; did you mean 'accept'\?"):
        parse_step("accept4", syscalls={"accept"})


# -- mistakes: the message, and the column of the token at fault ------------------------

#: (step, message, the token the offset must point at; None for "at the end of the step")
MISTAKES: list[tuple[str, str, str | None]] = [
    # misspelt names, each with the nearest real one
    ("acept4 -> $conn", "unknown syscall 'acept4'; did you mean 'accept4'?", "acept4"),
    ("accept4 -> EINTER", "unknown errno 'EINTER'; did you mean 'EINTR'?", "EINTER"),
    ("wait4 -> ECHLD", "unknown errno 'ECHLD'; did you mean 'ECHILD'?", "ECHLD"),
    ("--- SIGCHDL {si_pid=$child}", "unknown signal 'SIGCHDL'; did you mean 'SIGCHLD'?", "SIGCHDL"),
    (
        "wait4(-1, _, WNOHNAG)",
        "unknown name 'WNOHNAG'; did you mean 'WNOHANG'? "
        "(values are numbers, kernel constants like WNOHANG or SIGCHLD, $captures, child or _)",
        "WNOHNAG",
    ),
    (
        "rt_sigaction(SIGCHLD, act.flags=!SA_RESTRAT)",
        "unknown name 'SA_RESTRAT'; did you mean 'SA_RESTART'? "
        "(values are numbers, kernel constants like WNOHANG or SIGCHLD, $captures, child or _)",
        "SA_RESTRAT",
    ),
    (
        "--- SIGCHLD {si_code=CLD_EXITTED}",
        "unknown name 'CLD_EXITTED'; did you mean 'CLD_EXITED'? "
        "(values are numbers, kernel constants like WNOHANG or SIGCHLD, $captures, child or _)",
        "CLD_EXITTED",
    ),
    (
        "+++ killed SIGTERN +++",
        "unknown name 'SIGTERN'; did you mean 'SIGTERM'? "
        "(values are numbers, kernel constants like WNOHANG or SIGCHLD, $captures, child or _)",
        "SIGTERN",
    ),
    ("close(fdd=3)", "close has no argument 'fdd'; did you mean 'fd'? (its arguments: fd)", "fdd"),
    (
        "rt_sigaction(sig=SIGCHLD)",
        "rt_sigaction has no argument 'sig'; did you mean 'signal'? (its arguments: signal, act, oldact, sigsetsize)",
        "sig",
    ),
    ("nosuchcall -> 0", "unknown syscall 'nosuchcall'", "nosuchcall"),
    # a negative result: a failed call is written with its errno
    ("accept4 -> -4", "a failed call is matched by its errno, not -4: write e.g. '-> EINTR'", "-4"),
    ("wait4(-1) -> -10", "a failed call is matched by its errno, not -10: write e.g. '-> EINTR'", "-10"),
    # too many arguments, counted against the call's own
    ("close(3, 4)", "close has 1 argument (fd), found '4'", "4"),
    ("wait4(-1, _, WNOHANG, _, 0)", "wait4 has 4 arguments (pid, status, options, rusage), found '0'", "0"),
    # structure
    ("close(3", "expected ',' or ')' at the end of the step", None),
    ("accept4 -> 4 5", "expected the end of the step, found '5'", "5"),
    (
        "accept4 ->",
        "expected a result (a number, an errno like EINTR, $capture, child, restarted, ? or _) at the end of the step",
        None,
    ),
    (
        "accept4 -> !",
        "expected a result (a number, an errno like EINTR, $capture, child, restarted, ? or _), found '!'",
        "!",
    ),
    ("close(,)", "expected a value (a number, a name, $capture or _), found ','", ","),
    ("clone(flags=!)", "expected a name, found ')'", ")"),
    ("accept4 -> 4;", "unexpected character ';'", ";"),
    ("close($)", "unexpected character '$'", "$"),
    ("--- 12", "expected a signal name, found '12'", "12"),
    ("---", "expected a signal name at the end of the step", None),
    ("--- SIGCHLD {si_pid}", "expected '=', found '}'", "}"),
    ("--- SIGCHLD {si_pid=1 si_status=0}", "expected ',' between siginfo fields, found 'si_status'", "si_status"),
    ("+++ exitted 0 +++", "expected 'exited' or 'killed', found 'exitted'", "exitted"),
    ("+++", "expected 'exited' or 'killed' at the end of the step", None),
    ("+++ killed 9 +++", "expected the signal that killed the task, like SIGTERM, found '9'", "9"),
    ("exec foo", "expected the end of the step, found 'foo'", "foo"),
    ("spawn process $child extra", "expected the end of the step, found 'extra'", "extra"),
]


@pytest.mark.parametrize(("text", "message", "token"), MISTAKES, ids=[text for text, _, _ in MISTAKES])
def test_a_mistake_names_itself_and_its_column(text: str, message: str, token: str | None) -> None:
    with pytest.raises(StepError) as caught:
        parse_step(text)
    assert caught.value.message == message
    assert str(caught.value) == message
    expected = len(text.rstrip()) if token is None else text.rindex(token)
    assert caught.value.offset == expected, f"offset {caught.value.offset} points at {text[caught.value.offset :]!r}"


def test_the_column_counts_leading_spaces() -> None:
    with pytest.raises(StepError) as caught:
        parse_step("   acept4")
    assert caught.value.offset == 3


@pytest.mark.parametrize("text", ["", "   ", "\t"])
def test_an_empty_step_says_what_to_write(text: str) -> None:
    with pytest.raises(StepError) as caught:
        parse_step(text)
    assert caught.value.message.startswith("empty step: write a call (accept4 -> $conn), a signal (--- SIGCHLD)")
    assert caught.value.offset == 0


def test_a_step_error_is_a_value_error() -> None:
    error = StepError("boom", 3)
    assert isinstance(error, ValueError)
    assert (error.message, error.offset) == ("boom", 3)


def test_a_name_far_from_every_real_one_gets_no_hint() -> None:
    with pytest.raises(StepError) as caught:
        parse_step("accept4 -> QQQQQQQQ")
    assert caught.value.message == "unknown errno 'QQQQQQQQ'"
