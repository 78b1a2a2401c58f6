"""What strace 5.x and 6.x write with ``-f``: every text form this reader knows, in one place.

Facts about strace's output, read from its sources (strace 6.1) and strace(1):

* The leader of each line (``printleader``, src/strace.c): with ``-o FILE``
  and ``-f``, the task id, left-aligned in five columns and a space
  (``"%-5u "``: ``1539  listen(3, 128)``); on stderr, ``[pid %5u] ``, left
  out while only one task is traced, so the first task's lines before its
  first fork carry no pid at all.  ``-ff`` writes one file per task,
  ``FILE.PID``, and no pid on its lines.
* Then the times (``print_timestamp``, src/strace.c): ``-t`` ``%H:%M:%S``,
  ``-tt`` with ``.%06ld``, ``-ttt`` seconds since the epoch with
  microseconds; ``-r`` (alone) the seconds since the previous line,
  right-aligned (``%6ld.%06ld``).  ``-i`` adds ``[%016lx]``, the instruction
  pointer; ``-n`` ``[%4ld]``, the call's number.
* A call that another task's line cuts (``print_syscall_resume`` and
  ``printing_tcp`` in src/strace.c, src/syscall.c ``syscall_exiting_trace``)
  ends with `` <unfinished ...>``; its exit line starts ``<... NAME resumed>``.
  A task that dies in a call prints ``<... NAME resumed>) = ?`` (or
  `` <unfinished ...>) = ?``).
* The result (src/syscall.c ``syscall_exiting_trace``): `` = VALUE``; an
  error `` = -1 ENAME (text)``; a restart code, which user space never sees,
  `` = ? ERESTARTSYS (To be restarted if SA_RESTART is set)``; no return
  `` = ?``; notes in parentheses (`` (Timeout)``, poll's ready descriptors,
  `` (INJECTED)``); ``-T`` `` <0.000123>``; ``-y`` decorates a descriptor
  with what it is, ``4<socket:[1234]>`` or ``3</etc/hosts>``.
* Signals (``print_stopped``, src/strace.c): ``--- SIGCHLD {si_signo=...} ---``;
  a group stop ``--- stopped by SIGSTOP ---``.  Ends (``print_exited``,
  ``print_signalled``): ``+++ exited with 0 +++``, ``+++ killed by SIGTERM
  +++`` (`` (core dumped)``), and for a thread that lost its id to an exec,
  ``+++ superseded by execve in pid N +++``.
* ``-k`` prints the call's stack after its line, one frame a line, each
  starting with `` > `` (src/unwind.c); strace's own messages on stderr start
  with the name it was run by (``strace: ``, ``/usr/bin/strace: ``; ``error_msg``,
  src/error_prints.c, prints ``program_invocation_name``): ``Process 1234
  attached``, which cuts the line being written when it comes; a process that changes its
  personality gets ``[ Process PID=1234 runs in 32 bit mode. ]``
  (src/syscall.c ``update_personality``).
* ``-X raw`` prints constants as numbers (``0x80000``, ``flags=0x1200000|17``),
  ``-X verbose`` the number and its name in a comment
  (``0x80000 /* SOCK_CLOEXEC */``); ``-X abbrev``, the default, the names.
* ``-e signal=SET`` leaves out the ``--- SIG ---`` lines of the other signals,
  and the ``+++ killed by SIG +++`` lines too (``print_signalled`` tests the
  set); ``-qq`` leaves out every ``+++ exited with N +++`` (``print_exited``).
"""

from __future__ import annotations

import re

#: ``-o FILE`` with ``-f``: ``PID  `` (the pid, then spaces to five columns and one more).
FILE_LEADER = re.compile(r"(?P<pid>\d+) +")
#: stderr with ``-f``: ``[pid  1234] `` (the harness's own text, ``[pid 1234 main.1] ``, is not strace's: its
#: spawn lines and Python frames are the harness's; its JSON Lines are the trace to read back).
STDERR_LEADER = re.compile(r"\[pid +(?P<pid>\d+)\] ")

#: ``-ttt``: seconds since the epoch, with microseconds (or nanoseconds with --absolute-timestamps=ns).
EPOCH_TIME = re.compile(r"(?P<epoch>\d{9,}\.\d{6,9}) +")
#: ``-t``, ``-tt``: the time of day, with microseconds (or nanoseconds) for ``-tt``.
DAY_TIME = re.compile(r"(?P<hours>\d\d):(?P<minutes>\d\d):(?P<seconds>\d\d(?:\.\d{6,9})?) +")
#: ``-r``: the seconds since the previous line, alone, or ``(+     0.000317)`` after a ``-t`` time.
RELATIVE_TIME = re.compile(r"(?:\(\+ *(?P<after>\d+\.\d{6,9})\)|(?P<alone>\d+\.\d{6,9})) +")
#: ``-i``: the instruction pointer; ``-n``: the call's number.
POINTER_OR_NUMBER = re.compile(r"\[(?:[0-9a-f?]{8,16}| *\d+)\] +")

#: The body of a line that ends a task, that a signal stops, and a call resumed or begun.
EXITED = re.compile(r"\+\+\+ exited with (?P<code>-?\d+) \+\+\+$")
KILLED = re.compile(r"\+\+\+ killed by (?P<signal>SIG[A-Z0-9_+]+|\d+)(?P<core> \(core dumped\))? \+\+\+$")
SUPERSEDED = re.compile(r"\+\+\+ superseded by execve in pid (?P<former>\d+) \+\+\+$")
SIGNAL = re.compile(r"--- (?P<name>SIG[A-Z0-9_+]+|\d+) (?P<info>\{.*\}|\S+)(?P<injected> \(INJECTED\))? ---$")
STOPPED = re.compile(r"--- stopped by (?P<name>SIG[A-Z0-9_+]+) ---$")
RESUMED = re.compile(r"<\.\.\. (?P<name>[a-z_0-9]+|\?\?\?) resumed>(?P<rest>.*)$")
CALL = re.compile(r"(?P<name>[a-z_][a-z_0-9]*|\?\?\?)\((?P<rest>.*)$")
UNFINISHED = " <unfinished ...>"
#: What strace prints for a restart_syscall's argument: ``<... resuming interrupted accept4 ...>``.
RESUMING = re.compile(r"<\.\.\. resuming interrupted (?P<name>[a-z_0-9]+|call) \.\.\.>$")

#: On stderr, strace's message that it attached a new task cuts the line it is writing (``strace: Process
#: 1234 attached`` then a newline, in the middle of the creator's clone line); the line goes on below it.
SPLICED = re.compile(r"(?P<head>.+?)(?:(?:/[A-Za-z0-9._+-]+)*/)?strace: Process \d+ attached$")

#: Lines that are no events: a ``-k`` frame, strace's own messages, a personality change.
NOT_EVENTS = re.compile(r"( > |(?:(?:/[A-Za-z0-9._+-]+)*/)?strace: |\[ Process PID=\d+ runs in )")

#: A result: the value (``?`` where user space sees none), with ``-y``'s decoration of a descriptor.
RESULT_VALUE = re.compile(r"(?P<value>-?\d+|0x[0-9a-f]+|\?)(?:<(?P<path>.*?)>)?(?= |$)")
#: ``ENAME (text)`` after the value of a failed call (``-X raw`` keeps the name).
RESULT_ERRNO = re.compile(r" (?P<errno>E[A-Z0-9_]+) \((?P<text>[^)]*)\)")
#: ``-T``: the time spent in the call, at the line's end.
DURATION = re.compile(r" <(?P<seconds>\d+\.\d{6,9})>$")
#: strace's mark of a fault or a delay it injected (``--inject``).
INJECTED = " (INJECTED)"
DELAYED = " (DELAYED)"

#: A successful exec: strace prints ``execve(...) = 0`` at the exec's end in the new program's task.
EXEC_CALLS = frozenset({"execve", "execveat"})
