from __future__ import annotations

import time

from harness.model.events import Event, ExitEvent, SignalEvent, SyscallEntry, SyscallEvent
from harness.model.record import replace
from harness.model.strace_args import Notation
from harness.model.strace_format import TextRenderer, TimeColumns, format_event, points_of, render_trace

ACCEPT = SyscallEvent(
    seq=6,
    pid=10,
    tid=10,
    role="main",
    name="accept4",
    args={"fd": 3, "flags": ["SOCK_CLOEXEC"], "addrlen_in": 16, "addr": "0x7ffc0010", "addrlen": "0x7ffc000c"},
    ret=-512,
    errno="ERESTARTSYS",
    enter_seq=2,
)
CHILD_CLOSE = SyscallEvent(
    seq=4, pid=11, tid=11, role="main.1", name="close", args={"fd": 3}, ret=0, errno=None, enter_seq=3
)
CHILD_EXIT = ExitEvent(seq=5, pid=11, tid=11, role="main.1", code=0)
SIGCHLD = SignalEvent(
    seq=7,
    pid=10,
    tid=10,
    role="main",
    name="SIGCHLD",
    siginfo={"si_signo": "SIGCHLD", "si_code": "CLD_EXITED", "si_pid": 11, "si_uid": 0, "si_status": 0},
)
SIGRETURN = SyscallEvent(
    seq=9, pid=10, tid=10, role="main", name="rt_sigreturn", args={}, ret=-4, errno="EINTR", enter_seq=8
)
TRACE: list[Event] = [CHILD_CLOSE, CHILD_EXIT, ACCEPT, SIGCHLD, SIGRETURN]


def test_single_lines_read_like_strace() -> None:
    assert format_event(SIGRETURN) == "[pid 10 main] rt_sigreturn() = -1 EINTR (Interrupted system call)"
    assert format_event(ACCEPT) == (
        "[pid 10 main] accept4(3, 0x7ffc0010, [16], SOCK_CLOEXEC) = ? ERESTARTSYS "
        "(To be restarted if SA_RESTART is set)"
    )
    assert format_event(SIGCHLD) == (
        "[pid 10 main] --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=11, si_uid=0, si_status=0} ---"
    )
    assert format_event(CHILD_EXIT) == "[pid 11 main.1] +++ exited with 0 +++"
    assert format_event(ExitEvent(seq=1, pid=1, tid=1, role="main", signal="SIGTERM")) == (
        "[pid 1 main] +++ killed by SIGTERM +++"
    )
    wait = SyscallEvent(
        seq=2,
        pid=1,
        tid=1,
        role="main",
        name="wait4",
        args={"pid": -1, "options": ["WNOHANG"], "status": {"exited": 0}},
        ret=11,
        errno=None,
        enter_seq=1,
    )
    assert format_event(wait) == "[pid 1 main] wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], WNOHANG) = 11"


def test_a_blocking_call_is_split_into_unfinished_and_resumed() -> None:
    assert render_trace(TRACE) == [
        "[pid 10 main] accept4(3,  <unfinished ...>",
        "[pid 11 main.1] close(3) = 0",
        "[pid 11 main.1] +++ exited with 0 +++",
        "[pid 10 main] <... accept4 resumed>0x7ffc0010, [16], SOCK_CLOEXEC) = ? ERESTARTSYS "
        "(To be restarted if SA_RESTART is set)",
        "[pid 10 main] --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=11, si_uid=0, si_status=0} ---",
        "[pid 10 main] rt_sigreturn() = -1 EINTR (Interrupted system call)",
    ]


def test_a_live_entry_is_shown_at_once_and_completed_on_the_same_line() -> None:
    renderer = TextRenderer()
    entry = SyscallEntry(seq=8, pid=10, tid=10, role="main", name="rt_sigreturn", args={})
    assert renderer.feed(entry) == "[pid 10 main] rt_sigreturn("
    assert renderer.feed(SIGRETURN) == ") = -1 EINTR (Interrupted system call)\n"
    assert renderer.flush() == ""


def test_a_call_that_never_returned_ends_with_a_question_mark() -> None:
    killed = SyscallEvent(
        seq=3,
        pid=10,
        tid=10,
        role="main",
        name="accept4",
        args={"fd": 3, "addrlen_in": 16, "flags": []},
        ret=None,
        errno=None,
        enter_seq=1,
    )
    other = ExitEvent(seq=2, pid=11, tid=11, role="main.1", code=0)
    both: list[Event] = [other, killed]
    assert render_trace(both) == [
        "[pid 10 main] accept4(3,  <unfinished ...>",
        "[pid 11 main.1] +++ exited with 0 +++",
        "[pid 10 main] <... accept4 resumed> <unfinished ...>) = ?",
    ]


def test_a_call_without_outputs_that_never_returned_resumes_with_nothing_unfinished() -> None:
    # strace's print_event_exit: " <unfinished ...>" says outputs never came; exit_group has none to wait for.
    leaving = SyscallEvent(
        seq=3, pid=10, tid=10, role="main", name="exit_group", args={"status": 0}, ret=None, errno=None, enter_seq=1
    )
    other = ExitEvent(seq=2, pid=11, tid=11, role="main.1", code=0)
    assert render_trace([other, leaving]) == [
        "[pid 10 main] exit_group(0 <unfinished ...>",
        "[pid 11 main.1] +++ exited with 0 +++",
        "[pid 10 main] <... exit_group resumed>) = ?",
    ]


def test_points_put_each_entry_at_its_enter_seq() -> None:
    assert [point.seq for point in points_of(TRACE)] == [2, 3, 4, 5, 6, 7, 8, 9]


# -- times (strace's -t, -tt, -ttt, -r, -T) -----------------------------------------------------

T_ACCEPT = SyscallEvent(
    seq=4,
    pid=10,
    tid=10,
    role="main",
    name="close",
    args={"fd": 4},
    ret=0,
    errno=None,
    enter_seq=3,
    time=1.000300,
    duration=0.000100,
    start_realtime=1000.25,
)
T_WAIT = SyscallEvent(
    seq=7, pid=10, tid=10, role="main", name="wait4", args={"pid": -1}, ret=11, errno=None, enter_seq=5, time=1.5
)
T_WAIT = replace(T_WAIT, duration=0.4)  # entered at 1.1, blocked while main.1 exits
T_CHILD_EXIT = ExitEvent(seq=6, pid=11, tid=11, role="main.1", code=0, time=1.25)
TIMED_TRACE: list[Event] = [T_ACCEPT, T_CHILD_EXIT, T_WAIT]


def test_ttt_and_T_print_seconds_since_the_epoch_and_time_in_each_call() -> None:
    lines = render_trace(TIMED_TRACE, TimeColumns(absolute=3, durations=True))
    assert lines == [
        "[pid 10 main] 1001.250200 close(4) = 0 <0.000100>",
        "[pid 10 main] 1001.350000 wait4(-1,  <unfinished ...>",
        "[pid 11 main.1] 1001.500000 +++ exited with 0 +++",
        "[pid 10 main] 1001.750000 <... wait4 resumed>) = 11 <0.400000>",
    ]


def test_r_prints_the_time_since_the_previous_line_and_follows_a_t_time_in_brackets() -> None:
    lines = render_trace(TIMED_TRACE, TimeColumns(relative=True))
    assert [line.split("] ", 1)[1][:14] for line in lines] == [
        "     0.000000 ",
        "     0.099800 ",
        "     0.150000 ",
        "     0.250000 ",
    ]
    clock = time.strftime("%H:%M:%S", time.localtime(1001))
    assert render_trace(TIMED_TRACE, TimeColumns(absolute=2, relative=True))[1] == (
        f"[pid 10 main] {clock}.350000 (+     0.099800) wait4(-1,  <unfinished ...>"
    )
    assert render_trace(TIMED_TRACE, TimeColumns(absolute=1))[0].startswith(f"[pid 10 main] {clock} close(4)")


def test_a_trace_without_times_prints_as_without_the_options() -> None:
    assert render_trace(TRACE, TimeColumns(absolute=2, relative=True, durations=True)) == render_trace(TRACE)


def test_a_split_call_puts_each_separator_where_strace_does() -> None:
    """The lines of strace 6.1 (``strace -f`` of the C echo server and of a Python fork server).

    A peer's NULL pointers are shown at entry; an unnamed output's separator
    ends the entry (``wait4(-1,  <unfinished ...>``); a named one's starts the
    exit (``<... clone resumed>, child_tidptr=...``).
    """
    other = ExitEvent(seq=3, pid=11, tid=11, role="main.1", code=0)
    accept = SyscallEvent(
        seq=4,
        pid=10,
        tid=10,
        role="main",
        name="accept",
        args={"fd": 3, "addr": None, "addrlen": None},
        ret=-512,
        errno="ERESTARTSYS",
        enter_seq=1,
    )
    clone = SyscallEvent(
        seq=7,
        pid=10,
        tid=10,
        role="main",
        name="clone",
        args={
            "child_stack": None,
            "flags": ["CLONE_CHILD_CLEARTID", "CLONE_CHILD_SETTID"],
            "exit_signal": "SIGCHLD",
            "child_tidptr": "0x7fe2e2a53a10",
        },
        ret=11,
        errno=None,
        enter_seq=5,
    )
    wait = SyscallEvent(
        seq=10,
        pid=10,
        tid=10,
        role="main",
        name="wait4",
        args={"pid": -1, "options": [], "status": None, "rusage": None},
        ret=11,
        errno=None,
        enter_seq=8,
    )
    spawned = replace(other, seq=6)
    ended = replace(other, seq=9)
    assert render_trace([other, accept, spawned, clone, ended, wait]) == [
        "[pid 10 main] accept(3, NULL, NULL <unfinished ...>",
        "[pid 11 main.1] +++ exited with 0 +++",
        "[pid 10 main] <... accept resumed>) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)",
        "[pid 10 main] clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>",
        "[pid 11 main.1] +++ exited with 0 +++",
        "[pid 10 main] <... clone resumed>, child_tidptr=0x7fe2e2a53a10) = 11",
        "[pid 10 main] wait4(-1,  <unfinished ...>",
        "[pid 11 main.1] +++ exited with 0 +++",
        "[pid 10 main] <... wait4 resumed>NULL, 0, NULL) = 11",
    ]


def test_notation_abbreviates_structs_and_arrays_as_strace_does_unless_asked_not_to() -> None:
    """As strace's -s bounds an array, and -v (--no-abbrev) shows a struct rusage whole, and arrays whole too."""
    fds = [{"fd": fd, "events": ["POLLIN"]} for fd in (3, 4, 5)]
    poll = SyscallEvent(
        seq=2,
        pid=1,
        tid=1,
        role="main",
        name="poll",
        args={"fds": fds, "nfds": 3, "timeout": 0},
        ret=0,
        errno=None,
        enter_seq=1,
    )
    usage = {
        "ru_utime": {"tv_sec": 0, "tv_usec": 5},
        "ru_stime": {"tv_sec": 0, "tv_usec": 0},
        "ru_maxrss": 640,
    }
    wait = replace(poll, name="wait4", args={"pid": 7, "status": None, "options": [], "rusage": usage}, ret=7)
    two = Notation(elements=2)
    whole = Notation(abbrev=False, elements=2)
    assert format_event(poll, two).endswith(
        "poll([{fd=3, events=POLLIN}, {fd=4, events=POLLIN}, ...], 3, 0) = 0 (Timeout)"
    )
    assert "{fd=5, events=POLLIN}], 3, 0)" in format_event(poll, whole)
    assert format_event(wait).endswith(
        "wait4(7, NULL, 0, {ru_utime={tv_sec=0, tv_usec=5}, ru_stime={tv_sec=0, tv_usec=0}, ...}) = 7"
    )
    assert format_event(wait, whole).endswith(", ru_maxrss=640}) = 7")
