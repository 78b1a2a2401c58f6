"""One catalogue entry: everything the harness knows about one system call.

Like a ``SYS_FUNC`` of strace (``src/net.c``, ``src/signal.c``), an entry
holds a call's decoded arguments (their names, their order as the text
trace prints them, and their kinds), its entry and exit decoders, which
arguments the kernel writes at exit, and what its result is.  Everyone who
reads a call reads it here: the tracer (decoders, and whether a decoded
value can be cached), the text renderer (order and kinds), the step parser
(what a positional argument means) and golden stories (which values are
pids, addresses, ports).

Kinds are data, not code: the renderer and the golden normaliser each hold
one rule per kind, so a new call made of known kinds needs no code outside
its entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from harness.model.kernel_flags import Xlat
from harness.model.record import record
from harness.model.syscalls.structs import MemoryReader

#: How a decoded argument prints and normalises:
#:
#: * ``int``: a plain number (a backlog, a size, an exit status);
#: * ``fd``: a file descriptor;
#: * ``pid``: a pid target as wait4(2) and kill(2) read it: > 0 a task, < -1 the
#:   process group -pid, -1 and 0 themselves;
#: * ``signal``: a signal by its name, 0 for none;
#: * ``name``: another kernel constant by its name (a waitid idtype), or its number when unknown;
#: * ``flags``: a list of flag names, ``0`` when empty;
#: * ``pointer``: an address, NULL as None;
#: * ``sockaddr``: a decoded socket address (or its pointer), with ``port``;
#: * ``socklen``: the length the kernel wrote back, ``[16]``;
#: * ``sigaction``: a decoded ``struct sigaction`` (or its pointer);
#: * ``wait_status``: a decoded wait status (or its pointer), ``[{WIFEXITED(s) ...}]``;
#: * ``siginfo``: a decoded siginfo (or its pointer);
#: * ``clone_flags``: clone's flags, which print with the exit signal folded in (``flags=A|SIGCHLD``);
#: * ``clone_args``: clone3's ``struct clone_args``, printed with its exit signal
#:   (``{flags=..., exit_signal=...}``);
#: * ``pollfds``: poll's array of ``struct pollfd``, ``[{fd=3, events=POLLIN}]`` (or its pointer);
#: * ``fd_set``: a select set, the descriptors in it, ``[3 4]`` (NULL as None);
#: * ``epoll_events``: the ``struct epoll_event`` array epoll_wait fills, ``[{events=EPOLLIN, data=3}]``;
#: * ``sigset``: a signal set, the signals in it, ``[HUP CHLD]`` (strace shows a set of most signals by
#:   those it lacks, ``~[KILL STOP]``), or its pointer;
#: * ``timespec``, ``timeval``: a time, ``{tv_sec=1, tv_nsec=0}`` (or its pointer);
#: * ``rusage``: a resource usage, its two times, ``{ru_utime={...}, ru_stime={...}, ...}`` (or its pointer);
#: * ``resuming``: the call restart_syscall resumes, ``<... resuming interrupted nanosleep ...>``;
#: * ``clone_args_fields``: the members of clone3's struct other than its flags and exit signal;
#: * ``clone_args_written``: what the kernel wrote into it, `` => {parent_tid=[42]}``;
#: * ``ready_pollfds``: the descriptors poll found ready, ``[{fd=3, revents=POLLIN}]``;
#: * ``ready_fd_sets``: the descriptors select found ready, ``in [3], out [4]``;
#: * ``pselect_sigmask``: pselect6's sixth argument, ``{sigmask=[HUP], sigsetsize=8}`` (or its pointer);
#: * ``fds``: an array of descriptors the kernel wrote, pipe2's ``[3, 4]`` (or its pointer);
#: * ``futex_val3``: futex's last argument, a number, a bitset or FUTEX_WAKE_OP's encoded operation;
#: * ``fcntl_arg``: fcntl's third argument, by its command: a number, flags, a struct (a lock, an owner), a
#:   write-life hint ``[RWH_WRITE_LIFE_SHORT]``, or its pointer;
#: * ``returned``: how strace shows a result: in hex or not, with a note (``= 0x1 (flags FD_CLOEXEC)``).
ArgKind = Literal[
    "int",
    "fd",
    "pid",
    "signal",
    "name",
    "flags",
    "pointer",
    "sockaddr",
    "socklen",
    "sigaction",
    "wait_status",
    "siginfo",
    "clone_flags",
    "clone_args",
    "pollfds",
    "fd_set",
    "epoll_events",
    "sigset",
    "timespec",
    "timeval",
    "rusage",
    "resuming",
    "clone_args_fields",
    "clone_args_written",
    "ready_pollfds",
    "ready_fd_sets",
    "pselect_sigmask",
    "fds",
    "futex_val3",
    "fcntl_arg",
    "returned",
]

#: What a successful result is: a number, a new descriptor, a pid (a child, a
#: reaped child, the caller), nothing ever (the call does not return), or the
#: value rt_sigreturn restores (the interrupted call's result, or its number when
#: the call is restarted).
ResultKind = Literal["int", "fd", "pid", "noreturn", "restored"]

#: What a call does in a server's life, as the parts of the harness that reason about one ask it: the
#: deterministic schedule (where a task waits), the stall watch (whether it can wake by itself), the facts
#: and explanations (who accepts, reaps, signals).  Like strace's ``TRACE_*`` classes, they are the
#: call's entry's, and no other module lists calls by name.
#:
#: * ``accepts``: takes a connection from a listening socket (accept, accept4);
#: * ``waits_on_descriptors``: waits until a descriptor is ready (poll, select, epoll_wait...);
#: * ``reaps``: waits for a child's change and collects it (wait4, waitid);
#: * ``sleeps``: ends by itself once its time is up (nanosleep, clock_nanosleep);
#: * ``suspends``: waits for a signal (pause, rt_sigsuspend, rt_sigtimedwait);
#: * ``resumes``: goes on with a call a signal interrupted (restart_syscall);
#: * ``listens``: makes a socket a listening one (listen);
#: * ``spawns``: makes a process or a thread (fork, vfork, clone, clone3);
#: * ``signals``: sends a signal to a task it names (kill, tkill, tgkill);
#: * ``installs_handler``: sets a signal's disposition (rt_sigaction);
#: * ``returns_from_handler``: ends a handler, restoring what the signal interrupted (rt_sigreturn);
#: * ``closes``, ``closes_range``: frees a descriptor number (close), or every one in a range (close_range);
#: * ``ends_task``, ``ends_process``: the caller's thread ends (exit), or its whole process (exit_group).
Trait = Literal[
    "accepts",
    "waits_on_descriptors",
    "reaps",
    "sleeps",
    "suspends",
    "resumes",
    "listens",
    "spawns",
    "signals",
    "installs_handler",
    "returns_from_handler",
    "closes",
    "closes_range",
    "ends_task",
    "ends_process",
]


@record
class Timeout:
    """Where a call that may wait for ever takes the time it waits at most (syscall(2) prototypes)."""

    index: int
    """The argument register that holds it."""
    forever_is_negative: bool
    """True: an ``int`` of milliseconds, negative for ever (poll); False: a pointer, NULL for ever (ppoll)."""


#: The families of strace's source files (``src/net.c``, ``src/clone.c``...), one module each here.
Family = Literal["net", "process", "wait", "signal", "desc", "futex", "time"]

#: Decodes the input arguments at entry from the six argument registers and the tracee's memory.
EntryDecoder = Callable[[Sequence[int], MemoryReader], dict[str, Any]]
#: Decodes the output arguments at exit, given the return value (negative: an errno) and what the entry
#: decoded (as strace keeps a value between a call's two stops: the caller's buffer size, say).
ExitDecoder = Callable[[Sequence[int], int, MemoryReader, Mapping[str, Any]], dict[str, Any]]


def no_outputs(raw: Sequence[int], ret: int, read: MemoryReader, entered: Mapping[str, Any]) -> dict[str, Any]:
    """The exit decoder of a call that writes nothing back."""
    return {}


def no_entry_outputs(args: Mapping[str, Any]) -> tuple[str, ...]:
    """A call whose outputs are all decoded at its exit."""
    return ()


def duplicates_nothing(args: Mapping[str, Any]) -> str | None:
    """A call whose result is no second number for an open file."""
    return None


@record(kw_only=True)
class Arg:
    """One decoded argument of a call."""

    name: str
    """Its key in an event's ``args`` and in a step (``close(fd=$conn)``)."""
    kind: ArgKind
    """How it prints and how a golden story normalises it."""
    output: bool = False
    """Written by the kernel: decoded at exit, and only when the call succeeded."""
    shown_in: str | None = None
    """The argument whose text shows this one too (clone's exit signal, printed in its flags); None: its own."""
    optional: bool = False
    """Absent where the call takes none, as strace prints it: fcntl's third argument for F_GETFD and F_GETFL."""
    named: bool = False
    """Printed with its name, as strace prints clone's: ``child_stack=NULL``."""
    braced: bool = False
    """Printed as a one-member struct, as strace prints rt_sigreturn's restored mask: ``{mask=[]}``."""
    indirect: bool = False
    """A number the kernel wrote at an address, printed in brackets as strace prints it: ``parent_tid=[42]``."""
    result_note: bool = False
    """Shown after the result, in parentheses, as strace notes what came back: ``= 1 ([{fd=3, revents=POLLIN}])``."""
    kind_by: tuple[str, tuple[tuple[str, ArgKind], ...]] | None = None
    """(another argument, its value → this one's kind): waitid's id is a pid or a descriptor by its idtype."""
    xlat: Xlat | None = None
    """The table that names a ``flags`` or ``name`` argument's number: the one its decoder names it through,
    so that the strace-log reader names a ``-X raw`` number as the tracer does.  None: decoded by code of its
    own (futex's op, a command and its modifiers)."""

    def kind_in(self, args: Mapping[str, Any]) -> ArgKind:
        """The kind of this argument among the call's decoded ``args``."""
        if self.kind_by is not None:
            selector, kinds = self.kind_by
            selected = args.get(selector)
            return dict(kinds).get(selected, self.kind) if isinstance(selected, str) else self.kind
        return self.kind


@record(kw_only=True)
class Syscall:
    """A catalogued call: its arguments, decoders and result, in one place."""

    name: str
    family: Family
    args: tuple[Arg, ...]
    """The decoded arguments, in the order the text trace prints them (which is the order a step's
    positional arguments take)."""
    decode_entry: EntryDecoder
    decode_exit: ExitDecoder = no_outputs
    register_only: bool
    """The entry decoder reads registers only, never memory: the same registers give the same
    arguments, so the tracer decodes them once and shares the value between events."""
    result: ResultKind = "int"
    entry_outputs: Callable[[Mapping[str, Any]], tuple[str, ...]] = no_entry_outputs
    """The output arguments the entry settles, given what it decoded: given at once (strace prints them at
    once, ``accept(3, NULL, NULL <unfinished ...>``, where there is no buffer for the kernel to fill), or
    known never to come (what clone3 writes back, without the flags that ask for it)."""
    timeout_note: bool = False
    """A result of 0 means the call's time ran out, which strace notes: ``= 0 (Timeout)``."""
    traits: frozenset[Trait] = frozenset()
    """What the call does in a server's life (:data:`Trait`)."""
    timeout: Timeout | None = None
    """Where it takes the time it may wait, for a call that may wait for ever."""
    duplicated: Callable[[Mapping[str, Any]], str | None] = duplicates_nothing
    """The argument holding the descriptor whose open file the call's result refers to as well, given the
    call's arguments (dup's ``oldfd``; fcntl's ``fd`` for F_DUPFD only), or None."""
    source: str
    """Where the kernel's side of the call is documented (man page, kernel file)."""

    @property
    def order(self) -> tuple[str, ...]:
        """The names of the arguments the text trace prints in their own places, in print order.

        What a step's positional arguments mean: ``accept4(3, _, _, SOCK_CLOEXEC)``
        reads as the line does.  An argument shown inside another's text (clone's
        exit signal, accept's buffer size) or after the result is named, never
        placed.
        """
        return tuple(arg.name for arg in self.args if arg.shown_in is None and not arg.result_note)

    @property
    def names(self) -> tuple[str, ...]:
        """Every argument's name, the ones shown inside another's text too."""
        return tuple(arg.name for arg in self.args)

    @property
    def outputs(self) -> tuple[str, ...]:
        """The arguments the kernel writes at exit: what an ``<unfinished ...>`` line leaves out."""
        return tuple(arg.name for arg in self.args if arg.output)

    def printed_at_entry(self, args: Mapping[str, Any]) -> frozenset[str]:
        """The arguments a call's entry shows: its inputs, and the outputs its entry decoder gave."""
        return frozenset(arg.name for arg in self.args if not arg.output) | frozenset(self.entry_outputs(args))

    def fd_args(self, args: Mapping[str, Any]) -> tuple[str, ...]:
        """The arguments among ``args`` that hold file descriptors."""
        return tuple(arg.name for arg in self.args if arg.name in args and arg.kind_in(args) == "fd")

    def __repr__(self) -> str:
        return f"<Syscall {self.name}({', '.join(f'{arg.name}: {arg.kind}' for arg in self.args)}) -> {self.result}>"
