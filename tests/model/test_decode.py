from __future__ import annotations

import socket
import struct

from harness.model.decode import decode_entry, decode_exit
from harness.model.syscalls.structs import (
    decode_clone3_args,
    decode_sigaction,
    decode_siginfo,
    decode_sockaddr,
    s32,
)


class Memory:
    """A tracee's memory, made by hand: address -> bytes."""

    def __init__(self, **regions: bytes) -> None:
        self.regions = {int(name.removeprefix("at_"), 16): data for name, data in regions.items()}

    def __call__(self, address: int, size: int) -> bytes | None:
        data = self.regions.get(address)
        return None if data is None else data[:size]


def _sockaddr_in(port: int, address: str) -> bytes:
    return struct.pack("<H", socket.AF_INET) + struct.pack(">H", port) + socket.inet_aton(address) + bytes(8)


def test_sockaddr_in_reads_port_and_address() -> None:
    assert decode_sockaddr(_sockaddr_in(40000, "127.0.0.1")) == {
        "family": "AF_INET",
        "port": 40000,
        "address": "127.0.0.1",
    }


def test_sockaddr_in6_and_unix() -> None:
    in6 = (
        struct.pack("<H", socket.AF_INET6)
        + struct.pack(">HI", 8080, 0)
        + socket.inet_pton(socket.AF_INET6, "::1")
        + struct.pack("<I", 0)
    )
    assert decode_sockaddr(in6) == {"family": "AF_INET6", "port": 8080, "address": "::1", "flowinfo": 0, "scope_id": 0}
    mapped = in6[:8] + socket.inet_pton(socket.AF_INET6, "::ffff:127.0.0.1") + in6[24:]
    assert decode_sockaddr(mapped)["address"] == "::ffff:127.0.0.1"  # inet_ntop's form, as strace prints it
    unix = struct.pack("<H", socket.AF_UNIX) + b"/run/echo.sock\0junk"
    assert decode_sockaddr(unix) == {"family": "AF_UNIX", "path": "/run/echo.sock"}
    abstract = struct.pack("<H", socket.AF_UNIX) + b"\0harness"
    assert decode_sockaddr(abstract) == {"family": "AF_UNIX", "path": "@harness"}


def test_sigaction_names_the_handler_kind_flags_and_mask() -> None:
    data = struct.pack("<QQQQ", 0x401136, 0x10000000 | 0x04000000, 0x7F0000001000, 1 << 16)
    assert decode_sigaction(data) == {
        "handler": "0x401136",
        "flags": ["SA_RESTORER", "SA_RESTART"],
        "mask": ["SIGCHLD"],
        "restorer": "0x7f0000001000",
    }
    ignored = struct.pack("<QQQQ", 1, 0, 0, 0)
    assert decode_sigaction(ignored) == {"handler": "SIG_IGN", "flags": [], "mask": [], "restorer": None}


def test_clone3_args_name_flags_and_exit_signal_and_keep_the_members_their_flags_use() -> None:
    data = struct.pack("<QQQQQQQQ", 0x10000 | 0x100 | 0x800, 0, 0, 0, 17, 0x7F00, 0x1000, 0)
    assert decode_clone3_args(data, Memory()) == {
        "flags": ["CLONE_VM", "CLONE_SIGHAND", "CLONE_THREAD"],
        "exit_signal": "SIGCHLD",
        "cl_args": {"stack": "0x7f00", "stack_size": 0x1000},
    }
    settid = struct.pack("<QQQQQQQQ", 0x00100000, 0, 0, 0x2000, 0, 0, 0, 0)  # CLONE_PARENT_SETTID
    assert decode_clone3_args(settid, Memory())["cl_args"] == {"parent_tid": "0x2000", "stack": None, "stack_size": 0}


def _siginfo(signo: int, code: int, *fields: int) -> bytes:
    return struct.pack("<iii4x", signo, 0, code) + struct.pack(f"<{len(fields)}i", *fields) + bytes(100)


def test_siginfo_of_sigchld_tells_who_exited_and_how() -> None:
    assert decode_siginfo(_siginfo(17, 1, 4242, 0, 3, 0, 25, 0, 7, 0)) == {
        "si_signo": "SIGCHLD",
        "si_code": "CLD_EXITED",
        "si_pid": 4242,
        "si_uid": 0,
        "si_status": 3,
        "si_utime": 25,
        "si_stime": 7,
    }
    killed = decode_siginfo(_siginfo(17, 2, 4242, 0, 15))
    assert killed["si_code"] == "CLD_KILLED" and killed["si_status"] == "SIGTERM"
    continued = decode_siginfo(_siginfo(17, 6, 4242, 0, 18))  # the kernel's CLD_CONTINUED holds SIGCONT
    assert continued["si_code"] == "CLD_CONTINUED" and continued["si_status"] == "SIGCONT"
    assert decode_siginfo(bytes(128)) == {}  # waitid's WNOHANG with no child ready writes nothing


def test_siginfo_of_kill_names_the_sender() -> None:
    assert decode_siginfo(_siginfo(15, 0, 77, 1000)) == {
        "si_signo": "SIGTERM",
        "si_code": "SI_USER",
        "si_pid": 77,
        "si_uid": 1000,
    }


def test_accept4_decodes_inputs_at_entry_and_the_peer_only_after_success() -> None:
    memory = Memory(at_1000=_sockaddr_in(5555, "127.0.0.1"), at_2000=struct.pack("<i", 16))
    raw = (3, 0x1000, 0x2000, 0o2000000, 0, 0)

    entered = decode_entry("accept4", raw, memory)
    assert entered == {"fd": 3, "addrlen_in": 16, "flags": ["SOCK_CLOEXEC"]}  # the caller's buffer size
    assert decode_exit("accept4", raw, 4, memory, entered) == {
        "addr": {"family": "AF_INET", "port": 5555, "address": "127.0.0.1"},
        "addrlen": 16,
    }
    # Interrupted: the kernel wrote nothing, so nothing is decoded from memory.
    assert decode_exit("accept4", raw, -512, memory, entered) == {"addr": "0x1000", "addrlen": "0x2000"}
    # No buffer: nothing to fill, and the entry shows the two pointers at once, as strace does.
    assert decode_entry("accept", (3, 0, 0, 0, 0, 0), memory) == {"fd": 3, "addr": None, "addrlen": None}
    assert decode_exit("accept", (3, 0, 0, 0, 0, 0), 4, memory, {"fd": 3, "addr": None, "addrlen": None}) == {}


def test_accept_reads_no_more_of_the_peer_than_the_callers_buffer_holds() -> None:
    # The kernel writes back the address's whole length (16) but only the buffer's worth of address (2 bytes):
    # what lies past the buffer is not the peer's, and is never read.
    memory = Memory(at_1000=_sockaddr_in(5555, "127.0.0.1"), at_2000=struct.pack("<i", 2))
    raw = (3, 0x1000, 0x2000, 0, 0, 0)
    entered = decode_entry("accept", raw, memory)
    assert entered == {"fd": 3, "addrlen_in": 2}
    written = Memory(at_1000=_sockaddr_in(5555, "127.0.0.1"), at_2000=struct.pack("<i", 16))
    reads: list[tuple[int, int]] = []

    def read(address: int, size: int) -> bytes | None:
        reads.append((address, size))
        return written(address, size)

    assert decode_exit("accept", raw, 4, read, entered) == {"addr": {"family": "AF_INET"}, "addrlen": 16}
    assert (0x1000, 2) in reads and not any(address == 0x1000 and size > 2 for address, size in reads)


def test_wait4_decodes_pid_options_and_the_status_it_wrote() -> None:
    memory = Memory(at_3000=struct.pack("<i", 0x0F))
    raw = ((-1) & 0xFFFFFFFFFFFFFFFF, 0x3000, 1, 0, 0, 0)

    assert decode_entry("wait4", raw, memory) == {"pid": -1, "options": ["WNOHANG"]}
    assert decode_exit("wait4", raw, 4242, memory, {}) == {
        "status": {"signaled": "SIGTERM", "core_dumped": False},
        "rusage": None,
    }
    assert decode_exit("wait4", raw, 0, memory, {}) == {"status": "0x3000", "rusage": None}  # WNOHANG, nobody ready
    assert decode_exit("wait4", raw, -10, memory, {}) == {"status": "0x3000", "rusage": None}


def test_rt_sigaction_reads_the_new_action_at_entry_and_the_old_at_exit() -> None:
    new = struct.pack("<QQQQ", 0x401136, 0x04000000, 0x7F00, 0)
    old = struct.pack("<QQQQ", 0, 0, 0, 0)
    memory = Memory(at_4000=new, at_5000=old)
    raw = (17, 0x4000, 0x5000, 8, 0, 0)

    entry = decode_entry("rt_sigaction", raw, memory)
    assert entry["signal"] == "SIGCHLD" and entry["act"]["handler"] == "0x401136"
    assert entry["act"]["flags"] == ["SA_RESTORER"] and entry["sigsetsize"] == 8
    assert decode_exit("rt_sigaction", raw, 0, memory, entry)["oldact"]["handler"] == "SIG_DFL"
    assert decode_entry("rt_sigaction", (17, 0, 0, 8, 0, 0), memory)["act"] is None


def test_clone_keeps_the_exit_signal_apart_from_the_flags() -> None:
    args = decode_entry("clone", (0x01200000 | 17, 0, 0, 0, 0, 0), Memory())
    assert args == {
        "child_stack": None,
        "flags": ["CLONE_CHILD_CLEARTID", "CLONE_CHILD_SETTID"],
        "exit_signal": "SIGCHLD",
    }


def test_unknown_calls_keep_their_raw_arguments_by_prototype_name() -> None:
    args = decode_entry("read", (3, 0x7FFF0000, 4096, 0, 0, 0), Memory(), ("fd", "buf", "count"))
    assert args == {"fd": 3, "buf": 0x7FFF0000, "count": 4096}


def test_s32_reads_negative_ints_from_registers() -> None:
    assert s32(0xFFFFFFFF) == -1
    assert s32(0xFFFFFFFFFFFFFF9C) == -100
