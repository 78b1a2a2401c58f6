"""Every bundled expectation holds for its own server and catches the mistake its lesson is about.

The sibling runs are the proof that an expectation can fail: the reaping
promise broken by ``fork_no_reap``, the no-EINTR promise by ``fork_sigchld``,
the close discipline by ``fork_leaky`` — each failure naming what went wrong.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.programs import EXPECTATIONS

from harness.faces.cli import main
from harness.model.events import SyscallEvent
from harness.model.expectations import EXPECTATION_SUFFIX as SUFFIX
from harness.model.loader import load_expectations
from harness.running.check import FileChecked, check_file
from harness.running.serving import server_spec

BUNDLED = sorted(EXPECTATIONS.glob(f"*{SUFFIX}"))


def _check(name: str, server: str | None = None) -> FileChecked:
    expectation = load_expectations(EXPECTATIONS / f"{name}{SUFFIX}")
    return check_file(expectation, server=server_spec(server) if server else None)


def _failures(checked: FileChecked) -> dict[str, str]:
    return {result.assertion.name: result.report() for result in checked.results if not result.passed}


def test_there_is_an_expectation_for_every_variant() -> None:
    from harness.model.variants import list_variants

    servers = {str(load_expectations(path).server) for path in BUNDLED}
    assert servers == set(list_variants())


@pytest.mark.parametrize("path", BUNDLED, ids=lambda path: path.name)
def test_each_bundled_expectation_holds_for_its_own_server(path: Path, ptrace_permitted: None) -> None:
    checked = check_file(load_expectations(path))
    assert checked.run.ok, checked.run.summary()
    assert _failures(checked) == {}


def test_the_reaping_promise_fails_for_the_server_that_never_reaps_naming_its_zombies(ptrace_permitted: None) -> None:
    failures = _failures(_check("fork_sigchld", server="fork_no_reap"))
    report = failures["no child is left a zombie"]
    for child in ("main.1", "main.2", "main.3"):
        assert f"{child} (pid " in report
    assert "was never reaped: still a zombie when main exited" in report
    assert "expected == 3 (connections), counted 0" in failures["the parent reaps one child per connection"]


def test_the_no_eintr_promise_fails_for_the_handler_without_sa_restart(ptrace_permitted: None) -> None:
    failures = _failures(_check("fork_sigchld_restart", server="fork_sigchld"))
    report = failures["the program never sees EINTR"]
    assert "'accept4 -> EINTR' happened 2 times in main" in report
    assert "matches: ERESTARTSYS to the tracer, EINTR to the program" in report
    assert (
        "act.flags is ['SA_RESTORER', 'SA_ONSTACK'], expected SA_RESTART"
        in failures["the handler is installed with SA_RESTART"]
    )


def test_the_close_discipline_fails_for_the_leaky_server_naming_the_descriptors(ptrace_permitted: None) -> None:
    failures = _failures(_check("fork_sigchld", server="fork_leaky"))
    parent = failures["the parent closes every connection it handed to a child"]
    assert "main accepted fd 4 at #" in parent
    assert "had not closed it when it entered accept4 again" in parent


PER_CONNECTION = (
    "each connection is handed to a child and closed in the parent; the child closes the listener, serves it, exits 0"
)


def test_the_per_connection_promise_fails_for_the_leaky_server_at_each_connection(ptrace_permitted: None) -> None:
    checked = _check("fork_sigchld", server="fork_leaky")
    accepts = [
        event
        for event in checked.run.trace.for_role("main")
        if isinstance(event, SyscallEvent) and event.name == "accept4" and event.errno is None
    ]
    assert [event.ret for event in accepts] == [4, 5, 6]  # the leak: the parent never closes a connection
    report = _failures(checked)[PER_CONNECTION]
    first, second, third = (event.seq for event in accepts)
    # The first connection reported in full, naming its accept and its descriptor, and the step that did not follow.
    assert f"occurrence #{first} ($conn=4) of 'accept4 -> $conn': step 2 of 2 did not follow after #" in report
    assert f"before the next occurrence #{second}" in report
    line = _line_of(
        "      - close($conn)", EXPECTATIONS / "fork_sigchld.expect.yaml", after="    each: accept4 -> $conn"
    )
    assert f">  2  close($conn)  (line {line})" in report
    # Its child, in the same breath: it never closed the listening socket.
    assert "and in main.1 (the process $child names), step 1 of 3 did not follow from the start: close($listen)" in (
        report
    )
    # And the others, by accept and descriptor.
    assert f"3 of 3 occurrences failed; the others: #{second} ($conn=5), #{third} ($conn=6)" in report


def _line_of(text: str, path: Path, *, after: str) -> int:
    """The first line of a file that is exactly ``text``, below the line starting with ``after`` (1-based)."""
    lines = path.read_text().splitlines()
    start = next(number for number, line in enumerate(lines) if line.startswith(after))
    return lines.index(text, start) + 1


def test_the_poll_promise_reads_the_decoded_poll_and_fails_for_a_server_that_blocks_in_accept(
    ptrace_permitted: None,
) -> None:
    polling = _check("fork_poll_reaper")
    calls = [event for event in polling.run.trace.for_role("main") if isinstance(event, SyscallEvent)]
    polls = [event for event in calls if event.name == "poll"]
    # CPython waits with poll before each accept on a socket with a timeout: decoded, the listening socket.
    assert len(polls) >= 3
    assert all(event.args["fds"] == [{"fd": 3, "events": ["POLLIN"]}] for event in polls)
    assert _failures(polling) == {}
    report = _failures(_check("fork_poll_reaper", server="fork_sigchld"))[
        "each time the wait on the listening socket finds it ready, accept takes the connection at once"
    ]
    waits = "any_of: [poll(fds.fd=$listen, fds.events=POLLIN) -> 1, restart_syscall -> 1]"
    assert f"no event of main matches {waits!r}" in report


def test_the_c_restart_promises_fail_for_the_c_server_without_sa_restart(ptrace_permitted: None) -> None:
    failures = _failures(_check("c_echo_server_restart", server="c/echo_server"))
    assert set(failures) == {
        "the handler is installed with SA_RESTART",
        "at every accept the SIGCHLD handler in force has SA_RESTART",
        "the interrupted accept is restarted after the handler reaps",
        "nothing happens in between, as in the lesson's listing",
        "the program never sees EINTR",
        "a SIGCHLD wherever it sleeps breaks nothing (SA_RESTART restarts every call)",
    }
    assert "matches: ERESTARTSYS to the tracer, EINTR to the program" in failures["the program never sees EINTR"]
    # A sweep holds each run to the file's other promises, which the run without a signal already breaks.
    swept = failures["a SIGCHLD wherever it sleeps breaks nothing (SA_RESTART restarts every call)"]
    assert "the run without a signal fails, so a sweep has nothing to compare with: the assertion " in swept


# -- the command ------------------------------------------------------------------


def test_check_prints_a_line_per_assertion_and_exits_0(
    capsys: pytest.CaptureFixture[str], ptrace_permitted: None
) -> None:
    path = EXPECTATIONS / f"fork_sigchld{SUFFIX}"
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path} (fork_sigchld, 3 connections, deterministic, " in out
    assert "  PASS  no child is left a zombie  (fork_sigchld.expect.yaml:" in out
    assert out.rstrip().splitlines()[-1].startswith("10 passed, 0 failed in 1 file(s)")


def test_check_against_a_sibling_fails_and_writes_the_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ptrace_permitted: None
) -> None:
    path = EXPECTATIONS / f"fork_sigchld{SUFFIX}"
    assert main(["check", str(path), "--server", "fork_no_reap", "--traces", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "  FAIL  no child is left a zombie" in out
    written = tmp_path / "fork_sigchld.fork_no_reap.failed.jsonl"
    assert f"trace of the failing run: {written}" in out
    assert written.exists() and written.with_suffix(".txt").exists()
    assert main(["show", str(written)]) == 0


def test_check_refuses_an_invalid_file_with_65(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / f"bad{SUFFIX}"
    bad.write_text("server: fork_sigchld\nassertions:\n  - name: x\n    never: acept4\n")
    assert main(["check", str(bad)]) == 65
    err = capsys.readouterr().err
    assert f"{bad}:4:12: unknown syscall 'acept4'; did you mean 'accept4'?" in err
    assert "Traceback" not in err


def test_check_shows_a_capture_used_once_as_a_warning_and_still_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ptrace_permitted: None
) -> None:
    typo = tmp_path / f"typo{SUFFIX}"
    typo.write_text(
        "server: fork_sigchld\nscenario: {connections: 1}\nassertions:\n"
        "  - name: the parent closes what it accepted\n    sequence: [accept4 -> $conn, close($con)]\n"
    )
    assert main(["check", str(typo)]) == 0
    captured = capsys.readouterr()
    assert f"{typo}:5:27: warning: $conn is used only once" in captured.err
    assert f"{typo}:5:40: warning: $con is used only once" in captured.err
    assert "  PASS  the parent closes what it accepted" in captured.out


def test_check_names_the_nearest_variant_for_an_unknown_server(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(EXPECTATIONS), "--server", "fork_no_reaping"]) == 2
    assert "did you mean 'fork_no_reap'?" in capsys.readouterr().err


def test_a_server_given_as_a_command_is_checked_like_a_variant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ptrace_permitted: None
) -> None:
    from support.programs import PYTHON, SERVERS

    own = tmp_path / f"own{SUFFIX}"
    own.write_text(
        f"server:\n  command: [{PYTHON}, {SERVERS / 'rpc_fork.py'}, --port, '{{port}}',"
        " --connections, '{connections}']\n"
        "  protocol: rpc\n"
        "scenario: {connections: 2, messages: 3}\n"
        "start_after: listen($listen)\n"
        "assertions:\n"
        "  - name: every child closes the listening socket\n"
        "    role: every child\n"
        "    sequence: [close($listen), +++ exited 0]\n"
        "  - name: no zombie\n"
        "    fact: no zombie left\n"
    )
    assert main(["check", str(own)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"rpc_fork\.py --port \d+ --connections 2, 2 connections", out), out  # as it ran
    assert out.count("  PASS  ") == 2


def test_the_no_sa_restart_promise_fails_for_the_server_that_reinstalls_its_handler_with_it(
    ptrace_permitted: None,
) -> None:
    # fork_sigchld_restart installs the handler without SA_RESTART, then again with it (siginterrupt): a
    # sequence step matches the first install and passes; the disposition in force at accept4 does not.
    failures = _failures(_check("fork_sigchld", server="fork_sigchld_restart"))
    assert "the SIGCHLD handler is installed without SA_RESTART" not in failures
    report = failures["at every accept4 the SIGCHLD handler in force has no SA_RESTART"]
    assert "did not have it in force" in report and "where it was not in force:" in report
    assert "SIGCHLD had a handler installed with SA_RESTART (rt_sigaction at #" in report
    assert "expected !SA_RESTART (has SA_RESTART)" in report
    # With SA_RESTART, CPython's handler runs only once accept4 returns the next connection: the zombie
    # outlives that accept, though shutdown still reaps it ('no zombie left' holds).
    assert "no child is left a zombie" not in failures
    late = failures["each child is reaped before the next connection is accepted"]
    assert "was still a zombie when main accepted a connection at #" in late
