"""Refuse to build the site without the report's screenshot, which ``docs/screenshots.py`` takes.

The tutorial shows a real report of a real run, taken by headless Chromium
before the build (``.ci/run`` does it), never a hand-made image kept in git.
A missing image would only be a broken link; this says what to run instead,
so that CI cannot build a site without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: The images docs/screenshots.py writes, relative to docs/.
SCREENSHOTS = ("images/report-fork_sigchld.png",)


def on_pre_build(config: Any) -> None:
    """MkDocs hook: fail the build, naming the script, when a screenshot is missing."""
    from mkdocs.exceptions import PluginError

    missing = [name for name in SCREENSHOTS if not (Path(config["docs_dir"]) / name).is_file()]
    if missing:
        raise PluginError(f"missing {', '.join(missing)}: run 'python docs/screenshots.py' first (it takes them)")
