"""Building and starting the bundled variants: C ones are compiled on demand into a private cache.

Which variants there are is the model's (:mod:`harness.model.variants`);
running one means a command line, and for a C variant a binary.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from harness.model.errors import HarnessError, UsageError
from harness.model.variants import Variant


class NoCompiler(HarnessError):
    """A C variant was asked for on a machine without a C compiler."""

    exit_status = 69


class BuildFailed(HarnessError):
    """A C variant did not compile."""

    exit_status = 69


def variant_command(variant: Variant, port: int, connections: int) -> list[str]:
    """The command line that runs a variant on ``port`` for ``connections`` connections (a C one built first)."""
    if variant.is_c:
        return [str(build_c(variant.source)), str(port), str(connections)]
    return [sys.executable, str(variant.source), "--port", str(port), "--connections", str(connections)]


def _cache_dir() -> Path:
    """The build cache, made private: the harness runs what it finds there, often as root.

    Both of its own levels (``syscall-harness/c``) must be real directories of
    this user that nobody else can write (made so: created 0700, or narrowed to
    it); one that belongs to someone else, or is a link, is refused with the fix.
    """
    base = Path(os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache"))
    cache = base / "syscall-harness" / "c"
    cache.mkdir(mode=0o700, parents=True, exist_ok=True)
    for level in (cache.parent, cache):
        info = os.lstat(level)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            raise UsageError(
                f"the build cache {level} is not a directory of yours (a link, or another user's): "
                "the harness will not run what it holds; remove it, or set XDG_CACHE_HOME elsewhere"
            )
        if info.st_mode & 0o077:
            os.chmod(level, 0o700)
    return cache


def _trusted(binary: Path) -> bool:
    """Whether a cached binary may be run: a regular file of this user's that nobody else can write."""
    try:
        info = os.lstat(binary)
    except FileNotFoundError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022


def _remove_abandoned_builds(cache: Path) -> None:
    """Remove the partial binaries of builds whose process is gone (a compile killed midway).

    A partial binary is named ``NAME.PID.tmp`` by the process that builds it;
    while that process lives, its file is left alone.
    """
    for partial in cache.glob("*.tmp"):
        pid = partial.suffixes[-2].lstrip(".") if len(partial.suffixes) >= 2 else ""
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            partial.unlink(missing_ok=True)
        except PermissionError:
            continue  # alive, another user's


def build_c(source: Path) -> Path:
    """Compile a C variant (with the other sources of its directory it may include) into the cache."""
    compiler = shutil.which(os.environ.get("CC") or "cc") or shutil.which("gcc")
    if compiler is None:
        raise NoCompiler(f"{source.name} is a C variant and there is no C compiler: install one (apt-get install gcc)")
    digest = hashlib.sha256()
    for path in sorted(source.parent.glob("*.[ch]")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    binary = _cache_dir() / f"{source.stem}-{digest.hexdigest()[:16]}"
    if _trusted(binary):
        return binary
    _remove_abandoned_builds(binary.parent)  # and an untrusted binary is built again, in its place
    partial = binary.with_suffix(f".{os.getpid()}.tmp")
    done = subprocess.run(
        [compiler, "-Wall", "-Wextra", "-O1", "-o", str(partial), str(source)], capture_output=True, text=True
    )
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BuildFailed(f"{source} did not compile:\n{done.stderr.strip()}")
    partial.replace(binary)  # atomic: parallel runs never see half a binary
    return binary
