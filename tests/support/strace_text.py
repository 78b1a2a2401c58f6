"""What strace's default text of a call cannot carry, for the tests that compare an strace log with a harness trace.

strace's text is the harness's too (``harness trace -o``, ``--strace-log``), so
both sides of such a comparison are held to what that text can say:

* a failed accept's length: the tracer keeps the pointer the kernel did not
  write through, strace prints the length the caller gave (``[16]``);
* a resource usage: without ``-v`` strace prints its two times and ``...``
  (``harness/model/strace_args.py`` abbreviates it alike), and the reader
  does not invent the counters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: What strace's text cannot carry, by the key of an event's JSON object.
NOT_IN_STRACE_TEXT = ("fds", "time", "start_realtime", "duration", "python")


def args_as_strace_shows(name: Any, errno: Any, args: Mapping[str, Any]) -> dict[str, Any]:
    """A call's arguments as far as strace's default text shows them."""
    shown = dict(args)
    for key, value in args.items():
        if key == "rusage" and isinstance(value, dict):
            shown[key] = {field: value[field] for field in ("ru_utime", "ru_stime")}
    if name in ("accept", "accept4") and errno and isinstance(args.get("addrlen"), str):
        shown["addrlen"] = "the caller's length"
    return shown
