"""A non-editable install into a fresh venv: the bundled variants and expectations come with it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

#: Each test here runs a server under the tracer.
pytestmark = pytest.mark.usefixtures("ptrace_permitted")

ROOT = Path(__file__).resolve().parents[2]
#: What a build of the package reads (pyproject.toml lists the package directories and data).
SOURCE = ("pyproject.toml", "README.md", "LICENSE", "harness", "servers", "expectations")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the project installed as a wheel would be (its dependencies from this interpreter)."""
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, system_site_packages=True, with_pip=False)
    python = home / "bin" / "python"
    build = tmp_path_factory.mktemp("build")
    # Built from a copy: pip builds in the source tree (build/, *.egg-info), and two suites running from
    # one checkout at once (bench/suite_stability.py's load) made each other's build fail.
    source = build / "source"
    source.mkdir()
    for name in SOURCE:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps",
         "--target", str(build / "site"), str(source)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    (Path(site) / "installed_copy.pth").write_text(str(build / "site") + "\n")
    return python


#: The environment of a user who installed the package: nothing pointing at a checkout.
CLEAN = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "HARNESS_SERVERS")}


def _run(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, "-m", "harness", *args], cwd=cwd, env=CLEAN, capture_output=True, text=True, timeout=120
    )


def test_the_installed_copy_is_used_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [installed, "-c", "import harness; print(harness.__file__)"],
        cwd=tmp_path,
        env=CLEAN,
        capture_output=True,
        text=True,
    )
    assert not where.stdout.startswith(str(ROOT / "harness")), where.stdout


def test_a_bundled_variant_runs_from_another_directory(installed: Path, tmp_path: Path) -> None:
    done = _run(installed, tmp_path, "run", "fork_sigchld", "--connections", "2")
    assert done.returncode == 0, done.stderr
    assert "2 connections, clients ok, server exited with 0" in done.stdout + done.stderr


def test_a_bundled_expectation_file_is_checked_from_another_directory(installed: Path, tmp_path: Path) -> None:
    bundled = subprocess.run(
        [installed, "-c", "from harness.model.variants import expectations_dir; print(expectations_dir())"],
        cwd=tmp_path, env=CLEAN, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert not bundled.startswith(str(ROOT))
    done = _run(installed, tmp_path, "check", str(Path(bundled) / "fork_sigchld.expect.yaml"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_servers_folder_in_the_current_directory_does_not_stand_in(installed: Path, tmp_path: Path) -> None:
    (tmp_path / "servers").mkdir()
    (tmp_path / "servers" / "fork_sigchld.py").write_text("raise SystemExit('the impostor ran')\n")
    done = _run(installed, tmp_path, "run", "fork_sigchld", "--connections", "1")
    assert done.returncode == 0, done.stderr
    assert "impostor" not in done.stdout + done.stderr


def test_the_report_page_carries_its_style_and_script_from_the_installed_package(
    installed: Path, tmp_path: Path
) -> None:
    """The page's CSS and JavaScript are package data files: a wheel without them would make a bare page."""
    page = tmp_path / "report.html"
    done = _run(installed, tmp_path, "report", "fork_sigchld", "--connections", "1", "-o", str(page))
    assert done.returncode == 0, done.stderr
    html = page.read_text()
    assert "#legend{" in html and 'document.body.setAttribute("data-rendered", "1")' in html
