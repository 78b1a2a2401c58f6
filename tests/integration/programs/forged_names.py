"""A program whose Python function and file names are forged: a newline, a fake trace line, terminal escapes.

Under ``--python-frames`` the harness reads these names from the process's
memory.  Printed raw, they would forge a trace line and retitle the terminal.
"""

import os

FORGED = "EVIL\r\n[pid 1 main] forged() = 0\x1b]0;title\x07"


def f() -> None:
    """One traced call (close) made under the forged names."""
    fd = os.open("/dev/null", os.O_RDONLY)
    os.close(fd)


f.__code__ = f.__code__.replace(co_name=FORGED, co_qualname=FORGED, co_filename="/tmp/\x1b[31mred\n.py")
f()
