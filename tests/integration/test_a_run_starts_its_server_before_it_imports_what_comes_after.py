"""What ``harness run`` and ``harness check`` have imported when the server starts: what the run needs, not more.

The matcher, the golden model, explanations and the reports are needed once
the run is over; YAML and its schema only to read an expectation file.  The
probe wraps :meth:`Tracer.run`, the moment the server is started under
ptrace, and lists what of those is imported by then.  (``harness trace``'s
own, longer list is in test_cli_trace.py.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.model.variants import servers_dir

ROOT = Path(__file__).resolve().parents[2]
#: Modules for after the run, or for reading an expectation file.
LATER = ("yaml", "jsonschema", "harness.model.loader", "harness.model.event_contract")

PROBE = f"""
import sys
from harness.faces.cli import main
from harness.running.tracer import Tracer

imported = []
start = Tracer.run

def run(self):
    imported.append(set(sys.modules))
    return start(self)

Tracer.run = run
status = main(sys.argv[1:])
later = {LATER!r}
# The mismatch value is the one piece of the analysis a failed run is told with; the rest is for after it.
early = sorted(
    name
    for name in imported[0]
    if name in later or (name.startswith("harness.analysis.") and name != "harness.analysis.mismatch")
)
print(early)
sys.exit(status)
"""


def _imported_at_start(*words: str, cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE, *words], capture_output=True, text=True, check=False, cwd=cwd)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()[-1]


@pytest.mark.parametrize(
    "words",
    [
        pytest.param(("run", "fork_sigchld"), id="a bundled variant"),
        pytest.param(
            (
                "run",
                "--stop",
                "SIGTERM",
                "--",
                sys.executable,
                str(servers_dir() / "fork_sigchld.py"),
                "--port",
                "{port}",
            ),
            id="a command",
        ),
    ],
)
def test_a_run_starts_its_server_before_any_yaml_schema_or_analysis(
    ptrace_permitted: None, words: tuple[str, ...], tmp_path: Path
) -> None:
    assert _imported_at_start(*words, cwd=tmp_path) == "[]"


def test_a_check_starts_its_server_with_the_file_read_but_before_the_matcher(
    ptrace_permitted: None, tmp_path: Path
) -> None:
    expectation = ROOT / "expectations" / "fork_sigchld.expect.yaml"
    early = _imported_at_start("check", str(expectation), cwd=tmp_path)
    assert early == "['harness.model.loader', 'jsonschema', 'yaml']"
