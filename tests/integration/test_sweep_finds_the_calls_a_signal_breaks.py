"""``harness sweep`` delivers a signal at every place a server sleeps and says which ones break it.

Real servers under real ptrace: C fork servers whose child gives up on
EINTR, retries, or has SA_RESTART; a poll whose ERESTART_RESTARTBLOCK
SA_RESTART cannot save; a select loop that restarts its timeout from zero;
Python servers whose handler CPython retries around (PEP 475) or which raise
from their handler.  Each sweep's verdicts are what the kernel did in the
runs, read from their traces.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.programs import PROGRAMS
from support.projects import harness_cli

from harness.model.expectations import ServerSpec
from harness.model.scenario import Scenario, Stop
from harness.model.sweep import SweepResult
from harness.running.sources import RunPlan
from harness.running.sweep import SweepOptions, sweep_plan

pytestmark = pytest.mark.usefixtures("ptrace_permitted")

CONNECTIONS = 2


def _sweep(command: list[str], **options: object) -> SweepResult:
    plan = RunPlan.of_command(ServerSpec(command=tuple(command)))
    plan = RunPlan(plan.label, plan.origin, plan.server, Scenario(connections=CONNECTIONS))
    return sweep_plan(plan, SweepOptions(jobs=1, **options))  # type: ignore[arg-type]


def _verdicts(result: SweepResult) -> dict[tuple[str, str], str]:
    return {(verdict.site.call, verdict.site.family): verdict.verdict for verdict in result.verdicts}


@pytest.fixture
def echo(c_program: Callable[[str], Path]) -> Callable[[str], list[str]]:
    binary = c_program("eintr_echo")
    return lambda mode: [str(binary), "{port}", mode, "{connections}"]


def test_a_child_that_gives_up_on_eintr_is_the_one_broken_site_and_sa_restart_fixes_it(
    echo: Callable[[str], list[str]],
) -> None:
    result = _sweep(echo("giveup"), sa_restart=True)
    assert _verdicts(result) == {
        ("read", "main.*"): "broken",
        ("accept", "main"): "retried",
        ("wait4", "main"): "retried",
    }
    [broken] = result.broken
    assert broken.site.where.startswith("eintr_echo+0x") and broken.site.where.endswith("(serve)")
    assert "main.1's read failed with EINTR (ERESTARTSYS to the tracer)" in broken.evidence
    assert "main.1 exited 1 (in the run without the signal it exited 0)" in broken.evidence
    assert broken.sa_restart_fixes is True
    assert broken.sa_restart_evidence.startswith("restarted: main.1's read returned ERESTARTSYS")


def test_the_same_server_retrying_after_eintr_has_no_broken_site(echo: Callable[[str], list[str]]) -> None:
    result = _sweep(echo("retry"))
    assert _verdicts(result) == {
        ("read", "main.*"): "retried",
        ("accept", "main"): "retried",
        ("wait4", "main"): "retried",
    }
    read = next(verdict for verdict in result.verdicts if verdict.site.call == "read")
    assert "the program's own loop made it again" in read.note


def test_with_sa_restart_in_the_program_every_site_is_restarted_by_the_kernel(echo: Callable[[str], list[str]]) -> None:
    result = _sweep(echo("restart"))
    assert set(_verdicts(result).values()) == {"restarted"}
    assert all("(its handler has SA_RESTART); the program never saw it" in v.evidence for v in result.verdicts)


def test_sa_restart_cannot_save_a_poll_that_gives_up(c_program: Callable[[str], Path]) -> None:
    result = _sweep([str(c_program("eintr_poll")), "{port}", "poll", "{connections}"], sa_restart=True)
    [broken] = result.broken
    assert broken.site.call == "poll" and broken.site.family == "main.*"
    assert "main.1's poll failed with EINTR (ERESTART_RESTARTBLOCK to the tracer)" in broken.evidence
    assert broken.sa_restart_fixes is False
    assert "ERESTART_RESTARTBLOCK" in broken.sa_restart_evidence


def test_a_select_loop_that_restarts_its_timeout_from_zero_is_shown_so(c_program: Callable[[str], Path]) -> None:
    result = _sweep([str(c_program("eintr_poll")), "{port}", "select", "{connections}"])
    select = next(verdict for verdict in result.verdicts if verdict.site.call == "pselect6")
    assert select.verdict == "retried"
    assert "failed with EINTR (ERESTARTNOHAND to the tracer)" in select.evidence
    assert "with its whole timeout again (timeout={tv_sec=10, tv_nsec=0})" in select.evidence


def test_a_python_server_is_retried_by_cpython_at_each_line() -> None:
    result = sweep_plan(RunPlan.of_variant("fork_sigchld", Scenario(connections=CONNECTIONS)), SweepOptions(jobs=1))
    verdicts = {verdict.site.call: verdict for verdict in result.verdicts}
    assert verdicts["accept4"].verdict == verdicts["recvfrom"].verdict == "retried"
    assert verdicts["accept4"].site.where.endswith("fork_sigchld.py:59 in main")
    assert verdicts["recvfrom"].site.where == "_common.py:138 in handle_echo"
    assert "(PEP 475)" in verdicts["recvfrom"].note
    assert verdicts["wait4"].verdict == "safe" and "blocks SIGCHLD" in verdicts["wait4"].evidence
    assert not result.broken


def test_a_python_handler_that_raises_breaks_every_site_it_interrupts() -> None:
    result = _sweep([sys.executable, str(PROGRAMS / "handler_expects_a_child.py"), "{port}", "{connections}"])
    broken = {verdict.site.call: verdict for verdict in result.broken}
    assert set(broken) == {"accept4", "recvfrom"}
    assert broken["recvfrom"].site.where == "handler_expects_a_child.py:32 in serve"
    assert all("RuntimeError: SIGCHLD, but no child has ended" in verdict.evidence for verdict in broken.values())


def test_a_sweep_gives_the_same_verdicts_on_every_run_in_parallel_or_not(echo: Callable[[str], list[str]]) -> None:
    plan = RunPlan.of_command(ServerSpec(command=tuple(echo("giveup"))))
    plan = RunPlan(plan.label, plan.origin, plan.server, Scenario(connections=CONNECTIONS))
    sweeps = [sweep_plan(plan, SweepOptions(jobs=jobs)) for jobs in (1, 2, 2)]
    assert all(result.verdicts == sweeps[0].verdicts for result in sweeps)


def test_the_command_line_says_the_broken_site_and_exits_1(c_program: Callable[[str], Path], tmp_path: Path) -> None:
    command = [str(c_program("eintr_echo")), "{port}", "giveup", "{connections}"]
    done = harness_cli(
        "sweep", "--connections", "2", "--json", "-", "--html", "sweep.html", "--", *command, cwd=tmp_path
    )
    assert done.returncode == 1, done.stderr
    table, _, rest = done.stdout.partition("\n{")
    assert "1 site broken: a SIGCHLD there breaks the server" in table
    assert "  broken   read    main.*  eintr_echo+0x" in table
    whole = json.loads("{" + rest)
    assert [site["verdict"] for site in whole["sites"]] == ["broken", "retried", "retried"]
    assert whole["signal"] == "SIGCHLD" and whole["runs"] == 4
    assert '<tr class="broken"><td class="verdict">broken</td>' in (tmp_path / "sweep.html").read_text()


def test_a_server_with_no_broken_site_exits_0(c_program: Callable[[str], Path], tmp_path: Path) -> None:
    command = [str(c_program("eintr_echo")), "{port}", "restart", "{connections}"]
    done = harness_cli("sweep", "-q", "--jsonl", "sites.jsonl", "--", *command, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in (tmp_path / "sites.jsonl").read_text().splitlines()]
    assert {line["verdict"] for line in lines} == {"restarted"} and len(lines) == 3
    assert done.stderr == ""


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["--signal", "SIGKILL"], "SIGKILL cannot be caught, so it interrupts no call"),
        (["--signal", "SIGCHILD"], "unknown signal 'SIGCHILD'; did you mean 'SIGCHLD'?"),
        (["--inject", "read:error=EINTR"], "a sweep delivers its own signals; it cannot also inject"),
    ],
)
def test_a_sweep_that_cannot_be_made_is_refused_in_one_line(words: list[str], message: str, tmp_path: Path) -> None:
    done = harness_cli("sweep", "fork_sigchld", *words, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def _file(tmp_path: Path, binary: Path, excepted: str = "") -> Path:
    path = tmp_path / "giveup.expect.yaml"
    path.write_text(
        f"server:\n  command: [{str(binary)!r}, '{{port}}', giveup, '{{connections}}']\n"
        f"scenario:\n  connections: {CONNECTIONS}\n"
        "assertions:\n"
        "  - name: the parent reaps one child per connection\n"
        "    count: wait4 -> child\n"
        "    at_least: 1\n"
        "  - name: no call breaks on a SIGCHLD\n"
        "    sweep: safe\n" + excepted
    )
    return path


def test_sweep_safe_in_a_file_fails_on_the_broken_site_and_holds_once_it_is_excepted(
    c_program: Callable[[str], Path], tmp_path: Path
) -> None:
    binary = c_program("eintr_echo")
    done = harness_cli("check", str(_file(tmp_path, binary)), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "FAIL  no call breaks on a SIGCHLD  (giveup.expect.yaml:9)" in done.stdout
    assert "read in main.* at eintr_echo+0x" in done.stdout and "main.1 exited 1" in done.stdout
    done = harness_cli("check", str(_file(tmp_path, binary, "    except: [read in main.*]\n")), cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert "PASS  no call breaks on a SIGCHLD" in done.stdout


def test_at_all_delivers_once_each_time_a_task_sleeps_at_the_site_anew(echo: Callable[[str], list[str]]) -> None:
    result = _sweep(echo("retry"), at="all")
    deliveries = {verdict.site.call: verdict.deliveries for verdict in result.verdicts}
    # Each connection's accept; each child's two reads (its request, then the end of its stream); the last wait:
    # never again into the call a task retries after the signal, nor at a call of the handler's.
    assert deliveries == {"accept": CONNECTIONS, "read": 2 * CONNECTIONS, "wait4": 1}
    assert set(_verdicts(result).values()) == {"retried"}


#: What a SIGCHLD at each place a bundled variant sleeps comes to: the lesson each teaches, site by site.
LESSONS = {
    "fork_sigchld": {("accept4", "main"): "retried", ("recvfrom", "main.*"): "retried", ("wait4", "main"): "safe"},
    "fork_sigchld_restart": {
        ("accept4", "main"): "restarted",
        ("recvfrom", "main.*"): "restarted",
        ("wait4", "main"): "safe",
    },
    "fork_sigchld_raises": {
        ("accept4", "main"): "retried",
        ("recvfrom", "main.*"): "retried",
        ("wait4", "main"): "safe",
    },
    "fork_sig_ign": {("accept4", "main"): "safe", ("recvfrom", "main.*"): "safe", ("wait4", "main"): "safe"},
    "fork_no_reap": {("accept4", "main"): "safe", ("recvfrom", "main.*"): "safe"},
    "fork_poll_reaper": {("poll", "main"): "safe", ("recvfrom", "main.*"): "safe", ("wait4", "main"): "safe"},
    "fork_leaky": {("accept4", "main"): "retried", ("recvfrom", "main.*"): "retried", ("wait4", "main"): "safe"},
    "fork_threads": {
        ("accept4", "main"): "retried",
        ("futex", "main.*"): "retried",
        ("futex", "main.*/t*"): "retried",
        ("recvfrom", "main.*/t*"): "retried",
        ("wait4", "main"): "safe",
    },
    "rpc_fork": {("accept4", "main"): "retried", ("recvfrom", "main.*"): "retried", ("wait4", "main"): "safe"},
    "daemon_double_fork": {
        ("accept4", "main.*.*"): "retried",
        ("recvfrom", "main.*.*.*"): "retried",
        ("wait4", "main.*.*"): "safe",
    },
    "c/echo_server": {("accept", "main"): "retried", ("read", "main.*"): "broken", ("wait4", "main"): "safe"},
    "c/echo_server_restart": {
        ("accept", "main"): "restarted",
        ("read", "main.*"): "restarted",
        ("wait4", "main"): "safe",
    },
}


@pytest.mark.parametrize("variant", sorted(LESSONS))
def test_the_sweep_of_each_bundled_variant_gives_the_verdicts_its_lesson_teaches(variant: str) -> None:
    result = sweep_plan(RunPlan.of_variant(variant), SweepOptions(jobs=1))
    assert _verdicts(result) == LESSONS[variant]
    # Where a site was not signalled, the sweep says why: the process ignores SIGCHLD, or blocks it there.
    for verdict in result.verdicts:
        if verdict.verdict == "safe":
            assert verdict.deliveries == 0
            assert "SIGCHLD while it sleeps there, so no signal was sent" in verdict.evidence


def test_every_bundled_variant_has_its_sweep_lesson() -> None:
    from harness.model.variants import list_variants

    assert sorted(LESSONS) == sorted(list_variants())


def test_cpythons_http_server_is_broken_by_a_sigint_wherever_it_sleeps() -> None:
    """A server written elsewhere: CPython's default SIGINT handler raises KeyboardInterrupt, and serve_forever ends."""
    server = ServerSpec(
        command=(sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "{port}"),
        protocol="http",
        stop=Stop("SIGTERM"),
    )
    plan = RunPlan.of_command(server)
    plan = RunPlan(plan.label, plan.origin, plan.server, Scenario(connections=CONNECTIONS))
    result = sweep_plan(plan, SweepOptions(signal="SIGINT", jobs=2))
    assert {(verdict.site.call, verdict.site.family) for verdict in result.broken} == {
        ("poll", "main"),
        ("recvfrom", "main/t*"),
    }
    for verdict in result.broken:
        assert "Keyboard interrupt received, exiting." in verdict.evidence
        assert "RemoteDisconnected" in verdict.evidence  # the same end of stream on every run, never a reset


def test_a_thread_that_takes_the_signal_its_main_thread_blocks_is_signalled_and_broken(
    c_program: Callable[[str], Path],
) -> None:
    """The sleeping thread's own mask decides, not the main thread's: here only the worker thread takes SIGCHLD.

    Free mode: an iterative server whose accepting thread is not its main
    one; and the server exits right after its last answer, which the relay
    must still pass on.
    """
    plan = RunPlan.of_command(ServerSpec(command=(str(c_program("thread_takes_sigchld")), "{port}", "{connections}")))
    plan = RunPlan(plan.label, plan.origin, plan.server, Scenario(connections=CONNECTIONS, mode="free"))
    result = sweep_plan(plan, SweepOptions(jobs=1))
    verdicts = _verdicts(result)
    assert verdicts[("read", "main/t*")] == "broken"
    assert verdicts[("accept", "main/t*")] == "retried"
    main_sites = [verdict for verdict in result.verdicts if verdict.site.family == "main"]
    assert main_sites and all("main blocks SIGCHLD while it sleeps there" in v.evidence for v in main_sites)
