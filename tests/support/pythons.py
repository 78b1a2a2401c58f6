"""The CPython interpreters of this machine that the Python stack reader is tested with.

The suite's own interpreter always counts; others (3.12, 3.13, a distribution's
3.11 built as a fixed-address executable rather than on a libpython) are
found by name on PATH or among pyenv's versions, and asked for their real
path and version, once.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess

from support.programs import PYTHON

#: The interpreters to look for, by label: the names that may run them.
CANDIDATES: dict[str, tuple[str, ...]] = {
    "3.11-libpython": (PYTHON,),
    "3.11-executable": ("/usr/bin/python3.11",),
    "3.12": ("python3.12",),
    "3.13": ("python3.13",),
    "3.10": ("python3.10",),
}

_ASK = "import sys; print(sys.executable); print('%d.%d' % sys.version_info[:2])"


@functools.cache
def interpreter(label: str) -> str | None:
    """The real path of the interpreter ``label`` names, or None when this machine has none that runs."""
    wanted = label.split("-")[0]
    pyenv = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    names = [*CANDIDATES[label], *sorted(glob.glob(f"{pyenv}/versions/{wanted}.*/bin/python{wanted}"))]
    if label.endswith("-executable"):
        names = list(CANDIDATES[label])
    for name in names:
        found = shutil.which(name)
        if found is None:
            continue
        try:
            answer = subprocess.run([found, "-I", "-S", "-c", _ASK], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        lines = answer.stdout.split()
        if answer.returncode == 0 and len(lines) == 2 and lines[1] == wanted:
            return lines[0]
    return None
