"""`harness check` keeps a failing run's trace beside its file without writing through what others planted there.

The directory of an expectation file may be writable by others, and the
harness often runs as root: a symbolic link planted at the trace's name
must not redirect the write, a FIFO must not hang it, a directory must not
stop the check of the files after it.  From a directory with no
``expectations/``, the traces of the bundled files go to the current
directory, never into the installed package.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from support.programs import EXPECTATIONS
from support.projects import harness_cli

pytestmark = pytest.mark.usefixtures("ptrace_permitted")

#: A server that breaks fork_no_reap's promises: its checks fail, so a trace is kept.
OTHER = "fork_sigchld_raises"


def _files(directory: Path, *names: str) -> None:
    for name in names:
        shutil.copy(EXPECTATIONS / "fork_no_reap.expect.yaml", directory / f"{name}.expect.yaml")


def test_a_planted_link_fifo_or_directory_is_refused_in_one_line_and_the_next_file_is_checked(
    tmp_path: Path,
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("secret\n")
    victim.chmod(0o600)
    project = tmp_path / "project"
    project.mkdir()
    _files(project, "a", "b", "c", "d")
    (project / f"a.{OTHER}.failed.jsonl").symlink_to(victim)
    os.mkfifo(project / f"b.{OTHER}.failed.jsonl")
    (project / f"c.{OTHER}.failed.jsonl").mkdir()
    done = harness_cli("check", ".", "--server", OTHER, cwd=project, timeout=120)
    assert done.returncode == 1, done.stderr  # the assertions failed: the verdict, not a crash
    assert victim.read_text() == "secret\n"
    refusals = [line for line in done.stderr.splitlines() if line.startswith("harness: will not write")]
    assert [Path(line.split(":")[1].split()[-1]).name for line in refusals] == [
        f"a.{OTHER}.failed.jsonl",
        f"b.{OTHER}.failed.jsonl",
        f"c.{OTHER}.failed.jsonl",
    ]
    assert "symbolic link" in refusals[0] and "FIFO" in refusals[1] and "directory" in refusals[2]
    assert done.stdout.count("FAIL") >= 4 and "4 file(s)" in done.stdout  # every file checked, d's trace kept
    assert (project / f"d.{OTHER}.failed.jsonl").is_file()


def test_the_bundled_files_checked_from_anywhere_keep_their_traces_here(tmp_path: Path) -> None:
    done = harness_cli("check", "--server", OTHER, cwd=tmp_path, timeout=300)
    assert done.returncode == 1, done.stderr
    kept = sorted(path.name for path in tmp_path.glob("*.failed.jsonl"))
    assert kept and all(name.endswith(f".{OTHER}.failed.jsonl") for name in kept)
    assert not list(EXPECTATIONS.glob(f"*.{OTHER}.failed.*"))  # nothing written beside the bundled files
