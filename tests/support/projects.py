"""A user's own project, as the integration tests build it: a copied server, an expectation file beside it.

The harness knows such a server only by its command line (``{python}
my_server.py ...``), and is run as a person runs it, ``python -m harness`` in
a subprocess, so these tests see what a user sees.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from support.programs import PYTHON, SERVERS

#: The expectation file every project holds: one promise, that no child is left a zombie.
EXPECTATION = "mine.expect.yaml"


def users_project(root: Path, copy_of: str, *, connections: int | None = None) -> Path:
    """``root/project``: the bundled server COPY_OF as ``my_server.py``, the module it imports, and EXPECTATION.

    ``connections`` goes into the file's scenario; without it the file keeps the default.
    """
    home = root / "project"
    home.mkdir()
    shutil.copy(SERVERS / f"{copy_of}.py", home / "my_server.py")
    shutil.copy(SERVERS / "_common.py", home / "_common.py")
    (home / EXPECTATION).write_text(
        "server:\n"
        "  command: ['{python}', my_server.py, --port, '{port}', --connections, '{connections}']\n"
        + (f"scenario: {{connections: {connections}}}\n" if connections is not None else "")
        + "assertions:\n"
        "  - name: every child is reaped\n"
        "    fact: no zombie left\n"
    )
    return home


def harness_cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m harness ARGS`` run in CWD, its output captured; the timeout only fences a hang."""
    return subprocess.run([PYTHON, "-m", "harness", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
