"""gunicorn is an optional extra: without it, this folder's expectation files are skipped, with the fix."""

import importlib.util

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip before the file's server is started: without gunicorn it could only fail to start."""
    if importlib.util.find_spec("gunicorn") is None:
        pytest.skip("gunicorn is not installed: pip install -e '.[examples]'")
