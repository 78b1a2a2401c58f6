"""The names of the values a call's arguments hold: flags, commands, clocks, as the kernel headers define them.

A decoder turns a number into these names, and an expectation compares
against them, so each table is written once, with the kernel header or man
page it was read from and in strace's order, so that a decoded argument reads
as strace prints it.  All flag tables print unknown bits as hexadecimal
instead of dropping them, as strace does.  The numbers are those of x86_64
Linux.  The facts the analysis reasons with (restart codes, signals, who
sent a signal) are :mod:`harness.model.kernel`'s; these only name values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from harness.model import kernel

# -- clone -----------------------------------------------------------------------

#: clone3(2) flags (include/uapi/linux/sched.h), in strace's order (src/xlat/clone_flags.in, then
#: clone3_flags.in for the bits only clone3 can carry; clone() names those of CLONE_FLAGS below).
#: The low byte of clone()'s flags is the exit signal, decoded separately.  CLONE_DETACHED (0x400000)
#: is left out as strace leaves it out: the kernel ignores it, so it prints as a number.  python-ptrace's
#: own table (ptrace/syscall/posix_arg.py) predates CLONE_PIDFD and the namespace flags, so the complete
#: table is kept here.
CLONE3_FLAGS: Mapping[int, str] = {
    0x00000100: "CLONE_VM",
    0x00000200: "CLONE_FS",
    0x00000400: "CLONE_FILES",
    0x00000800: "CLONE_SIGHAND",
    0x00001000: "CLONE_PIDFD",
    0x00002000: "CLONE_PTRACE",
    0x00004000: "CLONE_VFORK",
    0x00008000: "CLONE_PARENT",
    0x00010000: "CLONE_THREAD",
    0x00020000: "CLONE_NEWNS",
    0x00040000: "CLONE_SYSVSEM",
    0x00080000: "CLONE_SETTLS",
    0x00100000: "CLONE_PARENT_SETTID",
    0x00200000: "CLONE_CHILD_CLEARTID",
    0x00800000: "CLONE_UNTRACED",
    0x01000000: "CLONE_CHILD_SETTID",
    0x02000000: "CLONE_NEWCGROUP",
    0x04000000: "CLONE_NEWUTS",
    0x08000000: "CLONE_NEWIPC",
    0x10000000: "CLONE_NEWUSER",
    0x20000000: "CLONE_NEWPID",
    0x40000000: "CLONE_NEWNET",
    0x80000000: "CLONE_IO",
    0x00000080: "CLONE_NEWTIME",  # clone3 only: in clone() this bit is the exit signal's
    1 << 32: "CLONE_CLEAR_SIGHAND",  # clone3 only, as are the bits above
    1 << 33: "CLONE_INTO_CGROUP",
    1 << 34: "CLONE_AUTOREAP",
    1 << 35: "CLONE_NNP",
    1 << 36: "CLONE_PIDFD_AUTOKILL",
    1 << 37: "CLONE_EMPTY_MNTNS",
}
#: clone()'s: the same without the bits only clone3 carries, which clone() reads as unknown (strace's
#: printflags64_in(clone_flags, ...)).
CLONE_FLAGS: Mapping[int, str] = {bit: name for bit, name in CLONE3_FLAGS.items() if bit < 1 << 32 and bit != 0x80}
CLONE_EXIT_SIGNAL_MASK = 0xFF  # CSIGNAL
#: Each clone flag's bit by its name: what a decoder tests (``CLONE_BITS["CLONE_SETTLS"]``).
CLONE_BITS: Mapping[str, int] = {name: bit for bit, name in CLONE3_FLAGS.items()}

# -- waiting for children ---------------------------------------------------------

#: wait4(2)/waitid(2) options (include/uapi/linux/wait.h), in strace's order (src/xlat/wait4_options.in).
#: WUNTRACED and WSTOPPED are one bit; strace names it WSTOPPED for both calls.
WAIT_OPTIONS: Mapping[int, str] = {
    0x00000001: "WNOHANG",
    0x00000004: "WEXITED",
    0x00000002: "WSTOPPED",
    0x00000008: "WCONTINUED",
    0x01000000: "WNOWAIT",
    0x80000000: "__WCLONE",
    0x40000000: "__WALL",
    0x20000000: "__WNOTHREAD",
}

#: waitpid(2) options the tracer waits with (include/uapi/linux/wait.h): __WALL reports threads and
#: clones too; __WNOTHREAD only the calling thread's own children and tracees, not its process's.
WAIT_ALL = 0x40000000
WAIT_NO_THREAD = 0x20000000

#: waitid(2) idtype (include/uapi/linux/wait.h).
WAITID_IDTYPES: Mapping[int, str] = {0: "P_ALL", 1: "P_PID", 2: "P_PGID", 3: "P_PIDFD"}

# -- sockets, descriptors and open files --------------------------------------------

#: accept4(2) flags (include/linux/net.h, x86_64 values).
SOCK_FLAGS: Mapping[int, str] = {0o2000000: "SOCK_CLOEXEC", 0o4000: "SOCK_NONBLOCK"}

#: fcntl(2) commands (include/uapi/asm-generic/fcntl.h, include/uapi/linux/fcntl.h: F_LINUX_SPECIFIC_BASE
#: 1024), in strace's order (src/xlat/fcntlcmds.in).  F_GETLK64..F_SETLKW64 are the 32-bit ABI's, which a
#: 64-bit kernel still names.  F_DUPFD and F_DUPFD_CLOEXEC make a descriptor, like dup(2).
FCNTL_COMMANDS: Mapping[int, str] = {
    0: "F_DUPFD",
    1: "F_GETFD",
    2: "F_SETFD",
    3: "F_GETFL",
    4: "F_SETFL",
    5: "F_GETLK",
    6: "F_SETLK",
    7: "F_SETLKW",
    8: "F_SETOWN",
    9: "F_GETOWN",
    10: "F_SETSIG",
    11: "F_GETSIG",
    12: "F_GETLK64",
    13: "F_SETLK64",
    14: "F_SETLKW64",
    15: "F_SETOWN_EX",
    16: "F_GETOWN_EX",
    17: "F_GETOWNER_UIDS",
    36: "F_OFD_GETLK",
    37: "F_OFD_SETLK",
    38: "F_OFD_SETLKW",
    1024: "F_SETLEASE",
    1025: "F_GETLEASE",
    1026: "F_NOTIFY",
    1027: "F_DUPFD_QUERY",
    1028: "F_CREATED_QUERY",
    1029: "F_CANCELLK",
    1030: "F_DUPFD_CLOEXEC",
    1031: "F_SETPIPE_SZ",
    1032: "F_GETPIPE_SZ",
    1033: "F_ADD_SEALS",
    1034: "F_GET_SEALS",
    1035: "F_GET_RW_HINT",
    1036: "F_SET_RW_HINT",
    1037: "F_GET_FILE_RW_HINT",
    1038: "F_SET_FILE_RW_HINT",
    1039: "F_GETDELEG",
    1040: "F_SETDELEG",
}
#: Lock and lease types (struct flock's l_type, F_SETLEASE's argument).
LOCK_TYPES: Mapping[int, str] = {0: "F_RDLCK", 1: "F_WRLCK", 2: "F_UNLCK", 4: "F_EXLCK", 8: "F_SHLCK"}
#: lseek(2) whence, struct flock's l_whence (include/uapi/linux/fs.h).
WHENCE: Mapping[int, str] = {0: "SEEK_SET", 1: "SEEK_CUR", 2: "SEEK_END", 3: "SEEK_DATA", 4: "SEEK_HOLE"}
#: struct f_owner_ex's type (F_SETOWN_EX).
OWNER_TYPES: Mapping[int, str] = {0: "F_OWNER_TID", 1: "F_OWNER_PID", 2: "F_OWNER_PGRP"}
#: F_NOTIFY's events.
NOTIFY_FLAGS: Mapping[int, str] = {
    0x1: "DN_ACCESS",
    0x2: "DN_MODIFY",
    0x4: "DN_CREATE",
    0x8: "DN_DELETE",
    0x10: "DN_RENAME",
    0x20: "DN_ATTRIB",
    0x80000000: "DN_MULTISHOT",
}
#: F_ADD_SEALS's seals.
SEALS: Mapping[int, str] = {
    0x1: "F_SEAL_SEAL",
    0x2: "F_SEAL_SHRINK",
    0x4: "F_SEAL_GROW",
    0x8: "F_SEAL_WRITE",
    0x10: "F_SEAL_FUTURE_WRITE",
    0x20: "F_SEAL_EXEC",
}
#: The write-life hints of F_SET_RW_HINT.
RW_HINTS: Mapping[int, str] = {
    0: "RWH_WRITE_LIFE_NOT_SET",
    1: "RWH_WRITE_LIFE_NONE",
    2: "RWH_WRITE_LIFE_SHORT",
    3: "RWH_WRITE_LIFE_MEDIUM",
    4: "RWH_WRITE_LIFE_LONG",
    5: "RWH_WRITE_LIFE_EXTREME",
}
#: The commands of FCNTL_COMMANDS that make a new descriptor, as dup(2) does.
FCNTL_DUPLICATES = frozenset({"F_DUPFD", "F_DUPFD_CLOEXEC"})
#: A descriptor's own flags (F_GETFD, F_SETFD): close-on-exec only.
FD_FLAGS: Mapping[int, str] = {1: "FD_CLOEXEC"}
#: An open file's flags (include/uapi/asm-generic/fcntl.h, x86_64 values), in strace's order
#: (src/xlat/open_mode_flags.in): what F_SETFL sets (with the access mode, OPEN_ACCESS_MODES), and
#: what dup3(2) and pipe2(2) take (O_CLOEXEC, O_NONBLOCK, O_DIRECT; the others fail with EINVAL but
#: print by name).  O_SYNC and O_TMPFILE are two bits each, named before their parts.
OPEN_FILE_FLAGS: Mapping[int, str] = {
    0o100: "O_CREAT",
    0o200: "O_EXCL",
    0o400: "O_NOCTTY",
    0o1000: "O_TRUNC",
    0o2000: "O_APPEND",
    0o4000: "O_NONBLOCK",
    0o4010000: "O_SYNC",
    0o4000000: "__O_SYNC",
    0o10000: "O_DSYNC",
    0o40000: "O_DIRECT",
    0o100000: "O_LARGEFILE",
    0o400000: "O_NOFOLLOW",
    0o1000000: "O_NOATIME",
    0o2000000: "O_CLOEXEC",
    0o10000000: "O_PATH",
    0o20200000: "O_TMPFILE",
    0o20000000: "__O_TMPFILE",
    0o200000: "O_DIRECTORY",
    0o20000: "O_ASYNC",  # strace's FASYNC, printed by its kernel name
}
#: The access mode, the low two bits of an open file's flags (O_ACCMODE).
OPEN_ACCESS_MODES: Mapping[int, str] = {0: "O_RDONLY", 1: "O_WRONLY", 2: "O_RDWR", 3: "O_ACCMODE"}
#: close_range(2) flags (include/uapi/linux/close_range.h): unshare the table first, or mark close-on-exec
#: instead of closing.
CLOSE_RANGE_FLAGS: Mapping[int, str] = {2: "CLOSE_RANGE_UNSHARE", 4: "CLOSE_RANGE_CLOEXEC"}

# -- clocks ------------------------------------------------------------------------

#: clock ids (include/uapi/linux/time.h), as strace's src/xlat/clocknames.in names them.
CLOCK_NAMES: Mapping[int, str] = {
    0: "CLOCK_REALTIME",
    1: "CLOCK_MONOTONIC",
    2: "CLOCK_PROCESS_CPUTIME_ID",
    3: "CLOCK_THREAD_CPUTIME_ID",
    4: "CLOCK_MONOTONIC_RAW",
    5: "CLOCK_REALTIME_COARSE",
    6: "CLOCK_MONOTONIC_COARSE",
    7: "CLOCK_BOOTTIME",
    8: "CLOCK_REALTIME_ALARM",
    9: "CLOCK_BOOTTIME_ALARM",
    10: "CLOCK_SGI_CYCLE",
    11: "CLOCK_TAI",
}
#: clock_nanosleep(2) flags (include/uapi/linux/time.h).
TIMER_FLAGS: Mapping[int, str] = {1: "TIMER_ABSTIME"}

#: Socket address families the decoder knows (include/linux/socket.h).
ADDRESS_FAMILIES: Mapping[int, str] = {1: "AF_UNIX", 2: "AF_INET", 10: "AF_INET6", 16: "AF_NETLINK"}

# -- waiting for events ------------------------------------------------------------

#: poll(2) events and revents bits (include/uapi/asm-generic/poll.h).
POLL_EVENTS: Mapping[int, str] = {
    0x1: "POLLIN",
    0x2: "POLLPRI",
    0x4: "POLLOUT",
    0x8: "POLLERR",
    0x10: "POLLHUP",
    0x20: "POLLNVAL",
    0x40: "POLLRDNORM",
    0x80: "POLLRDBAND",
    0x100: "POLLWRNORM",
    0x200: "POLLWRBAND",
    0x400: "POLLMSG",
    0x2000: "POLLRDHUP",
}

#: epoll_event.events bits (include/uapi/linux/eventpoll.h).
EPOLL_EVENTS: Mapping[int, str] = {
    0x1: "EPOLLIN",
    0x2: "EPOLLPRI",
    0x4: "EPOLLOUT",
    0x8: "EPOLLERR",
    0x10: "EPOLLHUP",
    0x20: "EPOLLNVAL",
    0x40: "EPOLLRDNORM",
    0x80: "EPOLLRDBAND",
    0x100: "EPOLLWRNORM",
    0x200: "EPOLLWRBAND",
    0x400: "EPOLLMSG",
    0x2000: "EPOLLRDHUP",
    1 << 28: "EPOLLEXCLUSIVE",
    1 << 29: "EPOLLWAKEUP",
    1 << 30: "EPOLLONESHOT",
    1 << 31: "EPOLLET",
}

# -- futex ---------------------------------------------------------------------------

#: futex(2) commands, the low bits of ``op`` (include/uapi/linux/futex.h, FUTEX_CMD_MASK).
FUTEX_COMMANDS: Mapping[int, str] = {
    0: "FUTEX_WAIT",
    1: "FUTEX_WAKE",
    2: "FUTEX_FD",
    3: "FUTEX_REQUEUE",
    4: "FUTEX_CMP_REQUEUE",
    5: "FUTEX_WAKE_OP",
    6: "FUTEX_LOCK_PI",
    7: "FUTEX_UNLOCK_PI",
    8: "FUTEX_TRYLOCK_PI",
    9: "FUTEX_WAIT_BITSET",
    10: "FUTEX_WAKE_BITSET",
    11: "FUTEX_WAIT_REQUEUE_PI",
    12: "FUTEX_CMP_REQUEUE_PI",
    13: "FUTEX_LOCK_PI2",
}
FUTEX_PRIVATE_FLAG = 128
FUTEX_CLOCK_REALTIME = 256
#: The bits past the command and the private flag that strace names with it (include/uapi/linux/futex.h).
_FUTEX_ROBUST_UNLOCK = 512
_FUTEX_ROBUST_LIST32 = 1024
#: The commands that take FUTEX_CLOCK_REALTIME (futex(2)): any other with it fails with ENOSYS.
_FUTEX_TIMED = ("FUTEX_WAIT", "FUTEX_WAIT_BITSET", "FUTEX_WAIT_REQUEUE_PI")
_ROBUST_LISTS = {"FUTEX_UNLOCK_PI": "PI", "FUTEX_WAKE": "WAKE", "FUTEX_WAKE_BITSET": "BITSET"}


def _futex_ops() -> dict[int, str]:
    """Every valid futex ``op`` by its value, named as strace names it (src/xlat/futexops.in)."""
    ops: dict[int, str] = {}
    for private in (0, FUTEX_PRIVATE_FLAG):
        for number, name in FUTEX_COMMANDS.items():
            ops[number | private] = name + ("_PRIVATE" if private and name != "FUTEX_FD" else "")
        ops[2 | FUTEX_PRIVATE_FLAG] = "FUTEX_FD|FUTEX_PRIVATE_FLAG"
        for name in _FUTEX_TIMED:
            number = next(number for number, known in FUTEX_COMMANDS.items() if known == name)
            ops[number | private | FUTEX_CLOCK_REALTIME] = ops[number | private] + "|FUTEX_CLOCK_REALTIME"
        for name, kind in _ROBUST_LISTS.items():
            number = next(number for number, known in FUTEX_COMMANDS.items() if known == name)
            suffix = "_PRIVATE" if private else ""
            ops[number | _FUTEX_ROBUST_UNLOCK | private] = f"FUTEX_UNLOCK_{kind}_LIST64{suffix}"
            ops[number | _FUTEX_ROBUST_UNLOCK | _FUTEX_ROBUST_LIST32 | private] = f"FUTEX_UNLOCK_{kind}_LIST32{suffix}"
    return ops


#: futex ``op`` values by name, as strace prints them.
FUTEX_OPS: Mapping[int, str] = _futex_ops()
#: The bitset that matches any waiter (FUTEX_BITSET_MATCH_ANY).
FUTEX_BITSET_MATCH_ANY = 0xFFFFFFFF
#: FUTEX_WAKE_OP's encoded operation (include/uapi/linux/futex.h): op << 28, cmp << 24, oparg, cmparg.
FUTEX_WAKE_OPS: Mapping[int, str] = {
    0: "FUTEX_OP_SET",
    1: "FUTEX_OP_ADD",
    2: "FUTEX_OP_OR",
    3: "FUTEX_OP_ANDN",
    4: "FUTEX_OP_XOR",
}
FUTEX_WAKE_CMPS: Mapping[int, str] = {
    0: "FUTEX_OP_CMP_EQ",
    1: "FUTEX_OP_CMP_NE",
    2: "FUTEX_OP_CMP_LT",
    3: "FUTEX_OP_CMP_LE",
    4: "FUTEX_OP_CMP_GT",
    5: "FUTEX_OP_CMP_GE",
}
FUTEX_OP_OPARG_SHIFT = 8


def futex_op(op: int) -> list[str]:
    """A futex ``op`` as strace prints it: the command, ``_PRIVATE`` when private, then FUTEX_CLOCK_REALTIME."""
    return value_name(op & 0xFFFF_FFFF, FUTEX_OPS, "FUTEX_").split("|")


# -- names of values ----------------------------------------------------------------


def unknown_value(value: int, family: str) -> str:
    """A number no name of its family stands for, as strace prints it: ``0x2a /* P_??? */`` (``family`` ``P_``)."""
    return f"{hex(value)} /* {family}??? */"


def value_name(value: int, table: Mapping[int, str], family: str) -> str:
    """A value of a table of names (not of bits): its name, or :func:`unknown_value` (strace's ``printxval``)."""
    name = table.get(value)
    return name if name is not None else unknown_value(value, family)


def flag_names(value: int, table: Mapping[int, str], unknown: str | None = None) -> list[str]:
    """Split a bit mask into flag names, in the table's order; leftover bits stay visible in hex.

    As strace prints them (``printflags_ex``, src/xlat.c): where no bit has a
    name, the number carries a comment naming the family, ``0x1 /* O_??? */``
    (``unknown`` is that family's prefix, ``O_``).
    """
    names = []
    rest = value
    for bit, name in table.items():
        if bit and rest & bit == bit:  # every bit of a flag made of several (O_SYNC)
            names.append(name)
            rest &= ~bit
    if rest:
        names.append(hex(rest) if names or unknown is None else unknown_value(rest, unknown))
    return names


def flag_value(names: Iterable[str], table: Mapping[int, str]) -> int:
    """Invert :func:`flag_names`: the bit mask that a list of names stands for."""
    by_name = {name: bit for bit, name in table.items()}
    value = 0
    for name in names:
        value |= by_name[name] if name in by_name else int(name.split(" ", 1)[0], 16)
    return value


# -- each table with its family --------------------------------------------------------


class Xlat:
    """A table of names and the family strace names a number outside it by (strace's ``struct xlat``, src/xlat.c).

    One per table, named here once: the tracer's decoders name a number
    through it, and the strace-log reader names a ``-X raw`` number through
    the same one (the catalogue's :class:`~harness.model.syscalls.entry.Arg`
    holds it), so a value reads the same from either source.  Compared by
    identity: each is a module constant.
    """

    __slots__ = ("family", "table")

    def __init__(self, table: Mapping[int, str], family: str | None) -> None:
        self.table = table
        """The names, in strace's order."""
        self.family = family
        """The prefix of an unknown number's comment, ``O_`` for ``0x1 /* O_??? */``; None: the bare number."""

    def flags(self, value: int) -> list[str]:
        """A bit mask as its flag names (:func:`flag_names`)."""
        return flag_names(value, self.table, self.family)

    def name(self, value: int) -> str | int:
        """One value as its name; an unknown one as strace prints it, or the number itself when no family is set."""
        if self.family is None:
            return self.table.get(value, value)
        return value_name(value, self.table, self.family)

    def __repr__(self) -> str:
        return f"Xlat({self.family!r}, {len(self.table)} names)"


CLONE_FLAGS_XLAT = Xlat(CLONE_FLAGS, "CLONE_")
CLONE3_FLAGS_XLAT = Xlat(CLONE3_FLAGS, "CLONE_")
WAIT_OPTIONS_XLAT = Xlat(WAIT_OPTIONS, "W")
WAITID_IDTYPES_XLAT = Xlat(WAITID_IDTYPES, "P_")
SOCK_FLAGS_XLAT = Xlat(SOCK_FLAGS, "SOCK_")
FCNTL_COMMANDS_XLAT = Xlat(FCNTL_COMMANDS, "F_")
OPEN_FILE_FLAGS_XLAT = Xlat(OPEN_FILE_FLAGS, "O_")
CLOSE_RANGE_FLAGS_XLAT = Xlat(CLOSE_RANGE_FLAGS, "CLOSE_RANGE_")
CLOCK_NAMES_XLAT = Xlat(CLOCK_NAMES, None)  # strace prints an unknown clock as its number
TIMER_FLAGS_XLAT = Xlat(TIMER_FLAGS, "TIMER_")
ADDRESS_FAMILIES_XLAT = Xlat(ADDRESS_FAMILIES, None)  # the tracer keeps an unknown family's number
POLL_EVENTS_XLAT = Xlat(POLL_EVENTS, "POLL")
EPOLL_EVENTS_XLAT = Xlat(EPOLL_EVENTS, "EPOLL")
SA_FLAGS_XLAT = Xlat(kernel.SA_FLAGS, "SA_")


# -- every name a decoded value can hold ---------------------------------------

#: The symbolic constants that can appear in a decoded argument, siginfo or
#: result: what an expectation may compare against, and where a misspelt name
#: finds its nearest real one.
SYMBOLIC_VALUES: frozenset[str] = frozenset(
    {
        *kernel.ERRNO_NUMBERS,
        *kernel.SIGNAL_NUMBERS,
        *kernel.SI_CODES_GENERIC.values(),
        *(name for codes in kernel.SI_CODES_BY_SIGNAL.values() for name in codes.values()),
        *CLONE_FLAGS.values(),
        *WAIT_OPTIONS.values(),
        *WAITID_IDTYPES.values(),
        *kernel.SA_FLAGS.values(),
        *kernel.SPECIAL_HANDLERS.values(),
        *SOCK_FLAGS.values(),
        *FCNTL_COMMANDS.values(),
        *FD_FLAGS.values(),
        *OPEN_FILE_FLAGS.values(),
        *CLOSE_RANGE_FLAGS.values(),
        *ADDRESS_FAMILIES.values(),
        *POLL_EVENTS.values(),
        *EPOLL_EVENTS.values(),
        *FUTEX_COMMANDS.values(),
        *(name + "_PRIVATE" for name in FUTEX_COMMANDS.values()),
        "FUTEX_CLOCK_REALTIME",
    }
)
