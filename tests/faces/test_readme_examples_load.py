"""Every YAML block and every step the README shows is loaded: an example that does not work is a bug.

A fragment (an ``inject:`` list, a ``server:`` mapping) is completed into
the smallest file around it; the golden file example is read as a golden
file.  The run of the example that names a variant is in
``tests/integration/test_readme_examples_hold.py``.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from harness.analysis.golden import read_golden
from harness.model.loader import ExpectationError, load_expectations
from harness.model.steps import parse_step

README = Path(__file__).resolve().parents[2] / "README.md"
TEXT = README.read_text()
YAML_BLOCKS = re.findall(r"```yaml\n(.*?)```", TEXT, flags=re.DOTALL)
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, flags=re.DOTALL)
#: The trace methods of the harness_run fixture whose first argument is a step.
STEP_METHODS = frozenset({"sequence", "never", "expect_count", "count", "find"})


def _steps_table() -> list[str]:
    """The first cell of each row of the README's table of steps, split into the steps it shows."""
    table = TEXT.split("**Steps** are written", 1)[1].split("Values are numbers", 1)[0]
    steps = []
    for row in table.splitlines():
        if not row.startswith("| `"):
            continue
        cell = row.split(" | ")[0].removeprefix("| ")
        for step in re.findall(r"`([^`]+)`", cell):
            # A result shown on its own (`... -> 4`, `-> $pid`) is shown on a call.
            steps.append("accept4 " + step.removeprefix("... ") if step.startswith(("... ", "->")) else step)
    return steps


def _python_steps() -> list[str]:
    steps: list[str] = []
    for block in PYTHON_BLOCKS:
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in STEP_METHODS:
                args = node.args if node.func.attr == "sequence" else node.args[:1]
                steps.extend(arg.value for arg in args if isinstance(arg, ast.Constant) and isinstance(arg.value, str))
    return steps


def test_the_readme_shows_yaml_and_steps() -> None:
    assert len(YAML_BLOCKS) >= 5
    assert len(_steps_table()) >= 20
    assert "accept4 -> $conn" in _python_steps()


@pytest.mark.parametrize("step", _steps_table() + _python_steps())
def test_every_step_the_readme_shows_parses(step: str) -> None:
    parse_step(step)


def _as_file(block: str) -> str:
    """A block as a whole expectation file: fragments get the smallest file around them.

    A fragment that is a list of assertions (``  - name: ...``) goes under
    ``assertions:`` as written.
    """
    if block.lstrip().startswith("- name:"):
        block = "assertions:\n" + textwrap.indent(textwrap.dedent(block), "  ")
    data = yaml.safe_load(block)
    head = "" if "server" in data else "server: fork_sigchld\n"
    tail = "" if "assertions" in data else "assertions:\n  - name: x\n    never: accept4 -> EINTR\n"
    return head + block + tail


@pytest.mark.parametrize("block", YAML_BLOCKS, ids=lambda block: block.splitlines()[0][:40])
def test_every_yaml_block_of_the_readme_loads(block: str, tmp_path: Path) -> None:
    if block.lstrip().startswith("# A golden trace"):
        path = tmp_path / "example.golden.yaml"
        path.write_text(block.replace("  # ...\n", ""))
        assert read_golden(path).roles["main"][0] == "listen(3, 128) = 0"
        return
    (tmp_path / "golden").mkdir()
    (tmp_path / "golden" / "fork_sigchld.golden.yaml").write_text("format: 1\nroles: {}\n")
    path = tmp_path / "example.expect.yaml"
    path.write_text(_as_file(block))
    load_expectations(path)


def test_the_comma_pitfall_the_readme_warns_of_gets_its_own_error(tmp_path: Path) -> None:
    path = tmp_path / "comma.expect.yaml"
    step = "rt_sigaction(SIGCHLD, act.flags=!SA_RESTART) -> 0"
    path.write_text(f"server: fork_sigchld\nassertions:\n  - name: x\n    sequence: [{step}]\n")
    with pytest.raises(ExpectationError) as caught:
        load_expectations(path)
    assert "this step was cut at a comma" in caught.value.message and "quote the step" in caught.value.message
