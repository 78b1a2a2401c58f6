"""The syscall catalogue: every call a story is told with has a complete entry, which reads as expected.

Each entry decodes, prints and normalises as the text trace, the step
language and golden files expect; the cases below are the existing
expectations (tests/model/test_decode.py, test_strace_format.py,
tests/analysis/test_golden.py) call by call.
"""

from __future__ import annotations

import socket
import struct
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.analysis.golden import normalize
from harness.model.decode import REGISTER_ONLY, decode_entry, decode_exit
from harness.model.events import Event, ExitEvent, SyscallEvent
from harness.model.expectations import CountCheck, NeverCheck, SequenceCheck
from harness.model.kernel import errno_name
from harness.model.loader import load_expectations
from harness.model.steps import Literal, SyscallStep, parse_step
from harness.model.strace_format import format_event
from harness.model.syscalls import (
    CATALOGUE,
    DEFAULT_SYSCALLS,
    argument_order,
    catalogued,
    known_syscalls,
)
from harness.model.syscalls.entry import ArgKind, Syscall
from harness.model.syscalls.structs import SIGINFO_FIELDS, decode_siginfo
from harness.model.trace import Trace

EXPECTATIONS = Path(__file__).resolve().parents[3] / "expectations"
SERVER, CHILD, STRANGER = 4100, 4101, 999_999


def _bundled_calls() -> set[str]:
    """Every call a step of a bundled expectation file names, or an injection targets, read by the real loader."""
    names: set[str] = set()
    for path in sorted(EXPECTATIONS.rglob("*.expect.yaml")):
        expectation = load_expectations(path)
        steps = [expectation.start_after] if expectation.start_after is not None else []
        for assertion in expectation.assertions:
            match assertion.check:
                case SequenceCheck(steps=sequence):
                    steps.extend(sequence)
                case CountCheck(step=step) | NeverCheck(step=step):
                    steps.append(step)
        names.update(step.name for step in steps if isinstance(step, SyscallStep))
        names.update(injection.call for injection in expectation.injections)
    return names


BUNDLED = _bundled_calls()


def test_the_bundled_files_name_calls() -> None:
    # Guards the collection above: an empty set would make the next test vacuous.
    assert {"accept4", "clone", "wait4", "rt_sigaction"} <= BUNDLED


@pytest.mark.parametrize("name", sorted({*DEFAULT_SYSCALLS, *BUNDLED}))
def test_every_call_a_story_is_told_with_has_an_entry(name: str) -> None:
    entry = catalogued(name)
    assert entry is not None, f"{name} is traced by default or named by a bundled file, but has no catalogue entry"
    assert entry.name == name


# -- each entry is complete and honest ------------------------------------------------------------


class Reader:
    """A tracee's memory where every address holds ``fill``; records what was read."""

    def __init__(self, fill: int = 0) -> None:
        self.fill = fill
        self.reads: list[tuple[int, int]] = []

    def __call__(self, address: int, size: int) -> bytes | None:
        self.reads.append((address, size))
        return bytes([self.fill]) * size


#: Register sets an entry decoder must handle: all zero (NULL pointers), small numbers, and addresses.
REGISTERS = ((0, 0, 0, 0, 0, 0), (3, 1, 2, 1, 0, 0), (0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 0x6000))


@pytest.mark.parametrize("entry", CATALOGUE.values(), ids=list(CATALOGUE))
def test_an_entry_declares_exactly_what_its_decoders_produce(entry: Syscall) -> None:
    assert entry.name in known_syscalls()
    assert len(set(entry.names)) == len(entry.names), "argument names repeat"
    assert {arg.kind for arg in entry.args} <= set(typing.get_args(ArgKind))
    shown = {arg.name for arg in entry.args if arg.shown_in is None}
    for arg in entry.args:
        assert arg.shown_in is None or arg.shown_in in shown, f"{arg.name} is shown in an argument that is not shown"
        assert arg.kind_by is None or arg.kind_by[0] in entry.names
    inputs = {arg.name for arg in entry.args if not arg.output}
    required = {arg.name for arg in entry.args if not arg.output and not arg.optional}
    required_outputs = {arg.name for arg in entry.args if arg.output and not arg.optional}
    for raw in REGISTERS:
        for fill in (0, 0x11):
            entered = decode_entry(entry.name, raw, Reader(fill))
            given = set(entry.entry_outputs(entered))  # outputs an entry may give at once (accept's NULLs)
            assert given <= set(entry.outputs)
            assert required <= set(entered) <= inputs | given
            for ret in (0, 7, -4):  # success, a count or pid, an errno: outputs are there, or their pointers
                outputs = set(decode_exit(entry.name, raw, ret, Reader(fill), entered))
                assert required_outputs - given <= outputs <= set(entry.outputs) - given


#: Registers that make every memory-reading decoder read: addresses, and 6 (fcntl's F_SETLK, whose lock
#: is read) and 8 (the sigset size the rt_* calls' sets are read with) where those calls take them.
_PROBES = (*REGISTERS, (0x1000, 6, 0x3000, 8, 0x5000, 8), (0x1000, 8, 0x3000, 8, 0x5000, 8))


@pytest.mark.parametrize("entry", CATALOGUE.values(), ids=list(CATALOGUE))
def test_register_only_says_whether_the_entry_decoder_reads_memory(entry: Syscall) -> None:
    # The tracer shares one decoded value between events with equal registers only for these calls:
    # a decoder that read memory would show a stale struct.
    reader = Reader()
    for raw in _PROBES:
        decode_entry(entry.name, raw, reader)
    assert entry.register_only == (reader.reads == [])
    assert (entry.name in REGISTER_ONLY) == (entry.register_only and bool(entry.args))


@pytest.mark.parametrize("entry", CATALOGUE.values(), ids=list(CATALOGUE))
def test_a_positional_step_means_the_arguments_in_print_order(entry: Syscall) -> None:
    assert argument_order(entry.name) == entry.order
    step = parse_step(f"{entry.name}({', '.join(str(index) for index, _ in enumerate(entry.order))})")
    assert isinstance(step, SyscallStep)
    assert step.args == tuple((name, Literal(index)) for index, name in enumerate(entry.order))


def test_a_call_without_an_entry_keeps_its_prototypes_names_and_raw_values() -> None:
    assert catalogued("read") is None
    assert argument_order("read") == ("fd", "buf", "count")
    assert decode_entry("read", (3, 0x7FFF0000, 4096, 0, 0, 0), Reader(), ("fd", "buf", "count")) == {
        "fd": 3,
        "buf": 0x7FFF0000,
        "count": 4096,
    }
    assert decode_exit("read", (3, 0x7FFF0000, 4096, 0, 0, 0), 5, Reader(), {}) == {}


def test_the_siginfo_fields_a_step_may_name_are_the_decoders() -> None:
    from harness.model import steps

    assert steps.SIGINFO_FIELDS is SIGINFO_FIELDS
    head = struct.Struct("<iii")
    infos = [
        head.pack(17, 0, 1) + bytes(4) + struct.pack("<iIi", CHILD, 0, 0),  # CLD_EXITED
        head.pack(15, 0, 0) + bytes(4) + struct.pack("<iI", CHILD, 1000),  # SI_USER
        head.pack(11, 0, 1) + bytes(4) + struct.pack("<Q", 0xDEAD),  # SEGV_MAPERR
    ]
    decoded = [decode_siginfo(info.ljust(128, b"\0")) for info in infos]
    assert [info.get("si_pid") for info in decoded] == [CHILD, CHILD, None]
    assert set().union(*decoded) == set(SIGINFO_FIELDS)


# -- each entry agrees with the text trace and golden stories --------------------------------------


@dataclass(frozen=True)
class Case:
    """One call as the tracer sees it, and the lines the text trace and a golden story show for it."""

    raw: tuple[int, ...]
    ret: int | None
    text: str
    """format_event's line for the server's call."""
    golden: str
    """normalize's line: pids as roles, addresses as 0x…, ports as PORT."""
    memory: Mapping[int, bytes] = field(default_factory=dict)


def _sockaddr_in(port: int, address: str) -> bytes:
    return struct.pack("<H", socket.AF_INET) + struct.pack(">H", port) + socket.inet_aton(address) + bytes(8)


_PEER = {0x1000: _sockaddr_in(40000, "127.0.0.1"), 0x2000: struct.pack("<i", 16)}
_PEER_TEXT = '{sa_family=AF_INET, sin_port=htons(40000), sin_addr=inet_addr("127.0.0.1")}, [16]'
_PEER_GOLDEN = '{sa_family=AF_INET, sin_port=htons(PORT), sin_addr=inet_addr("127.0.0.1")}, [16]'
_CLONE_THREAD = 0x3D0F00  # CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|...
_THREAD_FLAGS = (
    "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|"
    "CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID"
)
_SA_RESTORER_RESTART = 0x04000000 | 0x10000000
_HANDLER = struct.pack("<QQQQ", 0x55AA00, _SA_RESTORER_RESTART, 0x7F0000, 0)
_DEFAULT = struct.pack("<QQQQ", 0, 0, 0, 0)
#: siginfo_t: si_signo, si_errno, si_code, padding, then _sigchld's si_pid, si_uid, si_status.
_CLD_EXITED = struct.pack("<iiixxxxiIi", 17, 0, 1, CHILD, 0, 0).ljust(128, b"\0")
_MINUS_ONE = (1 << 64) - 1

#: One row per catalogued call: adding an entry means adding how it reads.
CASES: Mapping[str, Case] = {
    "listen": Case((3, 128, 0, 0, 0, 0), 0, "listen(3, 128) = 0", "listen(3, 128) = 0"),
    "accept": Case(
        (3, 0x1000, 0x2000, 0, 0, 0), 4, f"accept(3, {_PEER_TEXT}) = 4", f"accept(3, {_PEER_GOLDEN}) = 4", _PEER
    ),
    "accept4": Case(
        (3, 0x1000, 0x2000, 0o2000000, 0, 0),
        4,
        f"accept4(3, {_PEER_TEXT}, SOCK_CLOEXEC) = 4",
        f"accept4(3, {_PEER_GOLDEN}, SOCK_CLOEXEC) = 4",
        _PEER,
    ),
    "clone": Case(
        (0x01200000 | 17, 0, 0, 0x7F10, 0, 0),
        CHILD,
        "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f10) = "
        f"{CHILD}",
        "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x…) = <main.1>",
    ),
    "clone3": Case(
        (0x1000, 88, 0, 0, 0, 0),
        CHILD,
        f"clone3({{flags={_THREAD_FLAGS}, child_tid=0x7f20, parent_tid=0x2000, exit_signal=0, stack=0x7f00, "
        f"stack_size=0x1000, tls=0x7f30}} => {{parent_tid=[{CHILD}]}}, 88) = {CHILD}",
        f"clone3({{flags={_THREAD_FLAGS}, child_tid=0x…, parent_tid=0x…, exit_signal=0, stack=0x…, "
        "stack_size=0x1000, tls=0x…} => {parent_tid=[…]}, 88) = <main.1>",
        {
            0x1000: struct.pack("<11Q", _CLONE_THREAD, 0, 0x7F20, 0x2000, 0, 0x7F00, 0x1000, 0x7F30, 0, 0, 0),
            0x1018: struct.pack("<Q", 0x2000),  # where the kernel's copy of parent_tid points
            0x2000: struct.pack("<i", CHILD),
        },
    ),
    "setpgid": Case((0,) * 6, 0, "setpgid(0, 0) = 0", "setpgid(0, 0) = 0"),
    "pause": Case(
        (0,) * 6,
        -514,
        "pause() = ? ERESTARTNOHAND (To be restarted if no handler)",
        "pause() = ? ERESTARTNOHAND (To be restarted if no handler)",
    ),
    "rt_sigsuspend": Case(
        (0x1000, 8, 0, 0, 0, 0),
        -514,
        "rt_sigsuspend([], 8) = ? ERESTARTNOHAND (To be restarted if no handler)",
        "rt_sigsuspend([], 8) = ? ERESTARTNOHAND (To be restarted if no handler)",
        {0x1000: bytes(8)},
    ),
    "rt_sigtimedwait": Case(
        (0x1000, 0x2000, 0x3000, 8, 0, 0),
        10,
        f"rt_sigtimedwait([USR1], {{si_signo=SIGUSR1, si_code=SI_USER, si_pid={CHILD}, si_uid=0}}, "
        "{tv_sec=1, tv_nsec=0}, 8) = 10 (SIGUSR1)",
        "rt_sigtimedwait([USR1], {si_code=SI_USER, si_pid=<main.1>}, {tv_sec=1, tv_nsec=0}, 8) = 10 (SIGUSR1)",
        {
            0x1000: (1 << 9).to_bytes(8, "little"),
            0x2000: struct.pack("<iiixxxxiI", 10, 0, 0, CHILD, 0).ljust(128, b"\0"),
            0x3000: struct.pack("<qQ", 1, 0),
        },
    ),
    "pipe2": Case(
        (0x1000, 0o4000, 0, 0, 0, 0),
        0,
        "pipe2([3, 4], O_NONBLOCK) = 0",
        "pipe2([3, 4], O_NONBLOCK) = 0",
        {0x1000: struct.pack("<ii", 3, 4)},
    ),
    "nanosleep": Case(
        (0x1000, 0x2000, 0, 0, 0, 0),
        -516,
        "nanosleep({tv_sec=1, tv_nsec=0}, {tv_sec=0, tv_nsec=5000}) = ? ERESTART_RESTARTBLOCK (Interrupted by signal)",
        "nanosleep({tv_sec=1, tv_nsec=0}, …) = ? ERESTART_RESTARTBLOCK (Interrupted by signal)",
        {0x1000: struct.pack("<qQ", 1, 0), 0x2000: struct.pack("<qQ", 0, 5000)},
    ),
    "clock_nanosleep": Case(
        (1, 0, 0x1000, 0, 0, 0),
        0,
        "clock_nanosleep(CLOCK_MONOTONIC, 0, {tv_sec=1, tv_nsec=0}, NULL) = 0",
        "clock_nanosleep(CLOCK_MONOTONIC, 0, {tv_sec=1, tv_nsec=0}, NULL) = 0",
        {0x1000: struct.pack("<qQ", 1, 0)},
    ),
    "fork": Case((0,) * 6, CHILD, f"fork() = {CHILD}", "fork() = <main.1>"),
    "vfork": Case((0,) * 6, CHILD, f"vfork() = {CHILD}", "vfork() = <main.1>"),
    "exit": Case((3, 0, 0, 0, 0, 0), None, "exit(3) = ?", "exit(3) = ?"),
    "exit_group": Case((0,) * 6, None, "exit_group(0) = ?", "exit_group(0) = ?"),
    "getpid": Case((0,) * 6, SERVER, f"getpid() = {SERVER}", "getpid() = <main>"),
    "gettid": Case((0,) * 6, SERVER, f"gettid() = {SERVER}", "gettid() = <main>"),
    "getppid": Case((0,) * 6, STRANGER, f"getppid() = {STRANGER}", "getppid() = <untraced>"),
    "getpgrp": Case((0,) * 6, SERVER, f"getpgrp() = {SERVER}", "getpgrp() = <main>"),
    "getpgid": Case((CHILD, 0, 0, 0, 0, 0), SERVER, f"getpgid({CHILD}) = {SERVER}", "getpgid(<main.1>) = <main>"),
    "getsid": Case((0,) * 6, SERVER, f"getsid(0) = {SERVER}", "getsid(0) = <main>"),
    "close": Case((4, 0, 0, 0, 0, 0), 0, "close(4) = 0", "close(4) = 0"),
    "dup": Case((3, 0, 0, 0, 0, 0), 5, "dup(3) = 5", "dup(3) = 5"),
    "dup2": Case((3, 0, 0, 0, 0, 0), 0, "dup2(3, 0) = 0", "dup2(3, 0) = 0"),
    "dup3": Case((3, 1, 0o2000000, 0, 0, 0), 1, "dup3(3, 1, O_CLOEXEC) = 1", "dup3(3, 1, O_CLOEXEC) = 1"),
    "close_range": Case(
        (3, 0xFFFF_FFFF, 0, 0, 0, 0), 0, "close_range(3, 4294967295, 0) = 0", "close_range(3, 4294967295, 0) = 0"
    ),
    "fcntl": Case(
        (3, 1030, 10, 0, 0, 0), 10, "fcntl(3, F_DUPFD_CLOEXEC, 10) = 10", "fcntl(3, F_DUPFD_CLOEXEC, 10) = 10"
    ),
    "wait4": Case(
        (_MINUS_ONE, 0x3000, 1, 0, 0, 0),
        CHILD,
        f"wait4(-1, [{{WIFEXITED(s) && WEXITSTATUS(s) == 0}}], WNOHANG, NULL) = {CHILD}",
        "wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], WNOHANG, NULL) = <main.1>",
        {0x3000: struct.pack("<i", 0)},
    ),
    "waitid": Case(
        (1, CHILD, 0x4000, 4, 0, 0),
        0,
        f"waitid(P_PID, {CHILD}, {{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid={CHILD}, si_uid=0, si_status=0, "
        "si_utime=0, si_stime=0}, WEXITED, NULL) = 0",
        "waitid(P_PID, <main.1>, {si_code=CLD_EXITED, si_pid=<main.1>, si_status=0}, WEXITED, NULL) = 0",
        {0x4000: _CLD_EXITED},
    ),
    "kill": Case((CHILD, 15, 0, 0, 0, 0), 0, f"kill({CHILD}, SIGTERM) = 0", "kill(<main.1>, SIGTERM) = 0"),
    "tkill": Case((CHILD, 0, 0, 0, 0, 0), 0, f"tkill({CHILD}, 0) = 0", "tkill(<main.1>, 0) = 0"),
    "tgkill": Case(
        (CHILD, CHILD, 10, 0, 0, 0),
        0,
        f"tgkill({CHILD}, {CHILD}, SIGUSR1) = 0",
        "tgkill(<main.1>, <main.1>, SIGUSR1) = 0",
    ),
    "rt_sigaction": Case(
        (17, 0x5000, 0x6000, 8, 0, 0),
        0,
        "rt_sigaction(SIGCHLD, {sa_handler=0x55aa00, sa_mask=[], sa_flags=SA_RESTORER|SA_RESTART, "
        "sa_restorer=0x7f0000}, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0",
        "rt_sigaction(SIGCHLD, {sa_handler=handler, sa_mask=[], sa_flags=SA_RESTORER|SA_RESTART}, "
        "{sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0",
        {0x5000: _HANDLER, 0x6000: _DEFAULT},
    ),
    "rt_sigreturn": Case(  # the tracer hands in the mask the frame restores, here SIGCHLD's
        (1 << 16, 0, 0, 0, 0, 0),
        -4,
        "rt_sigreturn({mask=[CHLD]}) = -1 EINTR (Interrupted system call)",
        "rt_sigreturn({mask=[CHLD]}) = -1 EINTR (Interrupted system call)",
    ),
    "restart_syscall": Case((0,) * 6, 0, "restart_syscall() = 0", "restart_syscall() = 0"),
    "poll": Case(
        (0x1000, 2, _MINUS_ONE, 0, 0, 0),
        1,
        "poll([{fd=3, events=POLLIN}, {fd=5, events=POLLIN|POLLPRI}], 2, -1) = 1",
        "poll([{fd=3, events=POLLIN}, {fd=5, events=POLLIN|POLLPRI}], 2, -1) = 1",
        {0x1000: struct.pack("<ihhihh", 3, 1, 0, 5, 3, 0)},
    ),
    "ppoll": Case(
        (0x1000, 1, 0, 0x2000, 8, 0),
        0,
        "ppoll([{fd=3, events=POLLIN}], 1, NULL, [CHLD], 8) = 0 (Timeout)",
        "ppoll([{fd=3, events=POLLIN}], 1, NULL, [CHLD], 8) = 0 (Timeout)",
        {0x1000: struct.pack("<ihh", 3, 1, 0), 0x2000: (1 << 16).to_bytes(8, "little")},
    ),
    "select": Case(
        (6, 0x1000, 0, 0, 0, 0),
        1,
        "select(6, [3 5], NULL, NULL, NULL) = 1 (in [3])",
        "select(6, [3 5], NULL, NULL, NULL) = 1 (in [3])",
        {0x1000: (1 << 3 | 1 << 5 | 1 << 6).to_bytes(8, "little")},  # bit 6 is at nfds: not watched
    ),
    "pselect6": Case(
        (4, 0x1000, 0, 0, 0x3000, 0x4000),
        -4,
        "pselect6(4, [3], NULL, NULL, 0x3000, 0x4000) = -1 EINTR (Interrupted system call)",
        "pselect6(4, [3], NULL, NULL, 0x…, 0x…) = -1 EINTR (Interrupted system call)",
        {0x1000: (1 << 3).to_bytes(8, "little")},
    ),
    "epoll_wait": Case(
        (5, 0x1000, 8, _MINUS_ONE, 0, 0),
        1,
        "epoll_wait(5, [{events=EPOLLIN, data={u32=3, u64=3}}], 8, -1) = 1",
        "epoll_wait(5, [{events=EPOLLIN, data={u32=3, u64=3}}], 8, -1) = 1",
        {0x1000: struct.pack("<IQ", 1, 3)},
    ),
    "epoll_pwait": Case(
        (5, 0x1000, 8, 1000, 0, 8),
        2,
        "epoll_pwait(5, [{events=EPOLLIN, data={u32=4, u64=4}}, {events=EPOLLIN|EPOLLHUP, data={u32=4294959104, "
        f"u64={0x7FFFFFFFE000}}}}}], 8, 1000, NULL, 8) = 2",
        "epoll_pwait(5, [{events=EPOLLIN, data={u32=4, u64=4}}, {events=EPOLLIN|EPOLLHUP, data=0x…}], 8, 1000, NULL, "
        "8) = 2",
        {0x1000: struct.pack("<IQIQ", 1, 4, 0x11, 0x7FFFFFFFE000)},  # a descriptor, and a pointer as data
    ),
    "futex": Case(
        (0x7F00, 128 | 256 | 9, 2, 0, 0, 0xFFFF_FFFF),
        -110,
        "futex(0x7f00, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 2, NULL, FUTEX_BITSET_MATCH_ANY) = -1 ETIMEDOUT "
        "(Connection timed out)",
        "futex(0x…, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 2, NULL, FUTEX_BITSET_MATCH_ANY) = -1 ETIMEDOUT "
        "(Connection timed out)",
    ),
}


def test_every_entry_has_a_case() -> None:
    assert set(CASES) == set(CATALOGUE)


@pytest.mark.parametrize("name", CASES)
def test_an_entry_decodes_prints_and_normalises_as_strace_and_golden_files_read_it(name: str) -> None:
    case = CASES[name]

    def read(address: int, size: int) -> bytes | None:
        return case.memory[address][:size] if address in case.memory else None

    args = decode_entry(name, case.raw, read)
    if case.ret is not None:
        args = {**args, **decode_exit(name, case.raw, case.ret, read, args)}
    errno = errno_name(case.ret) if case.ret is not None else None
    call = SyscallEvent(
        seq=2, pid=SERVER, tid=SERVER, role="main", name=name, args=args, ret=case.ret, errno=errno, enter_seq=1
    )
    events: list[Event] = [call, ExitEvent(seq=3, pid=CHILD, tid=CHILD, role="main.1", code=0)]
    assert format_event(call) == f"[pid {SERVER} main] {case.text}"
    assert normalize(Trace(tuple(events)))["main"] == (case.golden,)


@pytest.mark.parametrize("kind", typing.get_args(ArgKind))
def test_every_argument_kind_is_decoded_printed_and_held_to_a_shape(kind: str) -> None:
    """A kind no entry uses, that the JSON contract has no shape for, or golden stories no rule for, is half added."""
    from harness.model.event_contract import ARG_SHAPES

    used = {
        kind
        for entry in CATALOGUE.values()
        for arg in entry.args
        for kind in (arg.kind, *(dict(arg.kind_by[1]).values() if arg.kind_by else ()))
    }
    assert kind in used, f"no catalogue entry decodes an argument of kind {kind!r}"
    assert kind in ARG_SHAPES, f"the JSON Lines contract has no shape for {kind!r}"
    # How a golden story holds it: normalised, or kept as it is (the printer's case mypy holds: assert_never).
    from harness.analysis.golden import KEPT_KINDS, NORMALISED_KINDS

    assert (kind in NORMALISED_KINDS) != (kind in KEPT_KINDS), f"a golden story has no one rule for {kind!r}"


def test_every_trait_names_the_calls_that_have_it_and_no_other_module_lists_them() -> None:
    """What each trait stands for, as the schedule, the stall watch and the analysis read it."""
    from harness.model.syscalls import calls_that

    assert calls_that("accepts") == {"accept", "accept4"}
    assert calls_that("reaps") == {"wait4", "waitid"}
    assert calls_that("waits_on_descriptors") == {"poll", "ppoll", "select", "pselect6", "epoll_wait", "epoll_pwait"}
    assert calls_that("spawns") == {"fork", "vfork", "clone", "clone3"}
    assert calls_that("returns_from_handler") == {"rt_sigreturn"} and calls_that("resumes") == {"restart_syscall"}
    assert all(entry.timeout is None or entry.timeout.index < 6 for entry in CATALOGUE.values())


_NAMED_KINDS = ("flags", "name")


@pytest.mark.parametrize("entry", CATALOGUE.values(), ids=list(CATALOGUE))
def test_a_flags_or_name_argument_is_named_through_its_entrys_table(entry: Syscall) -> None:
    """The table an argument declares (``Arg.xlat``) is the one its decoder names it through.

    The strace-log reader names a ``-X raw`` number through the declared
    table only; a decoder naming through another would make one value read
    two ways.  futex's op is a command and its modifiers, decoded by code of
    its own (kernel_flags.futex_op), on both sides.
    """
    for arg in entry.args:
        if arg.kind in _NAMED_KINDS and (entry.name, arg.name) != ("futex", "op"):
            assert arg.xlat is not None, f"{entry.name}'s {arg.name} declares no table"
    for value in (1, 42, 0x80801, 0x4000_0005):
        decoded = decode_entry(entry.name, (value,) * 6, Reader())
        for arg in entry.args:
            if arg.xlat is None or arg.kind_in(decoded) not in _NAMED_KINDS or arg.name not in decoded:
                continue
            named = arg.xlat.flags(value) if arg.kind == "flags" else arg.xlat.name(value)
            assert decoded[arg.name] == named, f"{entry.name}'s {arg.name} of {value:#x}"
