"""The public API: what ``harness`` exports is what the documentation names, each name importable from the top."""

from __future__ import annotations

import subprocess
import sys

import harness


def test_every_public_name_is_importable_from_the_package() -> None:
    from harness import api

    assert harness.__all__ == api.__all__  # one list, checked here: the package's and the module's agree
    for name in harness.__all__:
        assert getattr(harness, name) is getattr(api, name), name


def test_importing_the_package_imports_none_of_its_modules() -> None:
    # The command's first line runs before any module of the package: the exports are resolved on first use.
    code = "import sys, harness; print(sorted(m for m in sys.modules if m.startswith('harness.')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_name_outside_the_api_is_refused_by_name() -> None:
    try:
        harness.run_spec  # noqa: B018
    except AttributeError as error:
        assert "no attribute 'run_spec'" in str(error)
    else:
        raise AssertionError("harness.run_spec is internal")
