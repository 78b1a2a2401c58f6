"""run, explain, report, record and diff each take a bundled variant, an expectation file, or ``-- CMD``.

"The user's server" is a copy of ``servers/fork_sigchld.py`` (and the module
it imports) in a project directory of its own, run through ``{python}``:
the harness knows nothing of it but its command line.  Each command is run
as a person runs it, ``python -m harness`` in a subprocess, on real servers
under real ptrace.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NamedTuple

import pytest
from support.projects import harness_cli, users_project

#: The user's server's command line, everything after ``--``.
COMMAND = ["{python}", "my_server.py", "--port", "{port}", "--connections", "{connections}"]


class Source(NamedTuple):
    """How a command line names its server: a positional argument, or words after ``--`` at its end."""

    positional: list[str]
    after: list[str]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The user's project: their server, and an expectation file beside it."""
    return users_project(tmp_path, "fork_sigchld", connections=2)


def _source(kind: str, project: Path) -> Source:
    """Each form names a two-connection run of fork_sigchld's code."""
    if kind == "variant":
        return Source(["fork_sigchld", "--connections", "2"], [])
    if kind == "expectation file":
        return Source([str(project / "mine.expect.yaml")], [])
    return Source(["--connections", "2"], ["--", *COMMAND])


KINDS = ["variant", "expectation file", "command"]


@pytest.mark.parametrize("kind", KINDS)
def test_run_drives_the_clients_of_any_source(ptrace_permitted: None, project: Path, kind: str) -> None:
    source = _source(kind, project)
    done = harness_cli("run", *source.positional, "-o", "trace.txt", *source.after, cwd=project)
    assert done.returncode == 0, done.stderr
    assert "2 connections, clients ok, server exited with 0" in done.stderr
    assert "accept4" in (project / "trace.txt").read_text()
    if kind == "command":  # the summary names the command as it ran: placeholders filled in, paths resolved
        summary = done.stderr.splitlines()[-1]
        assert summary.startswith(f"{sys.executable} {project / 'my_server.py'} --port "), summary
        assert "{" not in summary and " --connections 2: 2 connections" in summary, summary


@pytest.mark.parametrize("kind", KINDS)
def test_explain_tells_the_lesson_of_any_source(ptrace_permitted: None, project: Path, kind: str) -> None:
    source = _source(kind, project)
    done = harness_cli("explain", *source.positional, *source.after, cwd=project)
    assert done.returncode == 0, done.stderr
    assert "main: accept4 failed with EINTR (ERESTARTSYS, SIGCHLD)" in done.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_report_draws_any_source(ptrace_permitted: None, project: Path, kind: str) -> None:
    source = _source(kind, project)
    done = harness_cli("report", *source.positional, "-o", "r.html", *source.after, cwd=project)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("wrote r.html: 3 lanes")
    assert 'data-role="main.2"' in (project / "r.html").read_text()


@pytest.mark.parametrize("kind", KINDS)
def test_record_writes_the_golden_file_of_any_source_and_diff_finds_it_the_same(
    ptrace_permitted: None, project: Path, kind: str
) -> None:
    source = _source(kind, project)
    done = harness_cli("record", *source.positional, "-o", "g/mine.golden.yaml", *source.after, cwd=project)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("wrote g/mine.golden.yaml: events per role: main ")
    # The same code, named any other way, tells the same story; its sibling with SA_RESTART does not.
    for other in KINDS:
        again = _source(other, project)
        same = harness_cli("diff", "g/mine.golden.yaml", *again.positional, *again.after, cwd=project)
        assert same.returncode == 0, same.stdout + same.stderr
        assert "the same (3 roles" in same.stdout
    differs = harness_cli("diff", "g/mine.golden.yaml", "fork_sigchld_restart", cwd=project)
    assert differs.returncode == 1 and "+rt_sigreturn({mask=[]}) = (restarts accept4)" in differs.stdout


def test_diff_compares_a_variant_with_the_users_command_as_b(ptrace_permitted: None, project: Path) -> None:
    done = harness_cli("diff", "fork_sigchld_restart", "--", *COMMAND, cwd=project)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("--- fork_sigchld_restart\n+++ '{python}' my_server.py --port '{port}'")
    assert "+rt_sigreturn({mask=[]}) = -1 EINTR (Interrupted system call)" in done.stdout
