"""The command-line reference page, written at build time from the ``harness`` argument parser itself.

Every option's name, argument and help come from
:func:`harness.faces.cli.build_parser`, the function the command runs, so the
page cannot drift from the program: an option added, renamed or reworded is
on the site at the next build.  It is a generated page (``reference/cli.md``),
never a file in ``docs/``.  ``tests/faces/test_cli_reference.py`` checks that
every option string of every command is on it.

No MkDocs plugin fits: mkdocs-argparse (0.0.1) is a stub, and the argparse
renderers on the package index write whole files meant to be committed,
which is the drift this avoids.
"""

from __future__ import annotations

import argparse
from typing import Any

PAGE = "reference/cli.md"

_INTRO = """\
# Command-line options

Generated from the `harness` command's own argument parser
(`harness.faces.cli.build_parser`) each time the site is built, so it is
exactly what `harness COMMAND --help` prints, command by command. What each
command does, and the exit statuses, are in [Commands](commands.md) and
[Exit statuses](exit-statuses.md).

"""


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Each command's parser, in the order of the help (argparse has no public way to list them)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _cell(text: str) -> str:
    """Text made safe for one Markdown table cell: no newline, no bare pipe, no HTML tag, no link brackets."""
    text = " ".join(text.split())
    for plain, escaped in (("|", "\\|"), ("<", "&lt;"), (">", "&gt;"), ("[", "\\["), ("]", "\\]")):
        text = text.replace(plain, escaped)
    return text


def _code_cell(text: str) -> str:
    """Text for a code span in a table cell: one line (Python-Markdown's tables split no code span at a pipe)."""
    return " ".join(text.split())


def _invocation(action: argparse.Action, formatter: argparse.HelpFormatter) -> str:
    """How the option is written: ``-o TEXTFILE, --output TEXTFILE``, or a positional's metavar."""
    return formatter._format_action_invocation(action)


def _help(action: argparse.Action, formatter: argparse.HelpFormatter) -> str:
    """The option's help as ``--help`` prints it, ``%(default)s`` and the like expanded."""
    if not action.help:
        return ""
    return formatter._expand_help(action)


def _command_section(name: str, parser: argparse.ArgumentParser) -> list[str]:
    formatter = parser._get_formatter()
    lines = [f"## harness {name}", ""]
    if parser.description:
        lines += [_cell(parser.description), ""]
    usage = parser.format_usage().removeprefix("usage: ").rstrip()
    lines += ["```", usage, "```", ""]
    for group in parser._action_groups:
        actions = [action for action in group._group_actions if action.help is not argparse.SUPPRESS]
        if not actions:
            continue
        lines += [f"**{group.title.capitalize() if group.title else 'Options'}**", ""]
        lines += ["| option | meaning |", "| --- | --- |"]
        for action in actions:
            invocation = _code_cell(_invocation(action, formatter))
            lines.append(f"| `{invocation}` | {_cell(_help(action, formatter))} |")
        lines.append("")
    if parser.epilog:
        lines += ["```", parser.epilog.strip(), "```", ""]
    return lines


def reference() -> str:
    """The whole page, in Markdown, from the parser the ``harness`` command builds."""
    from harness.faces.cli import build_parser

    parser = build_parser()
    lines = [_INTRO, "```", parser.format_usage().removeprefix("usage: ").rstrip(), "```", ""]
    for name, command in _subcommands(parser).items():
        lines += _command_section(name, command)
    return "\n".join(lines)


def on_files(files: Any, config: Any) -> Any:
    """MkDocs hook: add the generated page to the site's files."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, PAGE, content=reference()))
    return files
