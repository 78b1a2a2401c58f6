"""The harness's one writer: names it chose are never written through a link, FIFO or directory; none hangs."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import pytest

from harness.model.errors import OutputError, UnsafeOutput
from harness.model.files import open_chosen, open_given, replace_file


def test_a_chosen_name_is_written_as_a_new_or_emptied_regular_file(tmp_path: Path) -> None:
    target = tmp_path / "a.failed.jsonl"
    target.write_text("an older, longer failure\n")
    with open_chosen(target) as stream:
        stream.write("new\n")
    assert target.read_text() == "new\n"


def test_a_link_planted_at_a_chosen_name_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("secret\n")
    victim.chmod(0o600)
    planted = tmp_path / "x.failed.jsonl"
    planted.symlink_to(victim)
    with pytest.raises(UnsafeOutput, match=r"it is a symbolic link.*--traces DIR"):
        open_chosen(planted)
    assert victim.read_text() == "secret\n"


@pytest.mark.parametrize("opener", [open_chosen, open_given], ids=["chosen", "given"])
def test_a_fifo_nobody_reads_is_refused_at_once(tmp_path: Path, opener: Callable[[Path], TextIO]) -> None:
    fifo = tmp_path / "out"
    os.mkfifo(fifo)
    with pytest.raises(UnsafeOutput, match="a FIFO or socket that nobody reads"):
        opener(fifo)


@pytest.mark.parametrize("opener", [open_chosen, open_given], ids=["chosen", "given"])
def test_a_directory_is_refused(tmp_path: Path, opener: Callable[[Path], TextIO]) -> None:
    (tmp_path / "a.failed.jsonl").mkdir()
    with pytest.raises(UnsafeOutput, match="it is a directory"):
        opener(tmp_path / "a.failed.jsonl")


def test_a_name_the_user_gave_may_be_a_device_a_link_or_a_fifo_that_is_read(tmp_path: Path) -> None:
    with open_given(Path(os.devnull)) as stream:
        stream.write("discarded\n")
    target = tmp_path / "real.txt"
    (tmp_path / "link.txt").symlink_to(target)
    with open_given(tmp_path / "link.txt") as stream:
        stream.write("through the user's own link\n")
    assert target.read_text() == "through the user's own link\n"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader first (the pipe's buffer holds the line)
    try:
        with open_given(fifo) as stream:
            stream.write("piped\n")
        assert os.read(reader, 100) == b"piped\n"
    finally:
        os.close(reader)


def test_a_replaced_file_is_new_whole_and_a_link_at_its_name_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("mine\n")
    (tmp_path / "tree").mkdir()
    target = tmp_path / "tree" / "sub" / "g.golden.yaml"

    replace_file(target, "one\n", within=tmp_path / "tree")  # the directories below the tree are made
    assert target.read_text() == "one\n"
    target.unlink()
    target.symlink_to(victim)
    replace_file(target, "two\n", within=tmp_path / "tree")

    assert victim.read_text() == "mine\n" and not target.is_symlink() and target.read_text() == "two\n"
    assert sorted(path.name for path in target.parent.iterdir()) == ["g.golden.yaml"]  # no partial file left


def test_a_link_on_the_way_down_a_tree_is_never_followed_so_no_flip_can_carry_the_write_out(tmp_path: Path) -> None:
    """The check and the write are one walk: a directory swapped for a link at any moment fails it (ELOOP)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "sub").symlink_to(outside)  # a link planted, or flipped in after a check of the names

    with pytest.raises(UnsafeOutput, match=r"'sub' on the way from .*tree is a link or not a directory"):
        replace_file(tree / "sub" / "g.golden.yaml", "text\n", within=tree)
    assert list(outside.iterdir()) == []
    with pytest.raises(UnsafeOutput, match="is outside"):
        replace_file(tree / ".." / "outside" / "g.golden.yaml", "text\n", within=tree)


def test_only_a_regular_file_or_a_link_is_replaced(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(OutputError, match=r"fifo: not a regular file \(a file written whole replaces only a regular"):
        replace_file(tmp_path / "fifo", "text\n")
    assert stat.S_ISFIFO((tmp_path / "fifo").lstat().st_mode)


def test_a_link_flipped_in_and_out_of_the_tree_while_files_are_written_never_takes_a_write_outside(
    tmp_path: Path,
) -> None:
    """The issue's attack: a directory link flipped between inside and outside; a check then a write lost 27%."""
    tree, outside = tmp_path / "tree", tmp_path / "outside"
    (tree / "real").mkdir(parents=True)
    outside.mkdir()
    (tree / "sub").symlink_to(tree / "real")
    flipper = os.fork()
    if flipper == 0:  # pragma: no cover - the child flips until killed
        while True:
            for target in (outside, tree / "real"):
                with contextlib.suppress(OSError):
                    os.symlink(target, tree / "next")
                    os.replace(tree / "next", tree / "sub")
    try:
        for attempt in range(300):
            with contextlib.suppress(UnsafeOutput):
                replace_file(tree / "sub" / f"{attempt}.golden.yaml", "text\n", within=tree)
    finally:
        os.kill(flipper, signal.SIGKILL)
        os.waitpid(flipper, 0)
    assert list(outside.iterdir()) == [] and list((tree / "real").iterdir()) == []
