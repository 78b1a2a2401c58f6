"""The bundled server variants: finding them by name, and building the C ones.

Variants live in ``servers/`` at the top of the checkout (``servers/NAME.py``,
``servers/c/NAME.c``) and are installed inside the package as
``harness.bundled.servers``, so an installed harness finds them from any
directory; ``$HARNESS_SERVERS`` points elsewhere on purpose.  The current
directory is never searched: a ``servers/`` folder there must not silently
stand in for the bundled variants.  C variants are compiled on demand with the system C
compiler into a cache keyed by the hash of their sources, so an edit is
picked up and an unchanged variant is not rebuilt.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from harness.model.errors import HarnessError, UsageError
from harness.model.hints import closest
from harness.model.scenario import DEFAULT_PROTOCOL, Protocol

#: The ``harness`` package directory.
_PACKAGE = Path(__file__).resolve().parents[1]

#: The protocol each variant speaks, when it is not echo.
_PROTOCOLS: dict[str, Protocol] = {"rpc_fork": "rpc"}


class NoCompiler(HarnessError):
    """A C variant was asked for on a machine without a C compiler."""

    exit_status = 69


class BuildFailed(HarnessError):
    """A C variant did not compile."""

    exit_status = 69


@dataclass(frozen=True, slots=True)
class Variant:
    """A server variant: its name, its source file, and the protocol its clients speak."""

    name: str
    source: Path
    protocol: Protocol

    @property
    def is_c(self) -> bool:
        """Whether it must be compiled before it runs."""
        return self.source.suffix == ".c"

    def command(self, port: int, connections: int) -> list[str]:
        """The command line that runs it on ``port`` for ``connections`` connections."""
        if self.is_c:
            return [str(build_c(self.source)), str(port), str(connections)]
        return [sys.executable, str(self.source), "--port", str(port), "--connections", str(connections)]


def _bundled(name: str) -> Path:
    """A directory shipped inside the package, or its original at the top of the checkout we run from.

    An installed package holds ``harness/bundled/NAME``; an editable install
    or a clone has only the checkout's ``NAME/``.
    """
    shipped = _PACKAGE / "bundled" / name
    return shipped if shipped.is_dir() else _PACKAGE.parent / name


def servers_dir() -> Path:
    """The directory of the bundled variants (or ``$HARNESS_SERVERS``)."""
    configured = os.environ.get("HARNESS_SERVERS")
    candidate = Path(configured) if configured else _bundled("servers")
    if candidate.is_dir():
        return candidate
    where = "$HARNESS_SERVERS" if configured else "the installed package"
    raise UsageError(f"no server variants at {candidate} ({where}); reinstall the harness or fix HARNESS_SERVERS")


def expectations_dir() -> Path:
    """The directory of the bundled expectation files."""
    return _bundled("expectations")


def list_variants() -> dict[str, Variant]:
    """Every bundled variant by name: ``fork_sigchld``, ``c/echo_server``..."""
    root = servers_dir()
    variants = {}
    for path in sorted(root.glob("*.py")):
        if not path.name.startswith("_"):
            variants[path.stem] = Variant(path.stem, path, _PROTOCOLS.get(path.stem, DEFAULT_PROTOCOL))
    for path in sorted((root / "c").glob("*.c")):
        variants[f"c/{path.stem}"] = Variant(f"c/{path.stem}", path, DEFAULT_PROTOCOL)
    return variants


def find_variant(name: str) -> Variant:
    """The variant called ``name``, or an error naming the nearest one."""
    variants = list_variants()
    if name in variants:
        return variants[name]
    close = closest(name, variants)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known variants: {', '.join(variants)}"
    raise UsageError(f"unknown server variant {name!r}{hint}")


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
