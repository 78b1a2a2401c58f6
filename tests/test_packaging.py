"""pyproject.toml lists every package, and ships the bundled variants and expectations."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_directory_is_listed() -> None:
    on_disk = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "harness").rglob("__init__.py")}
    listed = set(CONFIG["packages"])
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"


def test_the_bundled_directories_are_mapped_and_their_files_match_the_patterns() -> None:
    mapped = CONFIG["package-dir"]
    assert mapped == {"harness.bundled.servers": "servers", "harness.bundled.expectations": "expectations"}
    for package, directory in mapped.items():
        patterns = CONFIG["package-data"][package]
        shipped = {path for pattern in patterns for path in (ROOT / directory).glob(pattern)}
        present = {
            path
            for path in (ROOT / directory).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".c", ".h", ".yaml")
        }
        assert present == shipped, f"not shipped from {directory}/: {sorted(map(str, present - shipped))}"
