"""The harness's one writer: names it chose are never written through a link, FIFO or directory; none hangs."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import pytest

from harness.model.errors import UnsafeOutput
from harness.model.files import open_chosen, open_given


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
