"""The README's example expectation file, run against the variant it names: each promise holds as documented.

Its one promise taken from another file (``the program never sees EINTR``,
from ``fork_sigchld_restart``'s) holds there and fails against
``fork_sigchld``, as the README says.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from support.programs import EXPECTATIONS

from harness.model.loader import load_expectations
from harness.running.check import check_file
from harness.running.serving import server_spec

pytestmark = pytest.mark.ptrace

README = Path(__file__).resolve().parents[2] / "README.md"
(EXAMPLE,) = [
    block
    for block in re.findall(r"```yaml\n(.*?)```", README.read_text(), flags=re.DOTALL)
    if block.startswith("# expectations/fork_sigchld.expect.yaml")
]
FROM_ANOTHER_FILE = "the program never sees EINTR"


def _failures(tmp_path: Path, server: str | None = None) -> set[str]:
    (tmp_path / "golden").mkdir(exist_ok=True)
    shutil.copy(EXPECTATIONS / "golden" / "fork_sigchld.golden.yaml", tmp_path / "golden")
    path = tmp_path / "readme.expect.yaml"
    path.write_text(EXAMPLE)
    checked = check_file(load_expectations(path), server=server_spec(server) if server else None)
    assert checked.run.ok, checked.run.summary()
    return {result.assertion.name for result in checked.results if not result.passed}


def test_the_readme_example_holds_for_the_variant_it_names(tmp_path: Path, ptrace_permitted: None) -> None:
    assert _failures(tmp_path) == {FROM_ANOTHER_FILE}


def test_the_readme_example_promise_from_the_restart_file_holds_there(tmp_path: Path, ptrace_permitted: None) -> None:
    failures = _failures(tmp_path, "fork_sigchld_restart")
    assert FROM_ANOTHER_FILE not in failures
    assert "at every accept4 the SIGCHLD handler in force has no SA_RESTART" in failures
