"""The harness and strace, run on the same programs, tell every task's story alike.

For each task: the sequence of traced calls with their errno (restart codes
included), the signals delivered, and how it ended.  Pids differ between the
two runs, so the comparison is between the multisets of per-task stories.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from support.programs import TEST_PROGRAMS
from support.runs import Run
from support.strace_runs import dispositions_as_under_the_harness

from harness.model.syscalls import DEFAULT_SYSCALLS
from harness.running.tracer.ptrace_ext import child_subreaper

_LINE = re.compile(r"^(?P<pid>\d+) +(?P<text>.*)$")
_RESULT = re.compile(r"\) += (?P<ret>\S+)(?: (?P<errno>E[A-Z0-9_]+))?")
_CALL = re.compile(r"^(?:<\.\.\. (?P<resumed>\w+) resumed>|(?P<name>\w+)\()")


def strace_stories(log: str) -> Counter[tuple[str, ...]]:
    """Per-task stories from an ``strace -f -o`` log, as Trace.outline() tokens."""
    stories: dict[str, list[str]] = {}
    for line in log.splitlines():
        match = _LINE.match(line)
        if match is None:
            raise AssertionError(f"unexpected strace line: {line!r}")
        pid, text = match["pid"], match["text"]
        story = stories.setdefault(pid, [])
        if text.startswith("--- "):
            story.append("--- " + text.split()[1])
        elif text.startswith("+++ exited with "):
            story.append(f"+++ exited {text.split()[3]}")
        elif text.startswith("+++ killed by "):
            story.append(f"+++ killed {text.split()[3]}")
        elif text.endswith("<unfinished ...>"):
            continue
        else:
            call = _CALL.match(text)
            result = _RESULT.search(text)
            if call is None or result is None:
                raise AssertionError(f"unexpected strace line: {line!r}")
            name = call["resumed"] or call["name"]
            story.append(f"{name} -> {result['errno']}" if result["errno"] else name)
    return Counter(tuple(story) for story in stories.values())


def harness_stories(run: Run) -> Counter[tuple[str, ...]]:
    """Per-task stories of the harness, without the spawn and exec events strace does not print."""
    return Counter(
        tuple(token for token in story if not token.startswith(("spawn ", "exec")))
        for story in run.trace.outline().values()
    )


def run_strace(strace: Path, argv: list[str], tmp_path: Path) -> str:
    log = tmp_path / "strace.log"
    # A double fork's grandchild is re-parented to us: reap it below.
    with child_subreaper(), dispositions_as_under_the_harness():
        subprocess.run(
            [str(strace), "-f", "-q", "-o", str(log), "-e", f"trace={','.join(DEFAULT_SYSCALLS)}", "--", *argv],
            check=True,
            capture_output=True,
        )
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
    return log.read_text()


@pytest.mark.parametrize("program", TEST_PROGRAMS, ids="-".join)
def test_every_task_tells_the_same_story_as_under_strace(
    program: tuple[str, ...],
    traced: Callable[..., Run],
    program_argv: Callable[[tuple[str, ...]], list[str]],
    tmp_path: Path,
    strace: Path,
) -> None:
    argv = program_argv(program)

    expected = strace_stories(run_strace(strace, argv, tmp_path))
    actual = harness_stories(traced(argv))

    assert actual == expected
