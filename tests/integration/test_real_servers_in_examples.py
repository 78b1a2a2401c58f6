"""The examples: real servers written elsewhere (the stdlib's ForkingTCPServer, gunicorn), with their expectations.

Each example's file passes on a run of its server; a copy of it that claims
what the server does not do fails, at the assertion that claims it, with the
report naming what happened instead.  The clients are counted as they ran:
HTTP requests, and commands of the user's own.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.model.expectations import ServerSpec
from harness.model.loader import load_expectations
from harness.model.scenario import ClientCommand, Scenario, Stop
from harness.running.check import FileChecked, check_file
from harness.running.serving import run_spec

pytestmark = [pytest.mark.ptrace, pytest.mark.usefixtures("ptrace_permitted")]

EXAMPLES = Path(__file__).parents[2] / "examples"
PROGRAMS = Path(__file__).parent / "programs"
ECHO_SERVER = (sys.executable, str(EXAMPLES / "forking_tcp_server" / "echo_server.py"), "{port}")
needs_gunicorn = pytest.mark.skipif(
    importlib.util.find_spec("gunicorn") is None, reason="gunicorn is not installed: pip install -e '.[examples]'"
)


def _copy(example: str, tmp_path: Path) -> Path:
    """A copy of an example's folder, to mutate its expectation file without touching the original."""
    target = tmp_path / example
    shutil.copytree(EXAMPLES / example, target)
    return target


def _failed(checked: FileChecked) -> dict[str, str]:
    """The failing assertions of a checked run, by name, with their reports."""
    return {result.assertion.name: result.report() for result in checked.results if not result.passed}


def test_forking_tcp_server_example_passes_with_stop_sigterm() -> None:
    checked = check_file(load_expectations(EXAMPLES / "forking_tcp_server" / "forking_tcp_server.expect.yaml"))
    assert _failed(checked) == {}
    assert checked.run.ok
    assert (checked.run.stop_sent, checked.run.exit_code) == (True, 0)
    assert checked.run.clients.completed == 3


def test_claiming_the_forking_server_is_killed_by_sigterm_fails_with_its_real_exit(tmp_path: Path) -> None:
    folder = _copy("forking_tcp_server", tmp_path)
    path = folder / "forking_tcp_server.expect.yaml"
    text = path.read_text()
    lie = text.replace("      - +++ exited 0 +++", "      - +++ killed SIGTERM +++")
    assert lie != text
    path.write_text(lie)
    failed = _failed(check_file(load_expectations(path)))
    [(name, report)] = failed.items()
    assert name.startswith("SIGTERM ends serve_forever")
    assert "step 5 of 5 was not matched" in report
    assert "+++ exited with 0 +++" in report
    assert "-- it exited with 0" in report


@needs_gunicorn
@pytest.mark.parametrize("name", ["gunicorn", "gunicorn_worker_killed"])
def test_gunicorn_example_passes(name: str) -> None:
    checked = check_file(load_expectations(EXAMPLES / "gunicorn" / f"{name}.expect.yaml"))
    assert _failed(checked) == {}
    assert checked.run.ok
    assert (checked.run.stop_sent, checked.run.exit_code, checked.run.clients.completed) == (True, 0, 3)


@needs_gunicorn
def test_claiming_a_killed_gunicorn_worker_is_never_replaced_fails_with_the_count(tmp_path: Path) -> None:
    folder = _copy("gunicorn", tmp_path)
    path = folder / "gunicorn_worker_killed.expect.yaml"
    path.write_text(
        path.read_text()
        + "\n  - name: the arbiter forks its one worker once and never again\n"
        + "    whole_trace: true\n    count: spawn process\n    equals: 1\n"
    )
    failed = _failed(check_file(load_expectations(path)))
    assert failed == {
        "the arbiter forks its one worker once and never again": (
            failed["the arbiter forks its one worker once and never again"]
        )
    }
    assert "count of 'spawn process' in main: expected == 1, counted 2" in failed[next(iter(failed))]


def test_http_clients_are_counted_by_their_complete_answers() -> None:
    """http.server answers GET / with a listing of its directory; SIGTERM's default action ends it."""
    command = (sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(PROGRAMS), "{port}")
    run = run_spec(ServerSpec(command=command, protocol="http", stop=Stop("SIGTERM")), Scenario(4, mode="free"))
    assert run.ok, run.summary()
    assert (run.clients.connections, run.clients.completed, run.clients.failures) == (4, 4, ())
    assert run.exit_signal == "SIGTERM"


def test_http_clients_fail_on_a_server_that_does_not_speak_http() -> None:
    run = run_spec(ServerSpec(command=ECHO_SERVER, protocol="http", stop=Stop("SIGTERM")), Scenario(2, messages=1))
    assert not run.ok
    assert run.clients.completed == 0
    assert len(run.clients.failures) == 2


def test_a_client_command_runs_once_per_connection_and_passes_when_it_exits_0() -> None:
    client = ClientCommand((sys.executable, str(PROGRAMS / "echo_once.py"), "{host}", "{port}", "{index}", "none"))
    run = run_spec(ServerSpec(command=ECHO_SERVER, stop=Stop("SIGTERM"), client_command=client), Scenario(3))
    assert run.ok, run.summary()
    assert (run.clients.completed, run.clients.failures) == (3, ())
    assert run.summary().startswith("3 connections, clients ok, server exited with 0 after SIGTERM")


def test_a_client_command_that_exits_non_zero_is_a_failed_connection_named_with_its_status() -> None:
    client = ClientCommand((sys.executable, str(PROGRAMS / "echo_once.py"), "{host}", "{port}", "{index}", "1,3"))
    run = run_spec(ServerSpec(command=ECHO_SERVER, stop=Stop("SIGTERM"), client_command=client), Scenario(4))
    assert not run.ok
    assert run.clients.completed == 2
    assert sorted(failure.split(":")[0] for failure in run.clients.failures) == ["client 1", "client 3"]
    assert all("exited with 3" in failure for failure in run.clients.failures)
    assert run.exit_code == 0  # the server was still stopped and ended cleanly


def _harness(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], cwd=cwd, capture_output=True, text=True, timeout=180
    )


def test_run_takes_stop_and_a_client_command_on_the_command_line(tmp_path: Path) -> None:
    client = f"'{{python}}' {PROGRAMS / 'echo_once.py'} {{host}} {{port}} {{index}} none"
    done = _harness(
        "run", "--stop", "SIGTERM", "--grace", "10", "--client-command", client, "--", *ECHO_SERVER, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "3 connections, clients ok, server exited with 0 after SIGTERM" in done.stderr
    assert "--- SIGTERM {" in done.stderr


def test_a_misspelt_stop_signal_is_refused_in_one_line_with_the_nearest_name(tmp_path: Path) -> None:
    done = _harness("run", "--stop", "SIGTREM", "--", *ECHO_SERVER, cwd=tmp_path)
    assert done.returncode == 2
    assert (
        done.stderr
        == "harness: stop: unknown signal 'SIGTREM'; did you mean 'SIGTERM'? write 'exit' or a signal's name\n"
    )


def test_a_grace_without_a_stop_signal_is_refused(tmp_path: Path) -> None:
    done = _harness("run", "--grace", "3", "--", *ECHO_SERVER, cwd=tmp_path)
    assert done.returncode == 2
    assert "a grace only goes with a stop signal" in done.stderr


def test_without_gunicorn_its_examples_are_skipped_with_the_fix(tmp_path: Path) -> None:
    """A machine without the extra: a plugin loaded first hides gunicorn, as if it were not installed."""
    # A None in sys.modules is Python's own "no such module": import fails, find_spec gives None.
    (tmp_path / "hide_gunicorn.py").write_text("import sys\nsys.modules['gunicorn'] = None\n")
    # A pytest of its own: not an xdist worker of this one (PYTEST_XDIST_WORKER...), nor this test's state.
    outer = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "hide_gunicorn",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-q",
            "-rs",
            str(EXAMPLES / "gunicorn"),
        ],
        cwd=Path(__file__).parents[2],
        env={**outer, "PYTHONPATH": f"{tmp_path}:{Path(__file__).parents[2]}"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "gunicorn is not installed: pip install -e '.[examples]'" in done.stdout
    assert " passed" not in done.stdout and "error" not in done.stdout.lower()


@needs_gunicorn
def test_gunicorn_swept_in_free_mode_retries_each_worker_call_a_sigwinch_interrupts() -> None:
    """Gunicorn's workers catch SIGWINCH (and ignore it); CPython retries the read it interrupts (PEP 475)."""
    from harness.running.sources import RunPlan
    from harness.running.sweep import SweepOptions, sweep_plan

    plan = RunPlan.of_expectation(load_expectations(EXAMPLES / "gunicorn" / "gunicorn.expect.yaml"))
    assert plan.scenario.mode == "free"
    result = sweep_plan(plan, SweepOptions(signal="SIGWINCH", jobs=2))
    assert not result.broken
    read = next(verdict for verdict in result.verdicts if verdict.site.call == "recvfrom")
    assert (read.site.family, read.verdict) == ("main.*", "retried")
    assert re.fullmatch(r"unreader\.py:\d+ in chunk", read.site.where)  # the line differs between gunicorn's versions
    assert "(PEP 475)" in read.note


def test_socat_swept_retries_its_select_after_the_eintr_of_its_own_handler() -> None:
    """Socat reaps in a SIGCHLD handler without SA_RESTART; its select loop calls select again after EINTR."""
    if shutil.which("socat") is None:
        pytest.skip("socat is not installed: apt-get install socat")
    from harness.running.sources import RunPlan
    from harness.running.sweep import sweep_plan

    result = sweep_plan(RunPlan.of_expectation(load_expectations(EXAMPLES / "socat" / "socat.expect.yaml")))
    assert not result.broken
    selects = [verdict for verdict in result.verdicts if verdict.site.call == "pselect6"]
    assert {verdict.site.family for verdict in selects} == {"main", "main.*"}
    assert all(verdict.verdict == "retried" and "ERESTARTNOHAND" in verdict.evidence for verdict in selects)
    assert all(verdict.site.where.startswith("socat+0x") for verdict in selects)
