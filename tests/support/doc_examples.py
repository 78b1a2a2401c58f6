"""Every example of the README and of ``docs/`` is run, with sybil: a documented command that fails is a bug.

What each kind of block means (sybil's Markdown lexers find them):

* ```` ```console ````: ``$ COMMAND`` lines, each followed by the output it
  must print (stdout and stderr together, as a terminal shows them), compared
  as doctest compares with ELLIPSIS: ``...`` stands for any text, a line of
  its own for any lines.  No output under a command: it must only succeed.
* ```` ```sh ````: a script of commands, run whole; it must succeed.
* ```` ```yaml ````: an expectation file, loaded as the harness loads one.
  A block whose first line names a file (``# my_server.expect.yaml``) is
  written there first, for the commands that follow; a fragment (a
  ``server:`` mapping, a list of assertions) is completed into the smallest
  file around it, as the old README tests did; a golden file is read as one;
  another named YAML file (a CI workflow) is parsed as YAML.
* ```` ```python ````: run, in one namespace per page.  A block whose first
  line names a file (``# my_server.py``) is written there instead, for the
  commands that follow (a server, a test file pytest runs).

A comment just before a block changes what is asked of it:
``<!-- docs-test: output varies -->`` (timings, pids: run, not compared),
``<!-- docs-test: exit 1 -->`` (it must fail so; ``exit any`` where either
outcome is true), ``<!-- docs-test: not
run: REASON -->`` (left out, saying why: it installs, it is the test suite
itself); ``;`` between two of them, ``not run:`` last.

Each page runs in a directory of its own holding a copy of ``expectations/``
and ``examples/``, and the ``my_server.py`` and ``my_server.expect.yaml``
that ``docs/how-to/own-server.md`` shows (the server every page calls
"yours"), with ``harness``, ``python`` and ``python3`` on its PATH
meaning this checkout's harness and the interpreter running the tests.  A
page is one test item, its examples run in order: a later block uses what an
earlier one wrote, so the pages cannot be split between xdist workers.
"""

from __future__ import annotations

import doctest
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sybil import Document, Example, Region, Sybil
from sybil.parsers.markdown import CodeBlockParser

ROOT = Path(__file__).resolve().parents[2]
#: The directive before a block: ``<!-- docs-test: output varies -->``.
#: (Its text cannot run past a ``-->``: the block before may end in a directive of its own.)
_DIRECTIVE = re.compile(r"<!--\s*docs-test:\s*(?P<what>(?:(?!-->).)*?)\s*-->\s*\Z", re.DOTALL)
#: A first line naming the file a block is: ``# my_server.py``, ``# golden/x.golden.yaml``.
_FILE_NAME = re.compile(r"#\s+(?P<name>[\w./-]+\.(?:py|ya?ml))\b")
#: Seconds one documented command may take: a sweep or a pytest run of a file, on a loaded machine.
COMMAND_TIMEOUT = 600


@dataclass(frozen=True)
class Asked:
    """What a directive asks of the block after it."""

    compare: bool = True
    status: int | None = 0  # None: any status (a story that may differ between runs)
    not_run: str | None = None


def _asked(document: Document, region_start: int) -> Asked:
    """The directive in the text just before a block, if there is one."""
    before = document.text[:region_start].rstrip()
    found = _DIRECTIVE.search(before[-300:])
    if found is None:
        return Asked()
    what, _, reason = found.group("what").partition("not run:")  # a reason is free text, last
    asked = Asked(not_run=reason.strip() or None)
    for part in filter(None, (part.strip() for part in what.split(";"))):
        if part == "output varies":
            asked = Asked(False, asked.status, asked.not_run)
        elif part == "exit any":
            asked = Asked(asked.compare, None, asked.not_run)
        elif part.startswith("exit "):
            asked = Asked(asked.compare, int(part.removeprefix("exit ")), asked.not_run)
        else:
            raise ValueError(f"unknown docs-test directive {part!r}")
    return asked


def _directory(example: Example) -> Path:
    return Path(example.namespace["directory"])


def _environment(directory: Path) -> dict[str, str]:
    """The documented commands' environment: this checkout's harness, the tests' interpreter."""
    shims = directory / ".bin"
    environ = dict(os.environ)
    environ["PATH"] = f"{shims}{os.pathsep}{environ.get('PATH', '')}"
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environ.get("PYTHONPATH")]))
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS"):
        environ.pop(name, None)
    return environ


def _make_shims(directory: Path) -> None:
    shims = directory / ".bin"
    shims.mkdir()
    for name, command in (("harness", f"{sys.executable} -m harness"), ("python", sys.executable)):
        (shims / name).write_text(f'#!/bin/sh\nexec {command} "$@"\n')
    (shims / "python3").write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    for shim in shims.iterdir():
        shim.chmod(0o755)


def _run(command: str, example: Example) -> subprocess.CompletedProcess[str]:
    directory = _directory(example)
    return subprocess.run(
        ["bash", "-c", command],
        cwd=directory,
        env=_environment(directory),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


def _where(example: Example) -> str:
    return f"{Path(example.path).relative_to(ROOT)}:{example.line}"


def _expect_status(result: subprocess.CompletedProcess[str], asked: Asked, what: str, example: Example) -> None:
    if asked.status is not None and result.returncode != asked.status:
        raise AssertionError(
            f"{_where(example)}: {what!r} exited with {result.returncode}, the page expects {asked.status}\n"
            f"{result.stdout}"
        )


def _commands(source: str) -> Iterator[tuple[str, str]]:
    """The ``$ COMMAND`` lines of a console block, each with the output written under it."""
    command: str | None = None
    output: list[str] = []
    for line in source.splitlines():
        if line.startswith("$ "):
            if command is not None:
                yield command, "\n".join(output)
            command, output = line.removeprefix("$ "), []
        elif command is not None:
            output.append(line)
    if command is not None:
        yield command, "\n".join(output)


def _console(example: Example) -> None:
    asked: Asked = example.region.parsed["asked"]
    if asked.not_run:
        return
    checker = doctest.OutputChecker()
    for command, want in _commands(example.region.parsed["source"]):
        result = _run(command, example)
        _expect_status(result, asked, command, example)
        if asked.compare and want.strip():
            expected, got = want.strip() + "\n", result.stdout.strip() + "\n"
            if not checker.check_output(expected, got, doctest.ELLIPSIS):
                raise AssertionError(
                    f"{_where(example)}: {command!r} printed what the page does not say:\n"
                    + "\n".join(
                        doctest.OutputChecker()
                        .output_difference(doctest.Example(command, expected), got, doctest.ELLIPSIS)
                        .splitlines()
                    )
                )


def _script(example: Example) -> None:
    asked: Asked = example.region.parsed["asked"]
    if asked.not_run:
        return
    source = example.region.parsed["source"]
    result = _run("set -e\n" + source, example)
    _expect_status(result, asked, source.strip(), example)


def _written(example: Example) -> Path | None:
    """Where a block that names its file on its first line is written, or None."""
    source: str = example.region.parsed["source"]
    named = _FILE_NAME.match(source)
    if named is None:
        return None
    path = _directory(example) / named.group("name")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return path


def _python(example: Example) -> None:
    asked: Asked = example.region.parsed["asked"]
    if asked.not_run:
        return
    if _written(example) is not None:
        return
    code = compile(example.region.parsed["source"], str(example.path), "exec")
    cwd = Path.cwd()
    os.chdir(_directory(example))
    try:
        exec(code, example.namespace)
    finally:
        os.chdir(cwd)


def _as_file(block: str) -> str:
    """A fragment as a whole expectation file: a list of assertions goes under ``assertions:`` as written."""
    if block.lstrip().startswith("- name:"):
        block = "assertions:\n" + textwrap.indent(textwrap.dedent(block), "  ")
    data = yaml.safe_load(block)
    head = "" if "server" in data else "server: fork_sigchld\n"
    tail = "" if "assertions" in data else "assertions:\n  - name: x\n    never: accept4 -> EINTR\n"
    return head + block + tail


def _yaml(example: Example) -> None:
    from harness.analysis.golden import read_golden
    from harness.model.loader import load_expectations

    asked: Asked = example.region.parsed["asked"]
    if asked.not_run:
        return
    source: str = example.region.parsed["source"]
    path = _written(example)
    if path is None:
        scratch = Path(tempfile.mkdtemp(dir=_directory(example)))
        (scratch / "golden").mkdir()
        (scratch / "golden" / "fork_sigchld.golden.yaml").write_text("format: 1\nroles: {}\n")
        if source.lstrip().startswith("# A golden trace"):
            read_golden(_golden_copy(scratch, source))
            return
        path = scratch / "example.expect.yaml"
        path.write_text(_as_file(source))
    if path.name.endswith(".golden.yaml"):
        read_golden(path)
    elif path.name.endswith(".expect.yaml"):
        load_expectations(path)
    else:  # another tool's file (a CI workflow): it must be YAML at least
        yaml.safe_load(source)


def _golden_copy(scratch: Path, source: str) -> Path:
    path = scratch / "example.golden.yaml"
    path.write_text(source.replace("  # ...\n", ""))
    return path


class _Blocks(CodeBlockParser):
    """Sybil's Markdown code-block parser for one language, with the directive before each block."""

    def __init__(self, language: str, evaluator: Any) -> None:
        super().__init__(language=language, evaluator=evaluator)

    def __call__(self, document: Document) -> Iterator[Region]:
        for region in super().__call__(document):
            region.parsed = {"source": str(region.parsed), "asked": _asked(document, region.start)}
            yield region


#: The page whose server stands for "your server" on every page: my_server.py and my_server.expect.yaml.
YOUR_SERVER = ROOT / "docs" / "how-to" / "own-server.md"


def _your_server(directory: Path) -> None:
    """Write the files the own-server page shows, so that every page's ``my_server.py`` is a real server."""
    for block in re.findall(
        r"^```\w+\n(# my_server\.(?:py|expect\.yaml)\n.*?)^```", YOUR_SERVER.read_text(), re.M | re.S
    ):
        (directory / block.split()[1]).write_text(block)


def _setup(namespace: dict[str, Any]) -> None:
    directory = Path(tempfile.mkdtemp(prefix="harness-docs-"))
    for tree in ("expectations", "examples"):
        shutil.copytree(ROOT / tree, directory / tree, ignore=shutil.ignore_patterns("*.failed.*", "__pycache__"))
    _make_shims(directory)
    _your_server(directory)
    namespace["directory"] = str(directory)


def _teardown(namespace: dict[str, Any]) -> None:
    shutil.rmtree(namespace["directory"], ignore_errors=True)


SYBIL = Sybil(
    parsers=[
        _Blocks("console", _console),
        _Blocks("sh", _script),
        _Blocks("yaml", _yaml),
        _Blocks("python", _python),
    ],
    patterns=["*.md"],  # which pages: _is_page
    path=str(ROOT),
    setup=_setup,
    teardown=_teardown,
)


class DocPage(pytest.File):
    """A page of the documentation, collected as one test of its examples."""

    def collect(self) -> Iterator[pytest.Item]:
        yield DocExamples.from_parent(self, name="examples")


class DocExamples(pytest.Item):
    """Every example of one page, run in order in the page's own directory."""

    def runtest(self) -> None:
        document = SYBIL.parse(self.path)
        _setup(document.namespace)
        try:
            examples = list(document.examples())
            self.user_properties.append(("examples", len(examples)))
            for example in examples:
                example.evaluate()
        finally:
            _teardown(document.namespace)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | Any:
        """A documented command that failed says where and how, without the runner's traceback."""
        if isinstance(excinfo.value, AssertionError) and str(excinfo.value).startswith(tuple(PAGE_ROOTS)):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"examples of {self.path.relative_to(ROOT)}"


#: How a failure's message starts: the page's path.
PAGE_ROOTS = ("README.md", "docs/")


def _is_page(path: Path) -> bool:
    """The README at the top of the checkout, or a page of docs/ (not examples/README.md, not bench/README.md)."""
    try:
        relative = path.resolve().relative_to(ROOT)
    except ValueError:
        return False
    return path.suffix == ".md" and (relative == Path("README.md") or relative.parts[0] == "docs")


def collect_page(file_path: Path, parent: pytest.Collector) -> DocPage | None:
    """The ``pytest_collect_file`` hook: a README or docs page, as one test of its examples."""
    if _is_page(file_path):
        page: DocPage = DocPage.from_parent(parent, path=file_path)
        page.add_marker(pytest.mark.ptrace)  # its commands trace servers
        return page
    return None
