"""The ``golden:`` assertion: the run's normalized story equals a recorded golden trace.

Normalizing and diffing live in :mod:`harness.analysis.golden`; this module only
ties them to the matcher's verdicts (a :class:`~harness.analysis.mismatch.Mismatch`
whose notes are the role-by-role diff) and to deliberate re-recording.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from harness.analysis.golden import (
    GoldenFileError,
    diff_stories,
    first_call_seq,
    golden_from_trace,
    normalize,
    read_golden,
    write_golden,
)
from harness.analysis.match_context import MatchContext
from harness.analysis.mismatch import Mismatch
from harness.model.expectations import ExpectationFile, GoldenCheck, ServerSpec
from harness.model.files import inside
from harness.model.trace import Trace

#: How many diff lines a failure shows; the whole diff is one ``harness diff`` away.
_SHOWN = 40


def record_command(golden: Path, expectation: Path | None) -> str:
    """The command that writes a golden file for an expectation file: it runs that file's server as a check does.

    Naming the expectation file (not its server) keeps the hint right for a
    command of the user's own, and for the file's scenario and injections.
    """
    source = str(expectation) if expectation is not None else "EXPECTATION.expect.yaml"
    return f"harness record {source} -o {golden}"


def check_golden(check: GoldenCheck, ctx: MatchContext, *, expectation: Path | None = None) -> list[Mismatch]:
    """Compare the run with the golden file; one mismatch holding the diff when they differ.

    ``expectation`` is the file the assertion is written in, named by the
    hint to record a missing golden file.
    """
    fix = (f"record it with: {record_command(check.path, expectation)}", "or with pytest --harness-record-golden")
    if not check.path.exists() and not check.path.is_symlink():
        return [Mismatch(f"cannot use the golden trace: {check.path}: no such golden file", kind="golden", notes=fix)]
    try:
        golden = read_golden(check.path)
    except GoldenFileError as error:
        return [Mismatch(f"cannot use the golden trace: {error}", kind="golden", notes=fix)]
    start = first_call_seq(ctx.trace, golden.start_after) if golden.start_after else None
    story = normalize(ctx.trace, start_seq=start or 0)
    diff = diff_stories(golden.roles, story, a_label=f"golden {check.path.name}", b_label="this run")
    if not diff:
        return []
    shown = diff[:_SHOWN]
    more = (f"... and {len(diff) - _SHOWN} more lines ('harness diff' shows them all)",) if len(diff) > _SHOWN else ()
    return [
        Mismatch(
            f"the run's story differs from the golden trace {check.path}",
            kind="golden",
            notes=(
                *shown,
                *more,
                f"re-record on purpose with: {record_command(check.path, expectation)}, "
                "or pytest --harness-record-golden",
            ),
        )
    ]


def record_goldens(expectation: ExpectationFile, server: ServerSpec, trace: Trace) -> list[GoldenCheck]:
    """Rewrite the golden file of every ``golden:`` assertion from this run; returns what was written.

    Only files inside the expectation file's directory tree are rewritten: an
    expectation file from elsewhere must not be able to make a recording run
    overwrite any file its user may write.  Every path is checked before any
    is written, and each write walks from that directory without following a
    link (:func:`harness.model.files.replace_file`), so a link flipped
    between the check and the write cannot carry it outside.  ``harness
    record -o PATH`` writes anywhere, because there the user names the path.
    """
    checks = [assertion.check for assertion in expectation.assertions if isinstance(assertion.check, GoldenCheck)]
    home = expectation.path.parent
    for check in checks:
        if inside(check.path, home) is None:
            raise GoldenFileError(
                f"{check.path}: outside {home}, so not rewritten from {expectation.path.name}; "
                f"record it with: {record_command(check.path, expectation.path)}"
            )
    for check in checks:
        golden = golden_from_trace(trace, server=str(server), scenario=asdict(expectation.scenario))
        write_golden(check.path, golden, within=home)
    return checks
