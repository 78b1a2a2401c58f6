"""A missing capability (no ptrace permission, no C compiler, no strace): a skip, or a failure in CI.

``HARNESS_REQUIRE_PTRACE=1`` (CI sets it) turns every such skip into a
failure: CI must prove the real ptrace tests ran, not skipped.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

#: Whether a missing capability fails the test instead of skipping it.
REQUIRED = os.environ.get("HARNESS_REQUIRE_PTRACE") == "1"


def missing(reason: str) -> NoReturn:
    """Skip for a missing capability, or fail where CI requires it."""
    if REQUIRED:
        pytest.fail(f"{reason} (HARNESS_REQUIRE_PTRACE=1 makes this a failure)", pytrace=False)
    pytest.skip(reason)
