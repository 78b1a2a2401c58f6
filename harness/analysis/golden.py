"""Golden traces: each role's story as stable text, kept in a file and compared with a later run.

A regression test for a server's kernel behaviour needs a trace that reads
the same on every run of the same program.  The raw trace does not: pids,
addresses (ASLR), the clients' ephemeral ports and the uid in a siginfo
change from run to run.  :func:`normalize` renders each role's events as
strace-like lines with those replaced by what stays put: a pid by the role
that had it (``clone(...) = <main.1>``), an address by ``0x…``, a port by
``PORT``.  Everything that is the program's behaviour is kept: call names,
decoded arguments, results and errno (the kernel-internal ``ERESTARTSYS``
too), signals, spawns and exits.

A golden file is that normalized story in YAML, written by
``harness record`` and compared with ``harness diff`` through
:func:`diff_stories`.  Nothing here touches ptrace: the functions work on
recorded :class:`~harness.model.trace.Trace` values and on text.
"""

from __future__ import annotations

import difflib
import itertools
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.analysis.defaults import DEFAULT_START
from harness.analysis.facts import TraceIndex
from harness.analysis.interruptions import interruptions
from harness.model import record
from harness.model.errors import TraceInputError
from harness.model.events import Event, ExecEvent, ExitEvent, SignalEvent, SpawnEvent, SyscallEvent
from harness.model.files import Unreadable, read_bounded, replace_file
from harness.model.hints import closest
from harness.model.strace_args import format_args, format_siginfo
from harness.model.strace_format import format_result
from harness.model.syscalls import catalogued
from harness.model.syscalls.entry import ArgKind
from harness.model.trace import Trace
from harness.model.yaml_shape import MAX_NESTING, DataLoader, shape_problem

#: The version of the golden file format this module writes and reads.
FORMAT = 1


#: What an address becomes: its value changes with every run (ASLR).
ADDRESS = "0x…"

#: What a client's port becomes: the kernel picks a new ephemeral one each time.
PORT = "PORT"
#: What a number the kernel wrote back into shared memory becomes (clone's parent_tid: the new thread's
#: tid, which the thread clears as it ends, CLONE_CHILD_CLEARTID, maybe before the tracer reads it).  The
#: call's result says who the child is.
RACED = "…"
#: What a time the run measured (a child's CPU time, the time a call had left) becomes in a golden trace.
TIME = "…"

#: What a pid outside the traced tree becomes (the harness's own, a stranger's).
UNTRACED = "<untraced>"

#: Raw integers above this print in hex (harness.model.strace_args): addresses, in practice.
_SMALL = 0xFFFF


class GoldenFileError(TraceInputError):
    """A golden file that cannot be read back: missing, not YAML, or not the documented structure."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GoldenTrace:
    """A recorded, normalized story of a run: what ``harness record`` writes and ``harness diff`` compares."""

    roles: Mapping[str, tuple[str, ...]]
    """Each role's normalized lines, roles in tree order (:func:`role_order`)."""
    server: str | None = None
    """The bundled variant that was run, when the trace came from one."""
    scenario: Mapping[str, Any] = field(default_factory=dict)
    """How it was driven: ``connections``, ``messages``, ``concurrency``, ``mode``."""
    start_after: str | None = DEFAULT_START
    """The call whose first occurrence starts the story (its own line included); None: from the beginning."""

    def __repr__(self) -> str:
        counts = ", ".join(f"{role}: {len(lines)}" for role, lines in self.roles.items())
        return f"<GoldenTrace {self.server or '?'} from {self.start_after or 'the beginning'}: {counts}>"


# -- normalization ----------------------------------------------------------------


def first_call_seq(trace: Trace, name: str) -> int | None:
    """The seq of the first completed call named ``name``: the marker a story starts at."""
    for event in trace:
        if isinstance(event, SyscallEvent) and event.name == name:
            return event.seq
    return None


def golden_from_trace(
    trace: Trace,
    *,
    server: str | None = None,
    scenario: Mapping[str, Any] | None = None,
    start_after: str | None = DEFAULT_START,
) -> GoldenTrace:
    """The golden form of a trace, from the first ``start_after`` call (None: from the beginning).

    The returned ``start_after`` is None also when the marker was not found,
    so that the file says honestly where its story starts.
    """
    start = first_call_seq(trace, start_after) if start_after is not None else None
    return GoldenTrace(
        roles=normalize(trace, start_seq=start or 0),
        server=server,
        scenario=dict(scenario or {}),
        start_after=start_after if start is not None else None,
    )


def normalize(trace: Trace, *, start_seq: int = 0) -> dict[str, tuple[str, ...]]:
    """Each role's story from ``seq >= start_seq`` on, one stable line per event, roles in tree order.

    Two runs of a deterministic program give equal results: pids are
    replaced by roles, addresses by ``0x…``, client ports by ``PORT``, and
    the uid of a siginfo is dropped.  Events before ``start_seq`` are not
    shown, but they are read: whether an ``rt_sigreturn`` restarts a call
    depends on what the task did before.
    """
    pids = _PidNames(trace)
    restarts = _Restored(trace)
    stories: dict[str, list[str]] = {}
    for event in trace:
        line = _line(event, pids, restarts)
        if event.seq >= start_seq:
            stories.setdefault(event.role, []).append(line)
    return {role: tuple(stories[role]) for role in sorted(stories, key=role_order)}


def role_order(role: str) -> tuple[str | int, ...]:
    """Sort key putting roles in tree order (main, main.1, main.1.1, main.1/t1, main.2, main.10).

    The order in which roles first act can vary (two threads exiting); a
    golden file must not churn with it.
    """
    return tuple(int(part) if index % 2 else part for index, part in enumerate(re.split(r"(\d+)", role)))


class _PidNames:
    """Pid → ``<role>``, resolved once per pid through :meth:`Trace.role_of_pid` (a scan of the trace)."""

    def __init__(self, trace: Trace) -> None:
        self._trace = trace
        self._known: dict[int, str] = {}

    def name(self, pid: int) -> str:
        """A pid as a value: the role that had it, or ``<untraced>``."""
        if pid not in self._known:
            role = self._trace.role_of_pid(pid)
            self._known[pid] = f"<{role}>" if role is not None else UNTRACED
        return self._known[pid]

    def target(self, pid: Any) -> Any:
        """A pid argument of wait4 or kill: > 0 a task, < -1 a process group, -1 and 0 themselves."""
        if not isinstance(pid, int) or isinstance(pid, bool) or pid in (-1, 0):
            return pid
        return self.name(pid) if pid > 0 else "-" + self.name(-pid)


class _Restored:
    """What each ``rt_sigreturn`` of the trace returns, told as the story rather than as a number.

    Facts: ``rt_sigreturn`` "returns" whatever was in the return register
    when the signal was delivered, which the handler's frame restores.  When
    the kernel is to restart an interrupted call, that is the call's own
    number (``restart_syscall``'s for ERESTART_RESTARTBLOCK); when the signal
    arrived as a call returned, it is that call's result (a pid, as a
    blocking ``wait4`` returns); between calls, any value of the program's.
    None of these numbers is stable from run to run; which call was
    restarted, or whose result was restored, is.  The restarts are read from
    :func:`harness.analysis.interruptions.interruptions`, the one account of
    them.
    """

    def __init__(self, trace: Trace) -> None:
        self._restarts: dict[int, str] = {}
        for account in interruptions(TraceIndex(trace)):
            evidence = account.evidence
            if not (isinstance(evidence, SyscallEvent) and evidence.name == "rt_sigreturn"):
                continue
            name = account.call_name or "an untraced call"
            if account.outcome == "restarted":
                self._restarts[evidence.seq] = f" = (restarts {name})"
            elif account.outcome == "restart_syscall":
                self._restarts[evidence.seq] = f" = (restarts {name} via restart_syscall)"
        self._last_signal: dict[int, SignalEvent] = {}

    def note(self, event: Event) -> None:
        """Follow each task's last signal: the call it arrived in names what rt_sigreturn restores."""
        if isinstance(event, SignalEvent):
            self._last_signal[event.tid] = event

    def result(self, event: SyscallEvent) -> str | None:
        """The stable result of an ``rt_sigreturn``, or None to print it as it is (an error: EINTR)."""
        if event.seq in self._restarts:
            return self._restarts[event.seq]
        if event.errno is not None or event.ret is None:
            return None
        signal = self._last_signal.get(event.tid)
        return f" = (restores {signal.syscall}'s result)" if signal and signal.syscall else " = (restored)"


def _line(event: Event, pids: _PidNames, restarts: _Restored) -> str:
    """One event as a stable line: strace's notation, with the harness's own lines stripped of pids."""
    restarts.note(event)
    match event:
        case SyscallEvent():
            args = format_args(event.name, _stable_args(event.name, event.args, pids))
            result = _result(event, pids, restarts)
            return f"{event.name}({args}){result}"
        case SignalEvent():
            return f"--- {event.name} {format_siginfo(_stable_siginfo(event.siginfo, pids))} ---"
        case SpawnEvent():
            return f"+++ spawned {event.child_role} via {event.via} +++"
        case ExecEvent():
            return f"+++ exec {os.path.basename(event.filename)} +++"
        case ExitEvent():
            if event.signal is not None:
                return f"+++ killed by {event.signal}{' (core dumped)' if event.core_dumped else ''} +++"
            return f"+++ exited with {event.code} +++"


def _result(event: SyscallEvent, pids: _PidNames, restarts: _Restored) -> str:
    """The `` = ...`` part: a restored value read as such, a pid as its role, else as strace_format prints it."""
    entry = catalogued(event.name)
    if entry is not None and entry.result == "restored":
        restored = restarts.result(event)
        if restored is not None:
            return restored
    if entry is not None and entry.result == "pid" and event.errno is None and event.ret is not None and event.ret > 0:
        return f" = {pids.name(event.ret)}"
    return format_result(record.replace(event, args=_stable_args(event.name, event.args, pids)))


def _stable_args(name: str, args: Mapping[str, Any], pids: _PidNames) -> dict[str, Any]:
    """The arguments with what changes between runs replaced, in the shapes strace_args already prints.

    A catalogued call's arguments are normalised by their kinds; the raw
    integers of any other call by size, a big one being an address.
    """
    stable = {key: _stable_value(value) for key, value in args.items()}
    entry = catalogued(name)
    if entry is None:
        return {
            key: ADDRESS if isinstance(value, int) and abs(value) > _SMALL else value for key, value in stable.items()
        }
    for arg in entry.args:
        if arg.name not in stable:
            continue
        kind, value = arg.kind_in(stable), stable[arg.name]
        if (arg.result_note or arg.output) and kind in ("timespec", "timeval") and isinstance(value, dict):
            stable[arg.name] = TIME  # the time a call had left: the run's own
        elif arg.indirect and isinstance(value, int):
            stable[arg.name] = RACED
        else:
            stable[arg.name] = _stable_arg(kind, value, pids)
    return stable


#: Every argument kind's rule in a golden story, one place: the kinds whose value changes from run to run,
#: which :func:`_stable_arg` replaces with what stays put, and the kinds kept as they are.  A new kind goes
#: in one of the two; a test holds the two together to be every kind.
NORMALISED_KINDS: frozenset[ArgKind] = frozenset(
    {"pid", "sockaddr", "sigaction", "siginfo", "clone_args_written", "rusage", "epoll_events"}
)
KEPT_KINDS: frozenset[ArgKind] = frozenset(
    {
        "int",
        "fd",
        "signal",
        "name",
        "flags",
        "pointer",  # already 0x… (see _stable_value)
        "socklen",
        "wait_status",
        "clone_flags",
        "clone_args",
        "pollfds",
        "fd_set",
        "sigset",
        "timespec",
        "timeval",
        "resuming",
        "clone_args_fields",
        "ready_pollfds",
        "ready_fd_sets",
        "pselect_sigmask",
        "fds",
        "futex_val3",
        "fcntl_arg",
        "returned",
    }
)


def _stable_arg(kind: ArgKind, value: Any, pids: _PidNames) -> Any:
    """An argument of a kind that changes between runs, with what stays put instead.

    Kinds not listed keep their value (a pointer already became ``0x…``).
    """
    match kind:
        case "pid":
            return pids.target(value)
        case "sockaddr" if isinstance(value, dict) and "port" in value:
            return {**value, "port": PORT}  # a client's port: the kernel picks a new ephemeral one each run
        case "sigaction" if isinstance(value, dict):
            return _stable_sigaction(value)
        case "siginfo" if isinstance(value, dict):
            return _stable_siginfo(value, pids)
        case "clone_args_written" if isinstance(value, dict):
            return {key: item if key == "tail" else RACED for key, item in value.items()}
        case "rusage" if isinstance(value, dict):
            return {key: TIME for key in value}  # the CPU times a child used: the run's own
        case "epoll_events" if isinstance(value, list):
            return [
                {
                    **item,
                    "data": ADDRESS if isinstance(item.get("data"), int) and item["data"] > _SMALL else item["data"],
                }
                if isinstance(item, dict)
                else item
                for item in value
            ]
    return value


def _stable_value(value: Any) -> Any:
    """A pointer (a hex string) becomes ``0x…``, inside structs too.

    Flag lists keep their unknown bits, which do not move.
    """
    if isinstance(value, str) and value.startswith("0x"):
        return ADDRESS
    if isinstance(value, dict):
        return {key: _stable_value(item) for key, item in value.items()}
    return value


def _stable_sigaction(act: Mapping[str, Any]) -> dict[str, Any]:
    """Handler kind and flags stay; a handler's and the restorer's addresses go."""
    handler = act.get("handler")
    return {
        **act,
        "handler": "handler" if isinstance(handler, str) and handler.startswith("0x") else handler,
        "restorer": None,
    }


def _stable_siginfo(info: Mapping[str, Any], pids: _PidNames) -> dict[str, Any]:
    """The signal name is on the line already; the sender is a role; uid and addresses go."""
    stable: dict[str, Any] = {}
    for key, value in info.items():
        if key in ("si_signo", "si_uid", "si_utime", "si_stime"):  # on the line already, or the run's own
            continue
        if key == "si_pid" and isinstance(value, int) and value > 0:
            stable[key] = pids.name(value)
        else:
            stable[key] = _stable_value(value)
    return stable


# -- golden files -----------------------------------------------------------------

_HEADER = "# A golden trace: written by 'harness record', compared by 'harness diff FILE VARIANT'.\n"
_KEYS = ("format", "server", "scenario", "start_after", "roles")


def golden_to_dict(golden: GoldenTrace) -> dict[str, Any]:
    """The YAML document of a golden trace, keys in reading order."""
    return {
        "format": FORMAT,
        "server": golden.server,
        "scenario": dict(golden.scenario),
        "start_after": golden.start_after,
        "roles": {role: list(lines) for role, lines in golden.roles.items()},
    }


def write_golden(path: str | Path, golden: GoldenTrace, *, within: Path | None = None) -> None:
    """Write a golden file, one line of YAML per event so that git diffs read like trace diffs.

    It replaces the file whole (:func:`harness.model.files.replace_file`): a
    link planted at the target is replaced, never written through, and a
    reader never sees half a file.  ``within``: a directory tree the file must
    stay in, reached without following a link inside it.
    """
    text = yaml.safe_dump(
        golden_to_dict(golden), sort_keys=False, allow_unicode=True, width=1_000_000, default_flow_style=False
    )
    replace_file(Path(path), _HEADER + text, within=within)


#: The largest golden file read back: a story of thousands of events is a few hundred KiB.
MAX_GOLDEN_BYTES = 16 << 20


def _read_bounded(path: Path) -> str:
    """A golden file's text, read only from a regular file of bounded size (never a device or a FIFO)."""
    try:
        data = read_bounded(path, MAX_GOLDEN_BYTES)
    except Unreadable as refused:
        if refused.kind == "missing":
            raise GoldenFileError(
                f"{path}: no such golden file (write one with: harness record SERVER -o {path})"
            ) from None
        if refused.kind == "refused":
            raise GoldenFileError(f"{path}: cannot read the golden file: {refused.reason}") from None
        raise GoldenFileError(f"{path}: {refused.reason}, so not a golden file") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise GoldenFileError(f"{path}: not a text file (expected a YAML golden trace)") from None


def read_golden(path: str | Path) -> GoldenTrace:
    """Read a golden file back; anything wrong is a :class:`GoldenFileError` naming the file and the place."""
    path = Path(path)
    text = _read_bounded(path)
    # The harness never writes aliases, nor nests deeper than a few levels: refusing both keeps a
    # crafted file from expanding without bound or from costing seconds of recursion.
    problem = shape_problem(text, aliases=False)
    if problem is not None:
        where = f"{path}:{problem.line}:{problem.column}"
        if problem.kind == "alias":
            raise GoldenFileError(f"{where}: a golden file has no aliases (*name): re-record it")
        raise GoldenFileError(f"{where}: nests too deep for a golden file (more than {MAX_NESTING} levels)")
    try:
        loader = DataLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except RecursionError:  # not reached past the shape check; one message all the same
        raise GoldenFileError(f"{path}: nests too deep for a golden file (more than {MAX_NESTING} levels)") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        raise GoldenFileError(f"{where}: not valid YAML: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise GoldenFileError(f"{path}: not valid YAML: {error}") from None
    return _Reader(path, node).golden(data)


class _Reader:
    """Checks a parsed golden document, reporting each problem at its line and column."""

    def __init__(self, path: Path, node: yaml.Node | None) -> None:
        self._path = path
        self._node = node

    def fail(self, keys: Sequence[str | int], message: str, *, at_key: bool = False) -> GoldenFileError:
        """An error at the place ``keys`` lead to (as far as they lead), e.g. ``roles.main[2]``.

        ``at_key`` points at the last key itself rather than at its value (an unknown key).
        """
        node = self._node
        for index, key in enumerate(keys):
            child = _child(node, key, key_node=at_key and index == len(keys) - 1)
            if child is None:
                break
            node = child
        line = f":{node.start_mark.line + 1}:{node.start_mark.column + 1}" if node is not None else ""
        name = _key_path(keys)
        return GoldenFileError(f"{self._path}{line}: {name + ': ' if name else ''}{message}")

    def golden(self, data: Any) -> GoldenTrace:
        """The golden trace in ``data``, or the first structural problem."""
        if not isinstance(data, dict):
            raise self.fail((), f"expected a golden trace (a mapping with {', '.join(_KEYS)}), got {_kind(data)}")
        for key in data:
            if key not in _KEYS:
                close = closest(str(key), _KEYS)
                hint = f"; did you mean {close[0]!r}?" if close else f"; expected {', '.join(_KEYS)}"
                raise self.fail((str(key),), f"unknown key{hint}", at_key=True)
        if data.get("format") != FORMAT:
            where = ("format",) if "format" in data else ()
            raise self.fail(
                where, f"format must be {FORMAT} (the version this harness reads), got {data.get('format')!r}"
            )
        if "roles" not in data:
            raise self.fail((), "lacks the key 'roles' (each role's list of lines)")
        server = data.get("server")
        if server is not None and not isinstance(server, str):
            raise self.fail(("server",), f"must be a variant name or null, got {_kind(server)}")
        scenario = data.get("scenario") or {}
        if not isinstance(scenario, dict):
            raise self.fail(("scenario",), f"must be a mapping (connections, messages...), got {_kind(scenario)}")
        start_after = data.get("start_after")
        if start_after is not None and not isinstance(start_after, str):
            raise self.fail(("start_after",), f"must be a syscall name or null, got {_kind(start_after)}")
        return GoldenTrace(roles=self.roles(data["roles"]), server=server, scenario=scenario, start_after=start_after)

    def roles(self, roles: Any) -> dict[str, tuple[str, ...]]:
        """Each role's lines: a mapping of role names to lists of strings."""
        if not isinstance(roles, dict):
            raise self.fail(("roles",), f"must map each role to its list of lines, got {_kind(roles)}")
        stories = {}
        for role, lines in roles.items():
            if not isinstance(role, str):
                raise self.fail(("roles",), f"role names are strings (main, main.1...), got {role!r}")
            if not isinstance(lines, list):
                raise self.fail(("roles", role), f"must be a list of lines, got {_kind(lines)}")
            for index, line in enumerate(lines):
                if not isinstance(line, str):
                    raise self.fail(("roles", role, index), f"must be a line of text, got {_kind(line)}")
            stories[role] = tuple(lines)
        return stories


def _child(node: yaml.Node | None, key: str | int, *, key_node: bool = False) -> yaml.Node | None:
    """The YAML node under ``key`` (or the key itself), to point an error at its line."""
    if isinstance(node, yaml.MappingNode) and isinstance(key, str):
        return next((name if key_node else value for name, value in node.value if name.value == key), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        child: yaml.Node = node.value[key]
        return child
    return None


def _key_path(keys: Sequence[str | int]) -> str:
    """Where in the document, as a person would write it: ``roles.main[2]``."""
    return "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in keys).removeprefix(".")


def _kind(value: Any) -> str:
    """What was found instead, for an error message."""
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{type(value).__name__} {value!r}"


# -- diffs --------------------------------------------------------------------------


def diff_stories(
    a: Mapping[str, Sequence[str]],
    b: Mapping[str, Sequence[str]],
    *,
    a_label: str,
    b_label: str,
    context: int = 2,
) -> list[str]:
    """A role-by-role diff of two normalized stories; empty when they are the same.

    Per role that differs: a ``== role`` header, then only the changed hunks
    (``@@ -a,n +b,m @@``, ``-`` lines of ``a``, ``+`` lines of ``b``, a
    little context).  A role only one side has is named, not listed.
    """
    lines: list[str] = []
    for role in dict.fromkeys([*a, *b]):
        if role not in b:
            lines.append(f"== {role}: only in {a_label} ({_events(len(a[role]))})")
        elif role not in a:
            lines.append(f"== {role}: only in {b_label} ({_events(len(b[role]))})")
        elif list(a[role]) != list(b[role]):
            lines.append(f"== {role}: {_events(len(a[role]))} in {a_label}, {len(b[role])} in {b_label}")
            hunks = difflib.unified_diff(list(a[role]), list(b[role]), n=context, lineterm="")
            lines.extend(itertools.islice(hunks, 2, None))  # the first two are unified_diff's file names
    if lines:
        lines[:0] = [f"--- {a_label}", f"+++ {b_label}"]
    return lines


def _events(count: int) -> str:
    """A count of events in plain English."""
    return f"{count} event" if count == 1 else f"{count} events"
