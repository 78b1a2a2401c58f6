from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from harness.model.errors import UsageError
from harness.model.variants import find_variant, list_variants
from harness.running.variants import NoCompiler, build_c, variant_command


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
    command = variant_command(find_variant("fork_sigchld"), 4242, 3)
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


NOBODY = 65534


def test_the_build_cache_is_made_private(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    (tmp_path / "syscall-harness" / "c").mkdir(parents=True, mode=0o777)
    os.chmod(tmp_path / "syscall-harness", 0o777)
    os.chmod(tmp_path / "syscall-harness" / "c", 0o777)
    build_c(find_variant("c/echo_server").source)
    for level in (tmp_path / "syscall-harness", tmp_path / "syscall-harness" / "c"):
        assert level.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("planted", ["writable by others", "another user's", "a link"])
def test_a_cached_binary_that_is_not_trusted_is_built_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, planted: str
) -> None:
    """A binary at the predictable name is run only if it is a regular file of ours that nobody else can write."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    source = find_variant("c/echo_server").source
    binary = build_c(source)
    if planted == "writable by others":
        os.chmod(binary, 0o777)
    elif planted == "another user's":
        if os.geteuid() != 0:
            pytest.skip("only root can give a file to another user")
        os.chown(binary, NOBODY, NOBODY)
    else:
        evil = tmp_path / "evil"
        evil.write_bytes(b"#!/bin/sh\necho planted\n")
        binary.unlink()
        binary.symlink_to(evil)
    assert build_c(source) == binary
    info = os.lstat(binary)
    assert info.st_uid == os.geteuid() and not info.st_mode & 0o022 and binary.is_file() and not binary.is_symlink()


def test_a_cache_directory_of_another_user_is_refused_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can give a directory to another user")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    (tmp_path / "syscall-harness" / "c").mkdir(parents=True)
    os.chown(tmp_path / "syscall-harness" / "c", NOBODY, NOBODY)
    with pytest.raises(UsageError, match=r"is not a directory of yours .* remove it, or set XDG_CACHE_HOME elsewhere"):
        build_c(find_variant("c/echo_server").source)
