"""Where the things the tests run live: the test programs, the bundled servers and expectations."""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent.parent

#: The small programs the integration tests trace (C sources and Python scripts).
PROGRAMS = _ROOT / "tests" / "integration" / "programs"
#: The bundled server variants.
SERVERS = _ROOT / "servers"
#: The bundled expectation files.
EXPECTATIONS = _ROOT / "expectations"
#: The interpreter running the tests, for Python programs and the harness's CLI.
PYTHON = sys.executable


def python_program(name: str) -> list[str]:
    """The command line of the Python program NAME of PROGRAMS.

    ``-I -S``: the program's story is its own, whatever is installed.  Without
    them, CPython's start-up reads the site-packages ``.pth`` files and the
    modules they import; after a ``pip install -e`` rewrites one, the next
    start compiles it and writes its ``.pyc``, so two runs of the same
    program would differ by those calls.
    """
    return [PYTHON, "-I", "-S", str(PROGRAMS / name)]


#: The programs of PROGRAMS, with their arguments: each tells one story, the same on every run.
TEST_PROGRAMS: list[tuple[str, ...]] = [
    ("sigchld_accept", "norestart"),
    ("sigchld_accept", "restart"),
    ("sigchld_accept", "ign"),
    ("killed_child",),
    ("double_fork",),
    ("thread_fork",),
    ("pep475_accept.py",),
]
