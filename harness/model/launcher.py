"""A launcher's share of a trace: what the traced command's process ran before the program that serves.

The same server is started directly on one machine and through a launcher
on another: a pyenv ``python3`` shim (bash that forks helpers for each
``$(...)`` and then execs the next program), ``sh -c 'dir=$(dirname "$0");
exec ...'``, ``env``, a wrapper script that execs.  The launcher runs in the
traced command's own process, which later execs the server, and the
processes it forks come first.  Numbered as they come, they would take the
server's names (``main.1`` for a shim's helper, ``main.8`` for the first
connection) and every assertion that names a role, every golden story,
would depend on the machine.

So roles are tied to the program that serves: the *serving image* is the
program the traced command's process ran when the first successful
``listen`` of the tree happened, in that process or in a process it had
created by then (followed up the tree through the spawn events).  When the
command's process exec'd into the serving image after an earlier program,
that earlier part is the launcher's, named for what it is:

* the command's process before that exec is ``launcher`` (the exec itself,
  the serving program's first event, is ``main``'s);
* the processes and threads it created before that exec are
  ``launcher.1``, ``launcher.2``, ``launcher/t1`` (with their own children
  below them, ``launcher.1.1``);
* what the serving program creates is numbered from 1: ``main.1`` is the
  first connection's child whatever ran before.

A direct start (one program), a trace with no ``listen``, and a server that
listens in its first program are left as they were.  The rule reads only
the events, so a trace recorded live (whose JSON Lines name the tasks as
they started) and the same trace read back are named alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.model import record
from harness.model.events import Event, ExecEvent, SpawnEvent, SyscallEvent
from harness.model.roles import ROOT_ROLE, process_role

#: The role of the traced command's process while it ran the launcher, the program before the serving one.
LAUNCHER_ROLE = "launcher"


def name_the_launcher(events: Sequence[Event]) -> Sequence[Event]:
    """The events with the launcher's share named ``launcher``, or the same events when there is none."""
    boundary = _serving_exec(events)
    if boundary is None:
        return events
    renamed = _Renaming(boundary)
    return tuple(renamed.event(event) for event in events)


def _serving_exec(events: Sequence[Event]) -> int | None:
    """The seq of the command process's exec into the serving program, when a launcher ran before it."""
    root_execs = [event.seq for event in events if isinstance(event, ExecEvent) and event.role == ROOT_ROLE]
    if len(root_execs) < 2:  # one program (or a trace already named: the launcher's execs are not main's)
        return None
    listens = (event for event in events if isinstance(event, SyscallEvent) and event.name == "listen")
    listen = next((event for event in listens if event.errno is None), None)
    if listen is None:
        return None
    spawns = {event.child_role: event for event in events if isinstance(event, SpawnEvent) and not event.thread}
    role, seq = process_role(listen.role), listen.seq
    while role != ROOT_ROLE:  # up the tree, to the command's process, at the moment each step was created
        spawn = spawns.get(role)
        if spawn is None:
            return None
        role, seq = process_role(spawn.role), spawn.seq
    images = sum(1 for exec_seq in root_execs if exec_seq < seq)
    return root_execs[images - 1] if images >= 2 else None


class _Renaming:
    """The new name of each role, given where the serving program begins (``boundary``, a seq)."""

    def __init__(self, boundary: int) -> None:
        self._boundary = boundary
        self._children: dict[str, str] = {}  # the command process's direct children and threads, renamed
        self._counts = {"launcher.": 0, "launcher/t": 0, "main.": 0, "main/t": 0}

    def event(self, event: Event) -> Event:
        role = self._role(event.role, event.seq)
        if isinstance(event, SpawnEvent):
            if process_role(event.role) == ROOT_ROLE:
                self._name_child(event)
            child = self._role(event.child_role, event.seq)
            if (role, child) != (event.role, event.child_role):
                return record.replace(event, role=role, child_role=child)
            return event
        return event if role == event.role else record.replace(event, role=role)

    def _name_child(self, spawn: SpawnEvent) -> None:
        owner = LAUNCHER_ROLE if spawn.seq < self._boundary else ROOT_ROLE
        kind = "/t" if spawn.thread else "."
        self._counts[owner + kind] += 1
        self._children[spawn.child_role] = f"{owner}{kind}{self._counts[owner + kind]}"

    def _role(self, role: str, seq: int) -> str:
        if role == ROOT_ROLE:
            return LAUNCHER_ROLE if seq < self._boundary else ROOT_ROLE
        process, _, thread = role.partition("/")
        if process == ROOT_ROLE:  # a thread of the command's process: named at its creation
            return self._children.get(role, role)
        head, dot, rest = process.removeprefix(ROOT_ROLE + ".").partition(".")
        top = self._children.get(f"{ROOT_ROLE}.{head}")
        if top is None:
            return role
        return top + (dot + rest if dot else "") + (f"/{thread}" if thread else "")
