"""xinetd is a Debian package, not a Python one: without it, this folder's expectation file cannot run."""

import shutil

import pytest
from support.capability import missing


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip (fail where CI requires every capability) before the server is started."""
    if shutil.which("xinetd") is None:
        missing("xinetd is not installed: apt-get install xinetd")
