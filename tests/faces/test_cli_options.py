"""Numeric options are range-checked when the command line is read: one clear line, status 2, never a traceback."""

from __future__ import annotations

import argparse
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.faces.cli import build_parser, main

#: Each option with a value it refuses and the words of the refusal.
BAD = [
    (["run", "fork_sigchld", "--port", "0"], "0: a port must be from 1 to 65535"),
    (["run", "fork_sigchld", "--port", "70000"], "70000: a port must be from 1 to 65535"),
    (["run", "fork_sigchld", "--port", "-1"], "-1: a port must be from 1 to 65535"),
    (["run", "fork_sigchld", "--timeout", "nan"], "nan: a time must be more than 0 and at most 86400 seconds"),
    (["run", "fork_sigchld", "--timeout", "inf"], "inf: a time must be more than 0 and at most 86400 seconds"),
    (["run", "fork_sigchld", "--timeout", "0"], "0: a time must be more than 0"),
    (["run", "fork_sigchld", "--timeout", "-1"], "-1: a time must be more than 0"),
    (["run", "fork_sigchld", "--timeout", "soon"], "'soon' is not a number of seconds, like 60"),
    (["run", "fork_sigchld", "--connections", "100000000000"], "connections must be from 1 to 100000"),
    (["run", "fork_sigchld", "--connections", "0"], "connections must be from 1 to 100000"),
    (["run", "fork_sigchld", "--messages", "-2"], "messages per connection must be from 0 to 100000"),
    (["run", "fork_sigchld", "--concurrency", "many"], "'many' is not a whole number (clients at a time: 1 to 1024)"),
    (["run", "fork_sigchld", "--grace", "nan"], "nan: a time must be more than 0 and at most 86400 seconds"),
    (["run", "fork_sigchld", "--exit", "0,x"], "'0,x': write exit statuses as numbers, like 0 or 0,1"),
    (["run", "fork_sigchld", "--exit", "256"], "256: an exit status is a number from 0 to 255"),
]


@pytest.mark.parametrize(("argv", "said"), BAD, ids=[" ".join(argv[2:]) for argv, _ in BAD])
def test_a_value_that_cannot_work_is_refused_before_anything_runs(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err


@given(
    option=st.sampled_from(["--port", "--timeout", "--connections", "--messages", "--concurrency", "--grace"]),
    value=st.one_of(st.text(max_size=12), st.integers().map(str), st.floats().map(str)),
)
def test_any_value_of_a_numeric_option_parses_in_range_or_is_refused(option: str, value: str) -> None:
    parser = build_parser()
    try:
        args = parser.parse_args(["run", "fork_sigchld", option, value] if not value.startswith("-") else
                                 ["run", "fork_sigchld", f"{option}={value}"])  # fmt: skip
    except SystemExit as exited:
        assert exited.code == 2
        return
    parsed = getattr(args, option.removeprefix("--"))
    assert isinstance(parsed, (int, float)) and math.isfinite(parsed)
    limits = {"--port": (1, 65535), "--timeout": (0, 86400), "--grace": (0, 86400), "--connections": (1, 100_000),
              "--messages": (0, 100_000), "--concurrency": (1, 1024)}  # fmt: skip
    low, high = limits[option]
    assert low <= parsed <= high and (parsed > 0 or option in ("--messages",))


def _command_parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parsers of the commands ``parser`` was built with, by name."""
    (commands,) = (action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    return dict(commands.choices)


@pytest.mark.parametrize("command", sorted(_command_parsers(build_parser())))
def test_a_command_alone_is_parsed_and_helped_as_among_all_of_them(command: str) -> None:
    """A start builds its own command's parser only; the options and help it reads are the same."""
    alone = _command_parsers(build_parser(command))
    assert list(alone) == [command]
    assert alone[command].format_help() == _command_parsers(build_parser())[command].format_help()


@pytest.mark.parametrize("first_word", [None, "trac", "--help", "--version"])
def test_anything_but_a_command_gets_every_command(first_word: str | None) -> None:
    assert list(_command_parsers(build_parser(first_word))) == [
        "check", "trace", "run", "explain", "show", "report", "record", "diff", "sweep"
    ]  # fmt: skip
