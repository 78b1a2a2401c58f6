"""Expectation files: a valid one becomes the model; every mistake is one ExpectationError with its place."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from support.programs import EXPECTATIONS
from support.yaml_values import YAML_VALUES, scalar_places, with_value

from harness.model.errors import HarnessError
from harness.model.expectations import (
    MAIN,
    CountCheck,
    ExpectationFile,
    FactCheck,
    GoldenCheck,
    Location,
    NeverCheck,
    RoleSelector,
    SequenceCheck,
    ServerSpec,
)
from harness.model.loader import ExpectationError, load_expectations
from harness.model.scenario import Protocol, Scenario
from harness.model.steps import Capture, ChildPid, ErrnoName, Flags, Literal, SignalStep, SyscallStep
from harness.model.yaml_shape import MAX_NESTING

BAD = Path(__file__).parent / "bad_expectations"

# -- a valid file, read back --------------------------------------------------------

VALID = """\
# The fork_sigchld lesson, with every kind of check.
server: fork_sigchld
scenario:
  connections: 2
  messages: 3
timeout: 30
start_after: listen($listen)

assertions:
  - name: accept is interrupted and retried
    role: main
    sequence:
      - accept4 -> $conn
      - clone -> $child
      - close($conn)
      - "--- SIGCHLD {si_pid=$child} ---"
      - rt_sigreturn -> EINTR

  - name: the handler has no SA_RESTART
    whole_trace: true
    adjacent: true
    sequence: ["rt_sigaction(SIGCHLD, act.flags=!SA_RESTART) -> 0"]

  - name: one reap per connection
    count: wait4 -> child
    equals: connections

  - name: some accepts are restarted
    count: accept4 -> restarted
    at_least: 1

  - name: few failed waits
    count: wait4 -> ECHILD
    at_most: 4

  - name: children never accept
    role: every child
    never: accept4

  - name: no zombie
    role: any process
    fact: no zombie left

  - name: as recorded
    golden: golden/fork_sigchld.golden.yaml
"""


@pytest.fixture
def valid(tmp_path: Path) -> ExpectationFile:
    path = tmp_path / "fork_sigchld.expect.yaml"
    path.write_text(VALID)
    return load_expectations(path)


def test_a_valid_file_names_its_server_scenario_and_start(valid: ExpectationFile, tmp_path: Path) -> None:
    assert valid.path == tmp_path / "fork_sigchld.expect.yaml"
    assert valid.server == ServerSpec(variant="fork_sigchld", protocol="echo")
    assert str(valid.server) == "fork_sigchld"
    assert valid.scenario == Scenario(connections=2, messages=3)
    assert valid.timeout == 30.0
    assert valid.start_after == SyscallStep("listen($listen)", "listen", (("fd", Capture("listen")),))
    assert valid.syscalls == ("listen", "accept4", "clone", "close", "rt_sigreturn", "rt_sigaction", "wait4")


def test_a_valid_file_reads_every_assertion(valid: ExpectationFile, tmp_path: Path) -> None:
    path = str(tmp_path / "fork_sigchld.expect.yaml")
    names = [assertion.name for assertion in valid.assertions]
    assert names == [
        "accept is interrupted and retried",
        "the handler has no SA_RESTART",
        "one reap per connection",
        "some accepts are restarted",
        "few failed waits",
        "children never accept",
        "no zombie",
        "as recorded",
    ]
    assert [assertion.location for assertion in valid.assertions] == [
        Location(path, line) for line in (10, 19, 24, 28, 32, 36, 40, 44)
    ]
    assert [assertion.whole_trace for assertion in valid.assertions] == [False, True] + [False] * 6

    first, handler, reaps, restarts, failures, never, fact, golden = valid.assertions
    assert first.roles == MAIN
    assert isinstance(first.check, SequenceCheck)
    assert [step.text for step in first.check.steps] == [
        "accept4 -> $conn",
        "clone -> $child",
        "close($conn)",
        "--- SIGCHLD {si_pid=$child} ---",
        "rt_sigreturn -> EINTR",
    ]
    assert first.check.steps[3] == SignalStep(
        "--- SIGCHLD {si_pid=$child} ---", "SIGCHLD", (("si_pid", Capture("child")),)
    )
    assert first.check.lines == (13, 14, 15, 16, 17)
    assert first.check.adjacent is False

    assert handler.roles == MAIN
    assert handler.check == SequenceCheck(
        (
            SyscallStep(
                "rt_sigaction(SIGCHLD, act.flags=!SA_RESTART) -> 0",
                "rt_sigaction",
                (("signal", Literal("SIGCHLD")), ("act.flags", Flags((), ("SA_RESTART",)))),
                Literal(0),
            ),
        ),
        adjacent=True,
        lines=(22,),
    )

    assert reaps.check == CountCheck(SyscallStep("wait4 -> child", "wait4", (), ChildPid()), "==", "connections")
    assert isinstance(restarts.check, CountCheck) and (restarts.check.operator, restarts.check.value) == (">=", 1)
    assert failures.check == CountCheck(SyscallStep("wait4 -> ECHILD", "wait4", (), ErrnoName("ECHILD")), "<=", 4)

    assert never.roles == RoleSelector("every child", "every", "child")
    assert never.check == NeverCheck(SyscallStep("accept4", "accept4"))
    assert fact.roles == RoleSelector("any process", "any", "process")
    assert fact.check == FactCheck("no zombie left")
    assert golden.check == GoldenCheck(tmp_path / "golden" / "fork_sigchld.golden.yaml")


def test_the_smallest_file_takes_every_default(tmp_path: Path) -> None:
    path = tmp_path / "small.expect.yaml"
    path.write_text("server: rpc_fork\nassertions:\n  - name: no zombie\n    fact: no zombie left\n")
    loaded = load_expectations(path)
    assert loaded.server == ServerSpec(variant="rpc_fork", protocol="rpc")
    assert loaded.scenario == Scenario()
    assert loaded.start_after is None
    assert loaded.timeout == 60.0
    assert loaded.syscalls == ()
    assert loaded.assertions[0].roles == MAIN
    assert loaded.assertions[0].whole_trace is False


@pytest.mark.parametrize(
    ("server", "command", "protocol"),
    [
        (
            "{command: \"python3 srv.py --port {port} --name 'my server'\", protocol: rpc}",
            ("python3", "srv.py", "--port", "{port}", "--name", "my server"),
            "rpc",
        ),
        ("{command: [./srv, '--listen=127.0.0.1:{port}', 5]}", ("./srv", "--listen=127.0.0.1:{port}", "5"), "echo"),
    ],
)
def test_a_command_server_is_split_and_keeps_its_port_placeholder(
    tmp_path: Path, server: str, command: tuple[str, ...], protocol: Protocol
) -> None:
    path = tmp_path / "cmd.expect.yaml"
    path.write_text(f"server: {server}\nassertions:\n  - name: no zombie\n    fact: no zombie left\n")
    loaded = load_expectations(path)
    assert loaded.server == ServerSpec(variant=None, command=command, protocol=protocol)


def test_an_absolute_golden_path_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "g.expect.yaml"
    path.write_text("server: fork_sigchld\nassertions:\n  - name: as recorded\n    golden: /srv/x.golden.yaml\n")
    check = load_expectations(path).assertions[0].check
    assert check == GoldenCheck(Path("/srv/x.golden.yaml"))


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("/etc/passwd", "a golden file's name ends in .golden.yaml (got 'passwd')"),
        ("/dev/zero", "a golden file's name ends in .golden.yaml (got 'zero')"),
        (
            "../victim.golden.yaml",
            "a relative golden path stays inside this file's directory; "
            "write an absolute path to use a golden file elsewhere",
        ),
    ],
)
def test_a_golden_path_names_a_golden_file_inside_the_project(tmp_path: Path, written: str, message: str) -> None:
    path = tmp_path / "g.expect.yaml"
    path.write_text(f"server: fork_sigchld\nassertions:\n  - name: as recorded\n    golden: {written}\n")
    with pytest.raises(ExpectationError) as caught:
        load_expectations(path)
    assert caught.value.message == message
    assert (caught.value.location.line, caught.value.location.column) == (4, 13)


def test_every_bundled_expectation_file_loads() -> None:
    bundled = sorted((Path(__file__).parents[2] / "expectations").glob("*.expect.yaml"))
    assert bundled, "no bundled expectation files found"
    for path in bundled:
        assert isinstance(load_expectations(path), ExpectationFile), path


# -- negative fixtures: each file says, on its first line, its mistake, where, and what is said ----------

#: Fixtures that show a bug in the loader: the first line states what it should report.
KNOWN_BUGS: dict[str, str] = {}


def _fixtures() -> list[Any]:
    paths = sorted(BAD.glob("*.expect.yaml"))
    assert len(paths) >= 40, f"negative fixtures missing from {BAD}"
    params = []
    for path in paths:
        name = path.name.removesuffix(".expect.yaml")
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name])] if name in KNOWN_BUGS else []
        params.append(pytest.param(path, id=name, marks=marks))
    return params


def _header(path: Path) -> tuple[str, int, int, str]:
    """The fixture's first line, ``# mistake | line:col | phrase``."""
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8")
    assert first.startswith("# "), f"{path.name}: the first line must be a comment"
    mistake, where, phrase = first[2:].split(" | ")
    line, column = where.split(":")
    assert mistake and phrase
    return mistake, int(line), int(column), phrase


@pytest.mark.parametrize("path", _fixtures())
def test_a_bad_file_is_refused_at_its_place_with_its_reason(path: Path) -> None:
    _, line, column, phrase = _header(path)
    with pytest.raises(ExpectationError) as caught:
        load_expectations(path)
    error = caught.value
    assert type(error) is ExpectationError
    assert error.location == Location(str(path), line, column)
    assert phrase in error.message
    # path:line:col: message, then the source line with a caret under the column
    lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()
    head = f"{path}:{line}:{column}: {error.message}" if line else f"{path}: {error.message}"
    if 1 <= line <= len(lines):
        assert str(error) == f"{head}\n    {lines[line - 1]}\n    {' ' * (column - 1)}^"
    else:
        assert str(error) == head
    # raised from None: no chained traceback of the YAML or schema library
    assert error.__context__ is None or error.__suppress_context__


def test_an_expectation_error_is_a_harness_error_with_status_65() -> None:
    error = ExpectationError(Location("x.expect.yaml", 3, 7), "boom", "    excerpt")
    assert isinstance(error, HarnessError)
    assert error.exit_status == 65
    assert str(error) == "x.expect.yaml:3:7: boom\n    excerpt"
    assert (error.location, error.message) == (Location("x.expect.yaml", 3, 7), "boom")


def test_a_missing_file_is_refused_without_a_line(tmp_path: Path) -> None:
    path = tmp_path / "nope.expect.yaml"
    with pytest.raises(ExpectationError) as caught:
        load_expectations(path)
    assert caught.value.location == Location(str(path), 0)
    assert caught.value.message == "cannot read the file: No such file or directory"


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.expect.yaml"
    path.write_text("server: fork_sigchld\nassertions: &loop [*loop]\n")
    with pytest.raises(ExpectationError):
        load_expectations(path)


#: "Billion laughs": a few hundred bytes that expand to 10**9 values when aliases are followed.
_LEVELS = ["  - &l0 [" + ", ".join(['"lol"'] * 9) + "]\n"] + [
    f"  - &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]\n" for level in range(1, 10)
]
_ALIAS_BOMB = "server: fork_sigchld\nbombs:\n" + "".join(_LEVELS) + "assertions:\n  - {name: z, fact: no zombie left}\n"


def test_an_alias_bomb_is_refused_at_once_where_it_starts(tmp_path: Path) -> None:
    """Refused in a child process held to 1 GiB of memory and 60 s: an unbounded walk would exceed both."""
    path = tmp_path / "bomb.expect.yaml"
    path.write_text(_ALIAS_BOMB)
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from harness.model.loader import ExpectationError, load_expectations\n"
        "try:\n    load_expectations(sys.argv[1])\n"
        "except ExpectationError as error:\n    print(error.location, error.message)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    location, _, message = done.stdout.partition(" ")
    assert location.startswith(f"{path}:")
    assert message.startswith("aliases (*name) repeat this part so often")


def test_a_file_may_use_a_few_aliases(tmp_path: Path) -> None:
    path = tmp_path / "aliases.expect.yaml"
    path.write_text(
        "server: fork_sigchld\nassertions:\n"
        "  - {name: a, role: &r main, sequence: &s [accept4 -> $c, close($c)]}\n"
        "  - {name: b, role: *r, sequence: *s}\n"
    )
    first, second = load_expectations(path).assertions
    assert (first.roles, first.check) == (second.roles, second.check)


def test_too_many_assertions_are_refused_with_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "many.expect.yaml"
    path.write_text(
        "server: fork_sigchld\nassertions:\n"
        + "".join(f"  - {{name: a{i}, fact: no zombie left}}\n" for i in range(2001))
    )
    with pytest.raises(ExpectationError) as caught:
        load_expectations(path)
    assert caught.value.message == "2001 assertions: a file may hold at most 2000; split it into several files"
    assert caught.value.location.line == 3


def test_a_file_larger_than_a_mebibyte_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "big.expect.yaml"
    path.write_text("server: fork_sigchld\n" + "#" * (1 << 21) + "\n")
    with pytest.raises(ExpectationError) as caught:
        load_expectations(path)
    assert caught.value.message == "larger than 1 MiB: an expectation file is a few KiB; split it"


@pytest.mark.parametrize("kind", ["device", "fifo", "directory"])
def test_only_a_regular_file_is_read(tmp_path: Path, kind: str) -> None:
    if kind == "device":
        path = Path("/dev/zero")
    elif kind == "fifo":
        path = tmp_path / "pipe.expect.yaml"
        os.mkfifo(path)
    else:
        path = tmp_path / "dir.expect.yaml"
        path.mkdir()
    with pytest.raises(ExpectationError) as caught:
        load_expectations(path)
    why = "it is a directory" if kind == "directory" else "not a regular file (a device, a FIFO or a socket)"
    assert caught.value.message == f"{why}: an expectation file is a YAML text file"


def test_a_huge_timeout_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.expect.yaml"
    path.write_text(f"server: fork_sigchld\ntimeout: {10**400}\nassertions:\n  - name: z\n    fact: no zombie left\n")
    with pytest.raises(ExpectationError):
        load_expectations(path)


def test_deeply_nested_brackets_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.expect.yaml"
    path.write_text("server: fork_sigchld\nassertions: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ExpectationError) as caught:
        load_expectations(path)
    assert caught.value.message.startswith(f"it nests deeper than {MAX_NESTING} levels here")
    assert (caught.value.location.line, caught.value.location.column) == (
        2,
        12 + MAX_NESTING,
    )  # "assertions: ", then the 64th "["


def test_an_unknown_non_string_key_is_located(tmp_path: Path) -> None:
    path = tmp_path / "int_key.expect.yaml"
    path.write_text("server: fork_sigchld\nassertions:\n  - {name: z, fact: no zombie left}\n1: 2\n")
    with pytest.raises(ExpectationError) as caught:
        load_expectations(path)
    assert caught.value.message.startswith("unknown key 1")
    assert (caught.value.location.line, caught.value.location.column) == (4, 1)


# -- nothing else ever escapes ------------------------------------------------------------

KEYS = [
    "server",
    "scenario",
    "timeout",
    "start_after",
    "assertions",
    "name",
    "role",
    "sequence",
    "adjacent",
    "whole_trace",
    "count",
    "equals",
    "at_least",
    "at_most",
    "never",
    "fact",
    "golden",
    "command",
    "protocol",
    "connections",
    "messages",
    "concurrency",
    "mode",
]
WORDS = [
    "fork_sigchld",
    "fork_sigchdl",
    "c/echo_server",
    "accept4 -> $conn",
    "close($conn)",
    "wait4(-1, _, WNOHANG) -> child",
    "--- SIGCHLD {si_pid=$child} ---",
    "+++ exited 0 +++",
    "spawn process $child",
    "acept4",
    "accept4 -> -4",
    "close(",
    "main",
    "every child",
    "any main.*",
    "child",
    "no zombie left",
    "connections",
    "deterministic",
    "free",
    "echo",
    "python3 srv.py --port {port}",
    "python3 'srv.py",
    "golden.yaml",
]
# Integers stay within float range: a huge timeout is a known bug (test_a_huge_timeout_is_refused).
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**6), max_value=10**6)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(WORDS)
)
yamlish = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=20,
)


def _mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually a value of the right form, sometimes anything."""
    return st.sampled_from([True] * 9 + [False]).flatmap(lambda right: valid if right else yamlish)


STEPS = st.sampled_from([word for word in WORDS if "(" in word or "->" in word or word[:3] in ("---", "+++", "spa")])
AMOUNTS = st.integers(min_value=0, max_value=5) | st.sampled_from(
    ["connections", "connections + 2", "2 * connections", "(connections", "connections +", "2 ** 8", "x"]
)
#: A step, or alternatives of steps (well formed or not).
STEP_FORMS = STEPS | st.fixed_dictionaries({"any_of": st.lists(STEPS, max_size=3)}) | st.dictionaries(STEPS, STEPS)
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "role": st.sampled_from(["main", "main.1", "every child", "any main.*", "child", "any thread", "every"]),
    "sequence": st.lists(STEP_FORMS, min_size=1, max_size=4),
    "count": STEP_FORMS,
    "never": STEP_FORMS,
    "each": STEP_FORMS,
    "then": st.lists(STEP_FORMS, min_size=1, max_size=3),
    "child": st.lists(STEP_FORMS, min_size=1, max_size=3),
    "in": st.sampled_from(["$child", "$conn", "child", "$nope"]),
    "after": STEP_FORMS,
    "before": STEP_FORMS,
    "start_after": STEP_FORMS,
    "fact": st.sampled_from(["no zombie left", "closes the listening socket", "no zombies left"]),
    "golden": st.just("golden.yaml"),
    "adjacent": st.booleans(),
    "whole_trace": st.booleans(),
}


@st.composite
def assertion_like(draw: st.DrawFn) -> dict[str, Any]:
    """An assertion close to a real one: a name, one check (a count with its amount), maybe more keys."""
    data: dict[str, Any] = {"name": draw(st.sampled_from(["a", "b"]) | st.text(max_size=8))}
    kind = draw(st.sampled_from(["sequence", "count", "never", "each", "fact", "golden"]))
    data[kind] = draw(_mostly(VALUES[kind]))
    if kind == "count":
        data[draw(st.sampled_from(["equals", "at_least", "at_most"]))] = draw(_mostly(AMOUNTS))
    for key in ("role", "adjacent", "whole_trace", "then", "child", "in", "after", "before", "start_after"):
        if draw(st.booleans()):
            data[key] = draw(_mostly(VALUES[key]))
    if draw(st.sampled_from([False] * 9 + [True])):
        data[draw(st.sampled_from(KEYS[6:17]))] = draw(scalars)
    return data


# Close to a real file, so that the checks after the schema are reached too.
document_like = st.fixed_dictionaries(
    {
        "server": _mostly(
            st.sampled_from(["fork_sigchld", "rpc_fork", "fork_sigchdl"])
            | st.fixed_dictionaries(
                {"command": st.sampled_from(WORDS) | st.lists(st.sampled_from(WORDS), max_size=3)},
                optional={"protocol": st.sampled_from(["echo", "rpc", "ecoh"])},
            )
        ),
        "assertions": _mostly(st.lists(assertion_like(), min_size=1, max_size=3)),
    },
    optional={
        "scenario": _mostly(
            st.fixed_dictionaries(
                {},
                optional={
                    "connections": _mostly(st.integers(min_value=1, max_value=5)),
                    "messages": _mostly(st.integers(min_value=0, max_value=5)),
                    "concurrency": _mostly(st.integers(min_value=1, max_value=2)),
                    "mode": _mostly(st.sampled_from(["deterministic", "free"])),
                },
            )
        ),
        "timeout": _mostly(st.floats(min_value=0.1, max_value=100)),
        "start_after": _mostly(STEPS),
    },
)
yaml_text = st.text() | st.text(alphabet=" \n\t-:[]{},#&*!|>'\"%@`?abc01$()", max_size=80)


def _load_or_refuse(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    try:
        loaded = load_expectations(path)
    except ExpectationError as error:
        assert str(error).startswith(f"{path}:")
    else:
        assert isinstance(loaded, ExpectationFile)


@given(text=yaml_text)
def test_any_text_is_loaded_or_refused(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    _load_or_refuse(tmp_path_factory.mktemp("text") / "fuzz.expect.yaml", text)


@given(data=yamlish | document_like)
def test_any_yaml_structure_is_loaded_or_refused(tmp_path_factory: pytest.TempPathFactory, data: object) -> None:
    text = yaml.safe_dump(data, sort_keys=False)
    _load_or_refuse(tmp_path_factory.mktemp("yaml") / "fuzz.expect.yaml", text)


def test_a_command_runs_from_any_directory_with_its_paths_anchored_at_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "server.py").write_text("")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "server").write_text("")
    path = tmp_path / "cmd.expect.yaml"
    path.write_text(
        "server:\n"
        "  command: [python3, server.py, ./bin/server, '{python}', '{here}/data', missing.py, --port, '{port}']\n"
        "assertions:\n  - {name: z, fact: no zombie left}\n"
    )
    monkeypatch.chdir("/")
    command = load_expectations(path).server.command
    assert command == (
        "python3",  # a bare program name is looked up on PATH
        str(tmp_path / "server.py"),
        str(tmp_path / "bin" / "server"),
        sys.executable,
        f"{tmp_path}/data",
        "missing.py",  # no such file beside the expectation file: left as written
        "--port",
        "{port}",
    )


@pytest.mark.parametrize("written", [".nan", ".inf", "-.inf"])
def test_a_timeout_that_is_not_a_number_of_seconds_is_refused_before_the_run(tmp_path: Path, written: str) -> None:
    path = tmp_path / "t.expect.yaml"
    path.write_text(f"server: fork_sigchld\ntimeout: {written}\nassertions:\n  - {{name: z, fact: no zombie left}}\n")
    with pytest.raises(ExpectationError) as caught:
        load_expectations(path)
    assert (caught.value.location.line, caught.value.location.column) == (2, 10)


def test_a_server_that_serves_until_stopped_names_its_signal_grace_and_client(tmp_path: Path) -> None:
    from harness.model.scenario import ClientCommand, Stop

    (tmp_path / "client.py").write_text("")
    path = tmp_path / "mine.expect.yaml"
    path.write_text(
        "server:\n"
        "  command: [python3, server.py, '{port}']\n"
        "  stop: SIGINT\n"
        "  grace: 2.5\n"
        "client:\n"
        "  command: '{python} client.py {host} {port} {index}'\n"
        "assertions:\n"
        "  - name: it ends\n"
        "    fact: no zombie left\n"
    )
    server = load_expectations(path).server
    assert server.stop == Stop("SIGINT", 2.5)
    assert server.client == ClientCommand((sys.executable, str(tmp_path / "client.py"), "{host}", "{port}", "{index}"))


@pytest.mark.parametrize(("written", "exits"), [("", {0}), ("  exit: 1\n", {1}), ("  exit: [0, 2]\n", {0, 2})])
def test_the_exit_statuses_that_end_a_run_well_are_zero_unless_the_file_names_others(
    tmp_path: Path, written: str, exits: set[int]
) -> None:
    path = tmp_path / "mine.expect.yaml"
    path.write_text(
        f"server:\n  command: [socat, 'TCP-LISTEN:{{port}},fork', 'EXEC:cat']\n  stop: SIGTERM\n{written}"
        "assertions:\n  - name: it ends\n    fact: no zombie left\n"
    )
    assert load_expectations(path).server.stop.exits == exits


def test_a_server_exits_by_itself_unless_told_and_a_signal_gets_the_default_grace(tmp_path: Path) -> None:
    from harness.model.scenario import DEFAULT_GRACE, STOP_BY_ITSELF, Stop

    path = tmp_path / "mine.expect.yaml"
    base = (
        "server:\n  command: [python3, server.py, '{port}']\nSTOP"
        "assertions:\n  - name: it ends\n    fact: no zombie left\n"
    )
    path.write_text(base.replace("STOP", ""))
    assert load_expectations(path).server.stop == STOP_BY_ITSELF
    assert load_expectations(path).server.client == "echo"
    path.write_text(base.replace("STOP", "  stop: SIGTERM\n"))
    assert load_expectations(path).server.stop == Stop("SIGTERM", DEFAULT_GRACE)


def test_every_kind_of_yaml_value_at_every_place_of_a_real_file_is_loaded_or_refused(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Exhaustive, so that each crash the loader ever had (a date, 2.0 as a count, !!int abc, 4400 digits) is found."""
    text = (EXPECTATIONS / "c_echo_server.expect.yaml").read_text()
    path = tmp_path_factory.mktemp("every") / "fuzz.expect.yaml"
    places = scalar_places(text)
    assert len(places) > 10
    for place in places:
        for value in YAML_VALUES:
            _load_or_refuse(path, with_value(text, place, value))


@given(data=st.data())
def test_any_yaml_value_at_any_place_of_any_bundled_file_is_loaded_or_refused(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    source = data.draw(st.sampled_from(sorted(EXPECTATIONS.glob("*.expect.yaml"))))
    text = source.read_text()
    place = data.draw(st.sampled_from(scalar_places(text)))
    value = data.draw(st.sampled_from(YAML_VALUES) | st.text(max_size=20).map(repr))
    _load_or_refuse(tmp_path_factory.mktemp("any") / "fuzz.expect.yaml", with_value(text, place, value))
