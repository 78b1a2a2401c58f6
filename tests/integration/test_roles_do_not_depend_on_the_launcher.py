"""The same server and the same expectation file give the same roles, verdicts and golden story however started.

Directly, through a pyenv-style shim (bash that forks a helper for each
``$(...)`` and then execs the interpreter), or through ``sh -c`` with a
``$(...)``: the launcher's processes are ``launcher``, ``launcher.1``..., and
the server's roles start at its own program.  Each bundled file's
``golden:`` assertion compares the run's whole story with the golden file
recorded from a direct start, so a pass is a byte-identical story.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from support.capability import missing
from support.programs import EXPECTATIONS

from harness.model.events import ExecEvent
from harness.model.trace import Trace
from harness.model.variants import find_variant
from harness.running.variants import build_c

pytestmark = [pytest.mark.ptrace, pytest.mark.usefixtures("ptrace_permitted")]

EXAMPLES = Path(__file__).parents[2] / "examples"

#: A pyenv shim's shape: helpers for $(...), then exec of the interpreter named in a file beside it.
_SHIM = """\
#!/usr/bin/env bash
set -e
program="${0##*/}"
root="$(cd "$(dirname "$0")" && pwd)"
version="$(cat "$root/version")"
exec "$(cat "$root/interpreter")" "$@"
"""
#: The wrapper of the issue: a helper for dirname, then exec of the command.
_SH_C = ["sh", "-c", 'dir=$(dirname "$0"); exec "$0" "$@"']

#: Bundled files of every shape: a handler, a reaper by poll, no reaping, a daemon, threads, JSON-RPC,
#: an injected EINTR, and a C server.
FILES = [
    "fork_sigchld",
    "fork_poll_reaper",
    "fork_no_reap",
    "daemon_double_fork",
    "fork_threads",
    "rpc_fork",
    "fork_sigchld_raises_injected_eintr",
    "c_echo_server",
]


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pyenv-style ``python3`` shim that runs this interpreter."""
    folder = tmp_path_factory.mktemp("shims")
    (folder / "version").write_text("3\n")
    (folder / "interpreter").write_text(sys.executable + "\n")
    path = folder / "python3"
    path.write_text(_SHIM)
    path.chmod(0o755)
    return path


def _server_words(name: str) -> tuple[list[str], str]:
    """The bundled file's server as a command with placeholders, and the protocol its clients speak."""
    text = (EXPECTATIONS / f"{name}.expect.yaml").read_text()
    variant = find_variant(next(line.split()[1] for line in text.splitlines() if line.startswith("server:")))
    program = [str(build_c(variant.source))] if variant.is_c else [sys.executable, str(variant.source)]
    options = ["{port}", "{connections}"] if variant.is_c else ["--port", "{port}", "--connections", "{connections}"]
    return [*program, *options], variant.protocol


def _check(name: str, launch: Callable[[list[str]], list[str]], traces: Path) -> subprocess.CompletedProcess[str]:
    words, protocol = _server_words(name)
    command = shlex.join(launch(words))
    file = str(EXPECTATIONS / f"{name}.expect.yaml")
    options = ["--server-command", command, "--protocol", protocol, "--traces", str(traces)]
    return subprocess.run(
        [sys.executable, "-m", "harness", "check", file, *options],
        capture_output=True,
        text=True,
        timeout=300,
    )


CASES = [(name, "sh -c") for name in FILES] + [
    (name, "pyenv-style shim")
    for name in FILES
    if not name.startswith("c_")  # a Python shim runs Python
]


@pytest.mark.parametrize(("name", "launcher"), CASES)
def test_a_bundled_file_passes_whole_behind_a_launcher(name: str, launcher: str, shim: Path, tmp_path: Path) -> None:
    if launcher == "pyenv-style shim":
        done = _check(name, lambda words: [str(shim), *words[1:]], tmp_path)
    else:
        done = _check(name, lambda words: [*_SH_C, *words], tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr  # before: every role-naming assertion and golden failed
    assert " 0 failed" in done.stdout.splitlines()[-1]


def test_the_launchers_processes_are_named_for_what_they_are(shim: Path, tmp_path: Path) -> None:
    jsonl = tmp_path / "run.jsonl"
    words, _ = _server_words("fork_sigchld")
    command = [str(shim), *words[1:]]
    run = [sys.executable, "-m", "harness", "run", "--connections", "2", "--jsonl", str(jsonl), "-o", "/dev/null"]
    subprocess.run(
        [*run, "--", *command],
        check=True,
        capture_output=True,
        timeout=300,
    )

    trace = Trace.read_jsonl(jsonl)
    roles = set(trace.roles())
    server = {"main", "main.1", "main.2"}
    assert server <= roles and {role for role in roles - server if not role.startswith("launcher")} == set()
    helpers = sorted(role for role in roles if role.startswith("launcher."))
    assert len(helpers) >= 3  # the shim's $(...): cd and dirname, cat, cat
    first = next(event for event in trace if event.role == "main")
    assert isinstance(first, ExecEvent)  # main begins at its exec, into the interpreter
    assert first.filename == str(Path(sys.executable).resolve())


#: Examples whose servers are real programs written elsewhere, with the launchers that can start them.
EXAMPLE_CASES = [
    ("forking_tcp_server", "pyenv-style shim"),
    ("forking_tcp_server", "sh -c"),
    ("xinetd", "sh -c"),  # a launcher before a launcher: sh -c, then xinetd.sh's own shell
]


@pytest.mark.parametrize(("example", "launcher"), EXAMPLE_CASES)
def test_an_example_passes_whole_behind_a_launcher(example: str, launcher: str, shim: Path, tmp_path: Path) -> None:
    """The example's own file, its server command put behind the launcher: every assertion holds as before."""
    if example == "xinetd" and shutil.which("xinetd") is None:
        missing("xinetd is not installed: apt-get install xinetd")
    folder = tmp_path / example
    shutil.copytree(EXAMPLES / example, folder)
    path = folder / f"{example}.expect.yaml"
    data = yaml.safe_load(path.read_text())
    command = [word.replace("{here}", str(folder)) for word in data["server"]["command"]]
    if launcher == "pyenv-style shim":
        data["server"]["command"] = [str(shim), *command[1:]]  # "{python}" is the interpreter the shim runs
    else:
        data["server"]["command"] = [*_SH_C, *command]
    path.write_text(yaml.safe_dump(data, sort_keys=False))

    done = subprocess.run(
        [sys.executable, "-m", "harness", "check", str(path), "--traces", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=folder,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 failed" in done.stdout.splitlines()[-1]
