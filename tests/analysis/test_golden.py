"""Golden traces on hand-built events: normalization, the YAML file, and the role-by-role diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.programs import EXPECTATIONS
from support.yaml_values import YAML_VALUES, scalar_places, with_value

from harness.analysis.golden import (
    MAX_GOLDEN_BYTES,
    GoldenFileError,
    GoldenTrace,
    diff_stories,
    first_call_seq,
    golden_from_trace,
    normalize,
    read_golden,
    role_order,
    write_golden,
)
from harness.analysis.golden_check import record_goldens
from harness.model import record
from harness.model.errors import HarnessError
from harness.model.events import Event, ExecEvent, ExitEvent, SignalEvent, SpawnEvent, SyscallEvent
from harness.model.expectations import Assertion, ExpectationFile, GoldenCheck, RoleSelector, ServerSpec
from harness.model.scenario import Scenario
from harness.model.syscalls import syscall_number
from harness.model.trace import Trace
from harness.model.yaml_shape import MAX_NESTING

SERVER, CHILD = 4100, 4101


def call(
    seq: int, name: str, args: dict[str, object], ret: int | None, errno: str | None = None, **who: object
) -> SyscallEvent:
    """A syscall of the server (or of ``who``) that returned at ``seq``."""
    pid = int(str(who.get("pid", SERVER)))
    role = str(who.get("role", "main"))
    return SyscallEvent(
        seq=seq, pid=pid, tid=pid, role=role, name=name, args=args, ret=ret, errno=errno, enter_seq=seq - 1
    )


def sigchld(seq: int) -> SignalEvent:
    """The SIGCHLD the server gets when its child exits, as the decoder reports it."""
    info = {"si_signo": "SIGCHLD", "si_code": "CLD_EXITED", "si_pid": CHILD, "si_uid": 0, "si_status": 0}
    return SignalEvent(seq=seq, pid=SERVER, tid=SERVER, role="main", name="SIGCHLD", siginfo=info)


def server_story(*, restart: bool, port: int = 40000, pointer: str = "0x7ffc0010") -> list[Event]:
    """One connection served by a fork_sigchld-like server: the same program with other pids, ports, addresses."""
    handler = {"handler": "0x55aa00", "flags": ["SA_RESTORER", *(["SA_RESTART"] if restart else [])], "mask": []}
    peer = {"family": "AF_INET", "port": port, "address": "127.0.0.1"}
    interrupted = call(
        20, "accept4", {"fd": 3, "flags": ["SOCK_CLOEXEC"], "addr": pointer, "addrlen": pointer}, -512, "ERESTARTSYS"
    )
    sigreturn = (
        call(23, "rt_sigreturn", {}, syscall_number("accept4"))
        if restart
        else call(23, "rt_sigreturn", {}, -4, "EINTR")
    )
    return [
        ExecEvent(seq=1, pid=SERVER, tid=SERVER, role="main", filename="/usr/bin/python3.11", argv=("python3",)),
        call(
            3,
            "rt_sigaction",
            {"signal": "SIGCHLD", "act": {**handler, "restorer": "0x7f01"}, "oldact": None, "sigsetsize": 8},
            0,
        ),
        call(5, "listen", {"fd": 3, "backlog": 128}, 0),
        call(7, "accept4", {"fd": 3, "flags": ["SOCK_CLOEXEC"], "addr": peer, "addrlen": 16}, 4),
        SpawnEvent(
            seq=8,
            pid=SERVER,
            tid=SERVER,
            role="main",
            child_pid=CHILD,
            child_tid=CHILD,
            child_role="main.1",
            via="clone",
            thread=False,
        ),
        call(10, "clone", {"flags": ["CLONE_CHILD_SETTID"], "exit_signal": "SIGCHLD"}, CHILD),
        call(12, "close", {"fd": 3}, 0, pid=CHILD, role="main.1"),
        call(14, "exit_group", {"status": 0}, None, pid=CHILD, role="main.1"),
        ExitEvent(seq=15, pid=CHILD, tid=CHILD, role="main.1", code=0),
        interrupted,
        sigchld(21),
        sigreturn,
        call(25, "wait4", {"pid": -1, "options": ["WNOHANG"], "status": {"exited": 0}}, CHILD),
        call(27, "wait4", {"pid": CHILD, "options": [], "status": pointer}, -10, "ECHILD"),
        call(29, "kill", {"pid": CHILD, "signal": "SIGTERM"}, -3, "ESRCH"),
        call(31, "kill", {"pid": 1, "signal": 0}, 0),
    ]


def test_pids_addresses_ports_and_uid_are_replaced_by_what_stays_put() -> None:
    stories = normalize(Trace(tuple(server_story(restart=False))))
    assert list(stories) == ["main", "main.1"]
    assert stories["main"] == (
        "+++ exec python3.11 +++",
        "rt_sigaction(SIGCHLD, {sa_handler=handler, sa_mask=[], sa_flags=SA_RESTORER}, NULL, 8) = 0",
        "listen(3, 128) = 0",
        'accept4(3, {sa_family=AF_INET, sin_port=htons(PORT), sin_addr=inet_addr("127.0.0.1")}, [16], SOCK_CLOEXEC)'
        " = 4",
        "+++ spawned main.1 via clone +++",
        "clone(flags=CLONE_CHILD_SETTID|SIGCHLD) = <main.1>",
        "accept4(3, 0x…, 0x…, SOCK_CLOEXEC) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)",
        "--- SIGCHLD {si_code=CLD_EXITED, si_pid=<main.1>, si_status=0} ---",
        "rt_sigreturn() = -1 EINTR (Interrupted system call)",
        "wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], WNOHANG) = <main.1>",
        "wait4(<main.1>, 0x…, 0) = -1 ECHILD (No child processes)",
        "kill(<main.1>, SIGTERM) = -1 ESRCH (No such process)",
        "kill(<untraced>, 0) = 0",
    )
    assert stories["main.1"] == ("close(3) = 0", "exit_group(0) = ?", "+++ exited with 0 +++")


def test_the_same_program_with_other_pids_ports_and_addresses_normalizes_the_same() -> None:
    def moved(event: Event) -> Event:
        shift = {SERVER: 9000, CHILD: 9001}
        values: dict[str, object] = {"pid": shift[event.pid], "tid": shift[event.tid]}
        if isinstance(event, SpawnEvent):
            values.update(child_pid=9001, child_tid=9001)
        if isinstance(event, SyscallEvent) and event.ret == CHILD:
            values.update(ret=9001)
        if isinstance(event, SyscallEvent) and event.args.get("pid") == CHILD:
            values.update(args={**event.args, "pid": 9001})
        if isinstance(event, SignalEvent):
            values.update(siginfo={**event.siginfo, "si_pid": 9001, "si_uid": 1000})
        return record.replace(event, **values)

    first = Trace(tuple(server_story(restart=False)))
    second = Trace(tuple(moved(event) for event in server_story(restart=False, port=51234, pointer="0x7ffd9990")))
    assert first != second
    assert normalize(first) == normalize(second)


def test_times_are_no_part_of_a_story() -> None:
    def timed(event: Event, scale: float) -> Event:
        values: dict[str, object] = {"time": event.seq * scale, "start_realtime": 1e9 if event.seq == 1 else None}
        if isinstance(event, SyscallEvent):
            values["duration"] = scale / 2
        return record.replace(event, **values)

    untimed = Trace(tuple(server_story(restart=False)))
    fast = Trace(tuple(timed(event, 0.001) for event in untimed))
    slow = Trace(tuple(timed(event, 0.250) for event in untimed))
    assert fast != slow
    assert normalize(fast) == normalize(slow) == normalize(untimed)
    assert fast.outline() == slow.outline()


def test_a_restarted_call_reads_as_its_name_not_its_number() -> None:
    stories = normalize(Trace(tuple(server_story(restart=True))))
    assert "rt_sigreturn() = (restarts accept4)" in stories["main"]
    assert (
        "rt_sigaction(SIGCHLD, {sa_handler=handler, sa_mask=[], sa_flags=SA_RESTORER|SA_RESTART}, NULL, 8) = 0"
        in (stories["main"])
    )


def test_a_signal_return_without_an_interrupted_call_says_it_restored_a_value_not_which() -> None:
    # 288 is accept4's number, but no accept4 of this task was interrupted: it is a value the program had in
    # its return register (a pid, an address), which changes from run to run (issue 12).
    events = (call(2, "rt_sigreturn", {}, syscall_number("accept4")),)
    assert normalize(Trace(events)) == {"main": ("rt_sigreturn() = (restored)",)}


def test_a_restart_through_restart_syscall_names_both() -> None:
    events = (
        call(
            2,
            "nanosleep",
            {"req": {"tv_sec": 1, "tv_nsec": 0}, "rem": {"tv_sec": 0, "tv_nsec": 5}},
            -516,
            "ERESTART_RESTARTBLOCK",
        ),
        call(4, "rt_sigreturn", {}, syscall_number("restart_syscall")),
    )
    assert normalize(Trace(events))["main"] == (  # the time left is the run's own
        "nanosleep({tv_sec=1, tv_nsec=0}, …) = ? ERESTART_RESTARTBLOCK (Interrupted by signal)",
        "rt_sigreturn() = (restarts nanosleep via restart_syscall)",
    )


def test_start_seq_drops_what_came_before_but_keeps_reading_it() -> None:
    events = server_story(restart=True)
    start = first_call_seq(Trace(tuple(events)), "listen")
    assert start == 5
    stories = normalize(Trace(tuple(events)), start_seq=start)
    assert stories["main"][0] == "listen(3, 128) = 0"
    assert not any("exec" in line or "rt_sigaction" in line for line in stories["main"])
    assert "rt_sigreturn() = (restarts accept4)" in stories["main"]
    # Only what happened from seq 21 on: the roles that did nothing since are gone.
    assert list(normalize(Trace(tuple(events)), start_seq=21)) == ["main"]


def test_golden_from_trace_says_when_the_marker_never_came() -> None:
    events = Trace(tuple(server_story(restart=False)))
    assert golden_from_trace(events).start_after == "listen"
    no_marker = golden_from_trace(events, start_after="accept")
    assert no_marker.start_after is None
    assert no_marker.roles == normalize(events)


def test_killed_tasks_threads_and_roles_in_tree_order() -> None:
    events = (
        ExitEvent(seq=2, pid=5, tid=7, role="main/t2", code=0),
        ExitEvent(seq=3, pid=5, tid=6, role="main/t1", signal="SIGKILL", core_dumped=True),
        ExitEvent(seq=4, pid=8, tid=8, role="main.10", code=0),
        ExitEvent(seq=5, pid=9, tid=9, role="main.2", code=0),
        ExitEvent(seq=6, pid=5, tid=5, role="main", signal="SIGTERM"),
    )
    stories = normalize(Trace(events))
    assert list(stories) == ["main", "main.2", "main.10", "main/t1", "main/t2"]
    assert stories["main/t1"] == ("+++ killed by SIGKILL (core dumped) +++",)
    assert stories["main"] == ("+++ killed by SIGTERM +++",)
    assert sorted(["main.1/t1", "main.1.1", "main.1", "main"], key=role_order) == [
        "main",
        "main.1",
        "main.1.1",
        "main.1/t1",
    ]


# -- golden files ---------------------------------------------------------------


def test_write_and_read_give_back_the_same_golden_trace(tmp_path: Path) -> None:
    golden = golden_from_trace(
        Trace(tuple(server_story(restart=True))),
        server="fork_sigchld_restart",
        scenario={"connections": 1, "messages": 1, "concurrency": 1, "mode": "deterministic"},
    )
    path = tmp_path / "deep" / "fork_sigchld_restart.golden.yaml"
    write_golden(path, golden)
    assert read_golden(path) == golden
    text = path.read_text(encoding="utf-8")
    assert "server: fork_sigchld_restart\n" in text
    assert "  - rt_sigreturn() = (restarts accept4)\n" in text  # one plain line per event: diffable in git
    assert "0x…" in text


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("roles: [1\n", ":2:1: not valid YAML: expected ',' or ']'"),
        ("- a list\n", ":1:1: expected a golden trace (a mapping with format, server, scenario, start_after, roles)"),
        ("format: 2\nroles: {}\n", ":1:9: format: format must be 1"),
        ("roles: {}\n", ":1:1: format must be 1 (the version this harness reads), got None"),
        ("format: 1\n", ":1:1: lacks the key 'roles'"),
        ("format: 1\nrole: {}\n", ":2:1: role: unknown key; did you mean 'roles'?"),
        ("format: 1\nroles: [a]\n", ":2:8: roles: must map each role to its list of lines, got a list"),
        ("format: 1\nroles:\n  main: a line\n", ":3:9: roles.main: must be a list of lines, got str 'a line'"),
        (
            "format: 1\nroles:\n  main:\n  - close(3) = 0\n  - 12\n",
            ":5:5: roles.main[1]: must be a line of text, got int 12",
        ),
        ("format: 1\nscenario: 3\nroles: {}\n", ":2:11: scenario: must be a mapping"),
        ("format: 1\nstart_after: [listen]\nroles: {}\n", ":2:14: start_after: must be a syscall name or null"),
        ("", ": expected a golden trace (a mapping with format, server, scenario, start_after, roles), got nothing"),
    ],
)
def test_a_malformed_golden_file_is_named_with_the_place_and_the_problem(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "bad.golden.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(GoldenFileError) as raised:
        read_golden(path)
    message = str(raised.value)
    assert message.startswith(str(path)), message
    assert expected in message, message
    assert "\n" not in message


def test_a_missing_or_unreadable_golden_file_is_an_input_error_with_status_65(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.golden.yaml"
    with pytest.raises(GoldenFileError, match=r"nowhere\.golden\.yaml: no such golden file \(write one with"):
        read_golden(missing)
    with pytest.raises(GoldenFileError, match="is a directory"):
        read_golden(tmp_path)
    binary = tmp_path / "binary.golden.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(GoldenFileError, match="not a text file"):
        read_golden(binary)
    assert issubclass(GoldenFileError, HarnessError)
    assert GoldenFileError.exit_status == 65


def test_only_a_regular_golden_file_of_bounded_size_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.golden.yaml"
    os.mkfifo(fifo)
    with pytest.raises(GoldenFileError, match="not a regular file"):
        read_golden(fifo)  # returns at once: the open does not wait for a writer
    huge = tmp_path / "huge.golden.yaml"
    with huge.open("wb") as stream:
        stream.truncate(MAX_GOLDEN_BYTES + 1)
    with pytest.raises(GoldenFileError, match="larger than 16 MiB"):
        read_golden(huge)


def test_a_crafted_golden_file_is_refused_not_expanded(tmp_path: Path) -> None:
    deep = tmp_path / "deep.golden.yaml"
    deep.write_text("format: 1\nroles: " + "[" * 5000 + "]" * 5000 + "\n")
    too_deep = rf"deep\.golden\.yaml:2:{7 + MAX_NESTING}: nests too deep for a golden file"
    with pytest.raises(GoldenFileError, match=too_deep):
        read_golden(deep)
    bomb = tmp_path / "bomb.golden.yaml"
    bomb.write_text("format: 1\nx: &a [1, 2]\nroles: {main: *a}\n")
    with pytest.raises(GoldenFileError, match=r"bomb\.golden\.yaml:3:15: a golden file has no aliases"):
        read_golden(bomb)


def test_writing_a_golden_file_replaces_a_planted_symlink_instead_of_writing_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    target = tmp_path / "x.golden.yaml"
    target.symlink_to(victim)
    write_golden(target, GoldenTrace(roles={"main": ("close(3) = 0",)}, server="s"))
    assert victim.read_text() == "precious\n"
    assert not target.is_symlink() and read_golden(target).roles == {"main": ("close(3) = 0",)}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["victim", "x.golden.yaml"]  # no partial left


def test_recording_never_rewrites_a_golden_file_outside_the_expectation_files_tree(tmp_path: Path) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside.golden.yaml"
    project.mkdir()
    outside.write_text("mine\n")
    inside = project / "golden" / "in.golden.yaml"
    expectation = ExpectationFile(
        path=project / "a.expect.yaml",
        server=ServerSpec(variant="fork_sigchld"),
        scenario=Scenario(),
        assertions=(
            Assertion("in", RoleSelector.parse("main"), GoldenCheck(inside)),
            Assertion("out", RoleSelector.parse("main"), GoldenCheck(outside)),
        ),
    )
    trace = Trace(tuple(server_story(restart=True)))
    with pytest.raises(GoldenFileError, match=r"outside .*project, so not rewritten from a\.expect\.yaml; record it"):
        record_goldens(expectation, expectation.server, trace)
    assert outside.read_text() == "mine\n" and not inside.exists()  # nothing written, not even the inside one
    only_inside = record.replace(expectation, assertions=expectation.assertions[:1])
    assert record_goldens(only_inside, expectation.server, trace) == [GoldenCheck(inside)]
    assert read_golden(inside).server == "fork_sigchld"


def test_a_golden_trace_states_what_it_holds() -> None:
    golden = GoldenTrace(roles={"main": ("a", "b"), "main.1": ("c",)}, server="fork_sigchld")
    assert repr(golden) == "<GoldenTrace fork_sigchld from listen: main: 2, main.1: 1>"


# -- diffs ----------------------------------------------------------------------

BEFORE = {
    "main": (
        "listen(3, 128) = 0",
        "accept4(3) = ? ERESTARTSYS",
        "--- SIGCHLD ---",
        "rt_sigreturn() = -1 EINTR",
        "wait4(-1) = <main.1>",
        "accept4(3) = 4",
        "close(4) = 0",
        "close(3) = 0",
        "exit_group(0) = ?",
    ),
    "main.1": ("close(3) = 0", "+++ exited with 0 +++"),
}


def test_identical_stories_have_no_diff() -> None:
    assert diff_stories(BEFORE, dict(BEFORE), a_label="a", b_label="b") == []


def test_a_changed_line_shows_as_a_hunk_with_a_little_context() -> None:
    after = {
        **BEFORE,
        "main": tuple("rt_sigreturn() = (restarts accept4)" if "EINTR" in line else line for line in BEFORE["main"]),
    }
    assert diff_stories(BEFORE, after, a_label="fork_sigchld", b_label="fork_sigchld_restart") == [
        "--- fork_sigchld",
        "+++ fork_sigchld_restart",
        "== main: 9 events in fork_sigchld, 9 in fork_sigchld_restart",
        "@@ -2,5 +2,5 @@",
        " accept4(3) = ? ERESTARTSYS",
        " --- SIGCHLD ---",
        "-rt_sigreturn() = -1 EINTR",
        "+rt_sigreturn() = (restarts accept4)",
        " wait4(-1) = <main.1>",
        " accept4(3) = 4",
    ]


def test_a_role_on_one_side_only_is_named() -> None:
    after = {"main": BEFORE["main"], "main.2": ("close(3) = 0",)}
    assert diff_stories(BEFORE, after, a_label="old", b_label="new") == [
        "--- old",
        "+++ new",
        "== main.1: only in old (2 events)",
        "== main.2: only in new (1 event)",
    ]


def test_every_kind_of_yaml_value_at_every_place_of_a_golden_file_is_read_or_refused(tmp_path: Path) -> None:
    text = (EXPECTATIONS / "golden" / "fork_sigchld.golden.yaml").read_text()
    path = tmp_path / "fuzz.golden.yaml"
    places = scalar_places(text)
    assert len(places) > 10
    for place in places[:: max(1, len(places) // 40)]:  # about 40 places: each kind of line, of every role
        for value in YAML_VALUES:
            path.write_text(with_value(text, place, value))
            try:
                read_golden(path)
            except GoldenFileError as error:
                assert str(error).startswith(f"{path}")


@given(data=st.data())
def test_any_yaml_value_at_any_place_of_any_bundled_golden_file_is_read_or_refused(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    source = data.draw(st.sampled_from(sorted((EXPECTATIONS / "golden").glob("*.golden.yaml"))))
    text = source.read_text()
    place = data.draw(st.sampled_from(scalar_places(text)))
    value = data.draw(st.sampled_from(YAML_VALUES) | st.text(max_size=20).map(repr))
    path = tmp_path_factory.mktemp("any") / "fuzz.golden.yaml"
    path.write_text(with_value(text, place, value))
    try:
        read_golden(path)
    except GoldenFileError as error:
        assert str(error).startswith(f"{path}")
