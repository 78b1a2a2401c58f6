"""The harness's version, as ``--version`` says it and as an exported trace names its producer."""

from __future__ import annotations


def version() -> str:
    """The installed package's version (``importlib.metadata``): the one in pyproject.toml.

    Looked up only when asked: importing importlib.metadata costs every start otherwise.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("syscall-harness")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"
