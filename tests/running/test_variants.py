from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from harness.model.errors import UsageError
from harness.running.variants import NoCompiler, build_c, find_variant, list_variants


def test_every_bundled_variant_is_found_with_its_protocol() -> None:
    variants = list_variants()
    assert {"fork_sigchld", "rpc_fork", "daemon_double_fork", "c/echo_server", "c/echo_server_restart"} <= set(variants)
    assert "_common" not in variants
    assert variants["rpc_fork"].protocol == "rpc" and variants["fork_sigchld"].protocol == "echo"
    assert variants["c/echo_server"].is_c and not variants["fork_sigchld"].is_c


def test_an_unknown_variant_gets_the_nearest_name() -> None:
    with pytest.raises(UsageError, match="unknown server variant 'fork_sigchd'; did you mean 'fork_sigchld'"):
        find_variant("fork_sigchd")


def test_a_python_variant_runs_with_this_interpreter_on_the_given_port() -> None:
    command = find_variant("fork_sigchld").command(4242, 3)
    assert command[1:] == [str(find_variant("fork_sigchld").source), "--port", "4242", "--connections", "3"]


def test_no_compiler_is_said_clearly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CC", raising=False)
    with pytest.raises(NoCompiler, match=r"there is no C compiler: install one \(apt-get install gcc\)"):
        build_c(find_variant("c/echo_server").source)


def test_c_builds_are_cached_by_source_hash(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    source = find_variant("c/echo_server").source
    first = build_c(source)
    assert first.is_relative_to(tmp_path) and first.exists()
    assert build_c(source) == first


def test_a_killed_builds_partial_binary_is_removed_by_the_next_build(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A compile killed midway (SIGKILL: nothing of its own runs) leaves NAME.PID.tmp; the next build removes it."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    source = find_variant("c/echo_server").source
    cache = tmp_path / "syscall-harness" / "c"
    cache.mkdir(parents=True)
    dead = subprocess.Popen(["true"])
    dead.wait()  # its pid is free now: the build that named a file after it is gone
    abandoned = cache / f"echo_server-0123456789abcdef.{dead.pid}.tmp"
    abandoned.write_bytes(b"half a binary")
    alive = cache / f"echo_server-0123456789abcdef.{os.getpid()}.tmp"  # a build still running (this process)
    alive.write_bytes(b"in progress")
    build_c(source)
    assert not abandoned.exists() and alive.exists()
