"""The C library, resolved once: for the harness's own calls, and for python-ptrace.

python-ptrace loads the C library in ``ptrace.ctypes_libc`` by
``ctypes.util.find_library("c")``, which on Linux runs ``ldconfig -p`` in a
subprocess, and imports ``subprocess`` for it: several milliseconds of every
``harness trace`` start, to find a library that is already loaded.  The C
library is part of this process (the interpreter links it), so
``CDLL(None)`` reaches its symbols with no search at all (dlopen(3): a NULL
filename is the main program and what it loaded).  This module loads it so,
and hands python-ptrace the same object as its ``ptrace.ctypes_libc``
module (the module's two names, ``LIBC_FILENAME`` and ``libc``, are all it
has), before any part of python-ptrace is imported: the package's
``__init__`` imports this module first.
"""

from __future__ import annotations

import ctypes
import sys
import types

LIBC = ctypes.CDLL(None, use_errno=True)
"""The C library (with ``errno`` kept for :func:`ctypes.get_errno`)."""

if "ptrace.ctypes_libc" not in sys.modules:
    _shim = types.ModuleType("ptrace.ctypes_libc", "The C library, as harness.running.tracer.libc resolved it.")
    _shim.LIBC_FILENAME = None  # type: ignore[attr-defined]
    _shim.libc = LIBC  # type: ignore[attr-defined]
    sys.modules["ptrace.ctypes_libc"] = _shim
