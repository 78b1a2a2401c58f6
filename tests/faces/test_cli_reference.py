"""The site's command-line reference has every option of every command, as the parser has it.

The page is written at build time by ``docs/hooks/cli_reference.py`` from
:func:`harness.faces.cli.build_parser`; this holds it to the parser itself:
an option the page left out (a new option group the hook does not walk, a
help suppressed by mistake) fails here, naming the command and the option.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from harness.faces.cli import build_parser

HOOK = Path(__file__).resolve().parents[2] / "docs" / "hooks" / "cli_reference.py"


def _hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cli_reference", HOOK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PAGE: str = _hook().reference()
PARSER = build_parser()
COMMANDS: dict[str, argparse.ArgumentParser] = next(
    dict(action.choices) for action in PARSER._actions if isinstance(action, argparse._SubParsersAction)
)


def _section(command: str) -> str:
    """The page's section of one command: from its heading to the next command's."""
    start = PAGE.index(f"\n## harness {command}\n")
    end = PAGE.find("\n## harness ", start + 1)
    return PAGE[start : end if end != -1 else len(PAGE)]


def _documented(text: str, option: str) -> bool:
    """The option string as a word of its own (``--server`` is not found inside ``--server-command``)."""
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


def test_every_command_has_its_section() -> None:
    assert set(COMMANDS) == {"check", "trace", "run", "explain", "show", "report", "record", "diff", "sweep"}
    for command in COMMANDS:
        assert f"\n## harness {command}\n" in PAGE


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_option_of_the_command_is_in_its_section(command: str) -> None:
    section = _section(command)
    options = [option for action in COMMANDS[command]._actions for option in action.option_strings]
    assert options, f"harness {command} has no options?"
    missing = [option for option in options if not _documented(section, option)]
    assert not missing, f"harness {command}: {missing} not in the generated reference"


def test_each_options_help_is_there_as_the_parser_words_it() -> None:
    """The help text too, not only the names: the page is the parser's, not a summary of it."""
    for command, parser in COMMANDS.items():
        section = " ".join(_section(command).split())
        for action in parser._actions:
            if action.help and action.help is not argparse.SUPPRESS and "%(" not in action.help:
                first_words = " ".join(action.help.split()[:4])
                assert first_words.replace("|", "\\|").replace("[", "\\[") in section, (command, action.dest)


def test_the_top_level_options_are_there() -> None:
    assert _documented(PAGE, "--version") and _documented(PAGE, "-h")
