"""A sweep's findings as a person reads them: one row per site, the broken ones first, each with its evidence.

The row names the verdict, the call, the role family and the code that made
the call; the line under it is the one piece of evidence the verdict rests
on, and, with ``--sa-restart``, what the run with SA_RESTART showed.
"""

from __future__ import annotations

from harness.model.sweep import SiteVerdict, SweepResult

_HEADINGS = ("VERDICT", "CALL", "ROLE", "WHERE")


def _at_text(result: SweepResult) -> str:
    return "at the first sleep" if result.at == "first" else "at every sleep"


def sweep_heading(result: SweepResult) -> str:
    """The line above the table: what was swept, with which signal, how many runs and how long."""
    sites = len(result.verdicts)
    return (
        f"sweep of {result.name}: {result.signal} delivered {_at_text(result)} of each of {sites} "
        f"site{'s' if sites != 1 else ''}; {result.runs} runs in {result.seconds:.1f} s"
    )


def sweep_table(result: SweepResult) -> str:
    """The whole text: heading, table, and the sentence that sums it up."""
    rows = [
        (verdict.verdict, verdict.site.call, verdict.site.family, verdict.site.where) for verdict in result.verdicts
    ]
    widths = [max(len(row[column]) for row in [_HEADINGS, *rows]) for column in range(len(_HEADINGS) - 1)]
    lines = [sweep_heading(result), "", _row(_HEADINGS, widths)]
    for verdict, row in zip(result.verdicts, rows, strict=True):
        lines.append(_row(row, widths))
        lines.extend(f"      {line}" for line in _evidence_lines(verdict))
    lines.append("")
    lines.append(_conclusion(result))
    return "\n".join(lines)


def _row(cells: tuple[str, ...], widths: list[int]) -> str:
    """Cells padded to their column's width; the last one as long as it is."""
    padded = [cell.ljust(width) for cell, width in zip(cells[:-1], widths, strict=True)]
    return "  " + "  ".join([*padded, cells[-1]]).rstrip()


def _evidence_lines(verdict: SiteVerdict) -> list[str]:
    lines = [verdict.evidence]
    if verdict.note:
        lines.append(verdict.note)
    if verdict.sa_restart_fixes is not None:
        fixed = "SA_RESTART alone fixes it" if verdict.sa_restart_fixes else "SA_RESTART alone does not fix it"
        lines.append(f"{fixed}; run again with SA_RESTART: {verdict.sa_restart_evidence}")
    return lines


def _conclusion(result: SweepResult) -> str:
    broken = len(result.broken)
    if not result.verdicts:
        return "no site: no task of the server ever slept while the run stood still"
    if broken:
        return f"{broken} site{'s' if broken != 1 else ''} broken: a {result.signal} there breaks the server"
    unreached = sum(verdict.verdict == "not reached" for verdict in result.verdicts)
    reached = f" ({unreached} not reached again)" if unreached else ""
    return f"no site broken: a {result.signal} at any of them leaves the server serving{reached}"
