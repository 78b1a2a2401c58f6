"""The ptrace-free tests run once, inside the filter that forbids ptrace, when the whole proof is selected.

``tests/test_markers.py`` proves the ``ptrace`` marker exact by running every
test *not* marked ``ptrace`` in child pytest sessions whose seccomp filter
makes ``ptrace`` fail with EPERM.  Those same tests would otherwise run a
second time in the session itself, for no new verdict: a test that passes
where ptrace is forbidden passes where it is allowed (it never traces).  So
where all the shards of that proof are selected and can run (pyseccomp loads
libseccomp), the session deselects the tests they cover, and each runs once.

Anything less runs them directly: ``pytest tests/model``, ``-k`` that leaves
out a shard, or ``--deselect tests/test_markers.py`` to see each of them as
an item of its own.  The hook runs last, after ``-k`` and ``-m`` have
deselected, so that only shards which will really run count.
"""

from __future__ import annotations

from pathlib import Path

import pytest

#: The parts of the ptrace-free run, as pytest arguments: pytest-xdist spreads them over its workers.
#: The last part is every other test path, so that none is left out.
SHARDS = {
    "model and analysis": ("tests/model", "tests/analysis"),
    "faces and running": ("tests/faces", "tests/running"),
    "the rest": tuple(f"--ignore={path}" for path in ("tests/model", "tests/analysis", "tests/faces", "tests/running")),
}
#: The test in ``tests/test_markers.py`` that runs a shard.
SHARD_TEST = "test_the_tests_not_marked_ptrace_pass_where_ptrace_is_forbidden"
MARKERS_FILE = Path(__file__).resolve().parent.parent / "test_markers.py"


def ptrace_can_be_forbidden() -> bool:
    """Whether pyseccomp loads here (it needs libseccomp.so.2), so that the shards can run."""
    try:
        import pyseccomp  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the tests the shards run, if every shard is selected and can run."""
    shards = {item.name for item in items if getattr(item, "originalname", None) == SHARD_TEST}
    if len(shards) < len(SHARDS) or not ptrace_can_be_forbidden():
        return
    covered = [item for item in items if item.get_closest_marker("ptrace") is None and item.path != MARKERS_FILE]
    if covered:
        run_inside = set(covered)
        items[:] = [item for item in items if item not in run_inside]
        config.hook.pytest_deselected(items=covered)


#: The user property a shard records: its own pytest's closing counts.
SHARD_COUNTS = "ptrace-free tests"


def pytest_report_header(config: pytest.Config) -> str:
    """Say where the ptrace-free tests went: pytest-xdist's summary counts neither them nor their deselection."""
    return (
        f"ptrace-free tests: run once, inside the {len(SHARDS)} seccomp shards of tests/test_markers.py when all "
        "are selected (--deselect tests/test_markers.py runs them as items of their own)"
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What each shard's own pytest counted, under the session's summary, which counts each shard as one."""
    counts = [
        str(value)
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"  # the phases' reports all carry the test's properties
        for name, value in report.user_properties
        if name == SHARD_COUNTS
    ]
    for line in sorted(counts):
        terminalreporter.write_line(f"{SHARD_COUNTS}, inside the shard {line}")
