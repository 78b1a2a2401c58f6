"""The seccomp-BPF prefilter: stop the tracee only at the calls the trace needs.

The technique of ``strace --seccomp-bpf`` (seccomp(2), "SECCOMP_RET_TRACE";
ptrace(2), PTRACE_O_TRACESECCOMP): before exec, the tracee installs a filter
that returns SECCOMP_RET_TRACE for the traced calls and ALLOW for every
other.  The tracer resumes with PTRACE_CONT, so a call outside the set costs
no stop at all; a traced call stops once at entry (PTRACE_EVENT_SECCOMP, which
PTRACE_GET_SYSCALL_INFO reports with its number and arguments), and the
tracer resumes that one with PTRACE_SYSCALL to see its exit.

Facts it relies on:

* The filter is inherited by every child and thread and survives execve, so
  one installation covers the whole tree.
* A SECCOMP_RET_TRACE with no tracer that asked for PTRACE_O_TRACESECCOMP
  fails the call with ENOSYS: the filter is installed only after the tracer
  has set its options (the tracee's SIGSTOP before exec).
* Installing a filter needs no_new_privs or CAP_SYS_ADMIN; the latter is
  used when the harness has it, so set-user-ID programs keep working.

The filter is built with libseccomp through its maintained binding,
pyseccomp; where either is missing, the tracer steps every call instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection


def filter_installer(calls: Collection[str]) -> Callable[[], None] | None:
    """A function that installs the filter in the calling process, or None where seccomp cannot be used."""
    try:
        import pyseccomp
    except (ImportError, OSError):  # no binding, or no libseccomp.so.2
        return None

    def install() -> None:
        syscall_filter = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
        # A call of another ABI (i386, x32) is reported too, where libseccomp would kill the task:
        # the tracer refuses such a program by name.
        syscall_filter.set_attr(pyseccomp.Attr.ACT_BADARCH, pyseccomp.TRACE(0))
        for name in calls:
            syscall_filter.add_rule(pyseccomp.TRACE(0), name)
        if os.geteuid() == 0:
            syscall_filter.set_attr(pyseccomp.Attr.CTL_NNP, 0)
        syscall_filter.load()

    return install
