"""A command of the user's own, as a server or a client: anchored so that it runs the same from any directory.

Apart from the expectation file's loader, which uses the same rule for a
file's ``command:``, so that ``harness run -- CMD`` reads no YAML and no
schema before its server starts.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from harness.model.errors import UsageError
from harness.model.expectations import ServerSpec
from harness.model.scenario import ClientCommand, Protocol


def server_spec_of_command(words: Sequence[str], *, protocol: Protocol, here: Path) -> ServerSpec:
    """A command of the user's own as a server: ``{port}`` required, placeholders filled, paths anchored at ``here``.

    The one rule for a server command, in an expectation file (``here`` is
    its directory) and on the command line (``here`` is the current directory).
    """
    if not any("{port}" in word for word in words):
        raise UsageError("the command must be told its port: put {port} where it goes, e.g. --port {port}")
    return ServerSpec(command=_anchored(tuple(words), here), protocol=protocol)


def client_command(words: Sequence[str], *, here: Path) -> ClientCommand:
    """A client command of the user's own: ``{port}`` required, anchored at ``here`` as a server command is."""
    return ClientCommand(_anchored(tuple(words), here))


def _anchored(words: tuple[str, ...], here: Path) -> tuple[str, ...]:
    """The command as it runs from any directory: placeholders of place filled, relative paths made absolute.

    ``{here}`` is the file's directory and ``{python}`` the interpreter running
    the harness.  A program given with a slash (``./server``) and an argument
    naming a file that exists beside the expectation file (``server.py``)
    resolve against the file's directory, as the ``golden:`` paths do; a bare
    program name (``python3``) is still looked up on PATH.
    """
    here = here.absolute()
    filled = [word.replace("{here}", str(here)).replace("{python}", sys.executable) for word in words]
    anchored = []
    for index, word in enumerate(filled):
        relative = not word.startswith(("-", "/")) and "{" not in word
        if relative and (index > 0 or "/" in word) and (here / word).exists():
            word = str(here / word)
        anchored.append(word)
    return tuple(anchored)
