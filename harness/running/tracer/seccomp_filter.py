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

The filter is built with libseccomp (seccomp_init(3), seccomp_rule_add(3),
seccomp_load(3)), called through ctypes by its soname: loading it costs no
``ctypes.util.find_library`` (which runs ``ldconfig -p``; the pyseccomp
binding runs it twice at import).  Where libseccomp is missing, the tracer
steps every call instead.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Collection, Mapping
from functools import cache

from harness.model.syscalls import syscall_number

#: libseccomp's soname (the library's ABI 2, every release since 2.0).
_LIBSECCOMP = "libseccomp.so.2"
# include/seccomp.h (libseccomp): the actions, and the filter attribute used here.
_SCMP_ACT_ALLOW = 0x7FFF0000
_SCMP_ACT_TRACE = 0x7FF00000  # SCMP_ACT_TRACE(0): a PTRACE_EVENT_SECCOMP stop with message 0
# enum scmp_filter_attr: the action for a call of another architecture, and whether loading sets no_new_privs
_SCMP_FLTATR_ACT_BADARCH = 2
_SCMP_FLTATR_CTL_NNP = 3
_SCMP_CMP_MASKED_EQ = 7  # enum scmp_compare: (argument & datum_a) == datum_b
_LOW_32_BITS = 0xFFFF_FFFF


class _ArgumentCompare(ctypes.Structure):
    """``struct scmp_arg_cmp`` (include/seccomp.h): which argument, how to compare, and the two data."""

    _fields_ = (
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    )


#: Calls traced only when one argument holds one of some values: call number to (argument index, values).
ArgumentRules = Mapping[int, tuple[int, frozenset[int]] | None]


@cache
def _libseccomp() -> ctypes.CDLL | None:
    """libseccomp, loaded once per process; None where it is not installed."""
    try:
        library = ctypes.CDLL(_LIBSECCOMP, use_errno=True)
    except OSError:
        return None
    library.seccomp_init.argtypes = (ctypes.c_uint32,)
    library.seccomp_init.restype = ctypes.c_void_p
    library.seccomp_rule_add.argtypes = (ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint)
    library.seccomp_rule_add.restype = ctypes.c_int
    library.seccomp_rule_add_array.argtypes = (
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(_ArgumentCompare),
    )
    library.seccomp_rule_add_array.restype = ctypes.c_int
    library.seccomp_attr_set.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32)
    library.seccomp_attr_set.restype = ctypes.c_int
    library.seccomp_load.argtypes = (ctypes.c_void_p,)
    library.seccomp_load.restype = ctypes.c_int
    library.seccomp_release.argtypes = (ctypes.c_void_p,)
    library.seccomp_release.restype = None
    return library


def _check(result: int, what: str) -> None:
    if result < 0:  # libseccomp returns -errno
        raise OSError(-result, f"{what}: {os.strerror(-result)}")


def filter_installer(calls: Collection[str], when: ArgumentRules | None = None) -> Callable[[], None] | None:
    """A function that installs the filter in the calling process, or None where seccomp cannot be used.

    ``calls`` stop at every entry; the calls of ``when`` only where their
    argument's low 32 bits (a ``pid_t``, as the kernel reads it) equal one of
    the values, or always for None.
    """
    library = _libseccomp()
    if library is None:
        return None
    numbers = sorted({syscall_number(name) for name in calls})
    conditional = {number: rule for number, rule in (when or {}).items() if number not in numbers}

    def install() -> None:
        context = library.seccomp_init(_SCMP_ACT_ALLOW)
        if not context:
            raise OSError(0, "seccomp_init failed")
        try:
            # A call of another ABI (i386, x32) is reported too, where libseccomp would kill the task:
            # the tracer refuses such a program by name.
            _check(library.seccomp_attr_set(context, _SCMP_FLTATR_ACT_BADARCH, _SCMP_ACT_TRACE), "seccomp_attr_set")
            for number in numbers:
                _check(library.seccomp_rule_add(context, _SCMP_ACT_TRACE, number, 0), "seccomp_rule_add")
            for number, rule in conditional.items():
                if rule is None:
                    _check(library.seccomp_rule_add(context, _SCMP_ACT_TRACE, number, 0), "seccomp_rule_add")
                    continue
                argument, values = rule
                for value in sorted(values):  # one rule per value: the filter stops when any holds
                    compare = _ArgumentCompare(argument, _SCMP_CMP_MASKED_EQ, _LOW_32_BITS, value & _LOW_32_BITS)
                    added = library.seccomp_rule_add_array(context, _SCMP_ACT_TRACE, number, 1, ctypes.byref(compare))
                    _check(added, "seccomp_rule_add_array")
            if os.geteuid() == 0:
                _check(library.seccomp_attr_set(context, _SCMP_FLTATR_CTL_NNP, 0), "seccomp_attr_set")
            _check(library.seccomp_load(context), "seccomp_load")
        finally:
            library.seccomp_release(context)

    return install
