"""The analysis's defaults that the command line shows before any analysis runs.

A module of constants alone, so that the command line's parser (built on
every start, ``harness trace`` too) names them without importing the
analysis, its expectation model and YAML.
"""

from __future__ import annotations

from typing import Literal, get_args

#: How ``harness explain`` writes its findings.
Format = Literal["text", "markdown", "json"]
FORMATS: tuple[Format, ...] = get_args(Format)

#: The call whose first occurrence starts a golden story by default: before
#: it, a server is only its interpreter starting up.
DEFAULT_START = "listen"
