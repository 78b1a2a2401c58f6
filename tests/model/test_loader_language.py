"""Loading the expectation language's newer forms, every mistake of a file in one pass, and warnings."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.model.expectations import (
    Assertion,
    CountCheck,
    EachCheck,
    ExpectationFile,
    Location,
    NeverCheck,
    SequenceCheck,
    Window,
)
from harness.model.loader import ExpectationError, load_expectations
from harness.model.steps import AnyStep, parse_step

LANGUAGE = """\
server: fork_sigchld
start_after: listen($listen)
assertions:
  - name: every connection is handed to a child that closes it
    each: accept4 -> $conn
    then:
      - clone -> $child
      - close($conn)
    child:
      - close($listen)
      - close($conn)
      - any_of: [+++ exited 0 +++, +++ killed SIGTERM +++]

  - name: the arbiter reaps each worker it spawned
    each: spawn process $worker
    then: [wait4 -> $worker]
    in: $worker
    child: [accept4 -> $_conn]

  - name: no accept while a child's exit is not yet reaped
    never: accept4
    after: "--- SIGCHLD {si_pid=$child}"
    before: wait4 -> $child

  - name: two more clones than connections
    count: clone
    at_most: 2 * connections + 2

  - name: after the second connection
    start_after: accept4 -> 5
    count: accept4
    equals: 1
"""


def _load(tmp_path: Path, text: str) -> ExpectationFile:
    path = tmp_path / "language.expect.yaml"
    path.write_text(text)
    return load_expectations(path)


def _refused(tmp_path: Path, text: str) -> ExpectationError:
    with pytest.raises(ExpectationError) as caught:
        _load(tmp_path, text)
    return caught.value


def test_each_then_child_windows_alternatives_amounts_and_own_start_are_read(tmp_path: Path) -> None:
    loaded = _load(tmp_path, LANGUAGE)
    per_connection, arbiter, window, clones, later = loaded.assertions
    assert per_connection.check == EachCheck(
        parse_step("accept4 -> $conn"),
        (parse_step("clone -> $child"), parse_step("close($conn)")),
        (
            parse_step("close($listen)"),
            parse_step("close($conn)"),
            AnyStep(
                "any_of: [+++ exited 0 +++, +++ killed SIGTERM +++]",
                (parse_step("+++ exited 0 +++"), parse_step("+++ killed SIGTERM +++")),
            ),
        ),
        None,
        (5, 7, 8, 10, 11, 12),
    )
    assert isinstance(arbiter.check, EachCheck) and arbiter.check.in_capture == "worker"
    assert window.check == NeverCheck(
        parse_step("accept4"), Window(parse_step("--- SIGCHLD {si_pid=$child}"), parse_step("wait4 -> $child"))
    )
    assert clones.check == CountCheck(parse_step("clone"), "<=", "2 * connections + 2")
    assert later == Assertion(
        "after the second connection",
        later.roles,
        CountCheck(parse_step("accept4"), "==", 1),
        later.location,
        start_after=parse_step("accept4 -> 5"),
    )
    # The calls the steps name are traced, those inside any_of and windows included.
    assert loaded.syscalls == ("listen", "accept4", "clone", "close", "wait4")
    assert loaded.warnings == ()


def test_a_sequence_step_may_be_alternatives(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        "server: fork_sigchld\nassertions:\n  - name: ends\n    role: every child\n"
        "    sequence:\n      - close\n      - any_of: [exit_group, +++ killed SIGTERM]\n",
    )
    [assertion] = loaded.assertions
    assert isinstance(assertion.check, SequenceCheck)
    assert assertion.check.steps[1] == AnyStep(
        "any_of: [exit_group, +++ killed SIGTERM]", (parse_step("exit_group"), parse_step("+++ killed SIGTERM"))
    )
    assert assertion.check.lines == (6, 7)
    assert loaded.syscalls == ("close", "exit_group")


SEVERAL = """\
server: fork_sigchld
scenario:
  connections: 3
  concurrency: 4
assertions:
  - name: the handler returns EINTR
    sequence: [rt_sigreturn => EINTR]
  - name: reaps
    count: wait4 -> child
    equals: connections + x
  - name: no zombie
    fact: no zombies left
  - name: each connection
    each: acept4 -> $conn
    then: [close($conn)]
"""


def test_every_mistake_of_a_file_is_reported_in_one_pass_in_file_order(tmp_path: Path) -> None:
    error = _refused(tmp_path, SEVERAL)
    path = str(tmp_path / "language.expect.yaml")
    assert [(mistake.location, mistake.message) for mistake in error.all] == [
        (Location(path, 4, 16), "'concurrency: 4' needs 'mode: free' in 'scenario:' "
         "(deterministic mode serves one connection at a time)"),
        (Location(path, 7, 29), "'=>' is not a result arrow: write '->', as in 'accept4 -> $conn'"),
        (Location(path, 10, 27),
         "unknown name 'x': the only name an amount may use is 'connections'"),
        (Location(path, 12, 11), "fact: unknown value 'no zombies left'; did you mean 'no zombie left'?"),
        (Location(path, 14, 11), "unknown syscall 'acept4'; did you mean 'accept4'?"),
    ]  # fmt: skip
    text = str(error)
    # Each mistake as FILE:LINE:COL, its line and a caret, one after the other.
    assert text.splitlines()[:3] == [
        f"{path}:4:16: " + error.message,
        "      concurrency: 4",
        "                   ^",
    ]
    assert text.count(f"{path}:") == 5
    assert text.index(":7:29:") < text.index(":10:27:") < text.index(":14:11:")


def test_a_misspelt_key_is_one_mistake_not_also_a_missing_one(tmp_path: Path) -> None:
    error = _refused(tmp_path, "servre: fork_sigchld\nassertions:\n  - {name: z, fact: no zombie left}\n")
    assert [mistake.message for mistake in error.all] == ["unknown key 'servre'; did you mean 'server'?"]


def test_a_capture_used_once_is_a_warning_with_its_line_not_a_mistake(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        "server: fork_sigchld\nstart_after: listen($listen)\nassertions:\n"
        "  - name: the parent closes what it accepted\n"
        "    sequence:\n      - accept4($listen) -> $conn\n      - clone -> $_child\n      - close($con)\n",
    )
    path = str(tmp_path / "language.expect.yaml")
    assert [(str(warning.location), warning.message) for warning in loaded.warnings] == [
        (
            f"{path}:6:29",
            "$conn is used only once in assertion 'the parent closes what it accepted', so it binds whatever it "
            "meets and is compared with nothing: a typo of $con? (write _ for any value, or $_conn for a result "
            "that only has to be a success)",
        ),
        (
            f"{path}:8:15",
            "$con is used only once in assertion 'the parent closes what it accepted', so it binds whatever it "
            "meets and is compared with nothing: a typo of $conn? (write _ for any value, or $_con for a result "
            "that only has to be a success)",
        ),
    ]
    assert str(loaded.warnings[1]).splitlines()[1:] == ["          - close($con)", "                  ^"]


def test_the_capture_naming_the_child_process_is_used_by_naming_it(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        "server: fork_sigchld\nassertions:\n  - name: c\n    each: accept4 -> $conn\n"
        "    then: [clone -> $child]\n    child: [close($conn)]\n",
    )
    assert loaded.warnings == ()


def test_a_bad_indent_is_explained_in_words(tmp_path: Path) -> None:
    error = _refused(tmp_path, "server: fork_sigchld\nassertions:\n  - name: a\n      fact: no zombie left\n")
    assert error.location.line == 4
    assert "probably indented deeper than the key above it" in error.message
    assert "<block" not in str(error)


def test_the_waiting_calls_stay_out_of_the_default_set_and_a_file_naming_them_traces_them(tmp_path: Path) -> None:
    from harness.model.syscalls import DEFAULT_SYSCALLS

    waiting = ("poll", "ppoll", "select", "pselect6", "epoll_wait", "epoll_pwait", "futex")
    assert not set(waiting) & set(DEFAULT_SYSCALLS)
    loaded = _load(
        tmp_path,
        "server: fork_poll_reaper\nstart_after: listen($listen)\nassertions:\n"
        "  - name: polls the listener\n    sequence: ['poll(fds.fd=$listen) -> 1', 'select(readfds=$listen)']\n"
        "  - name: no futex wait\n    never: futex(op=FUTEX_WAIT_PRIVATE)\n",
    )
    assert loaded.syscalls == ("listen", "poll", "select", "futex")
