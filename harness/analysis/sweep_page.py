"""A sweep's findings as one self-contained HTML page (``harness sweep --html``), beside the trace report.

The same rows as the text table, with the verdict coloured; the style is a
file of the package (``report_page/sweep.css``), as the report's is.
"""

from __future__ import annotations

from html import escape
from importlib import resources

from harness.analysis.sweep_table import sweep_heading
from harness.model.sweep import SiteVerdict, SweepResult


def _row(verdict: SiteVerdict) -> str:
    notes = [verdict.evidence, verdict.note]
    if verdict.sa_restart_fixes is not None:
        fixed = "SA_RESTART alone fixes it" if verdict.sa_restart_fixes else "SA_RESTART alone does not fix it"
        notes.append(f"{fixed}; run again with SA_RESTART: {verdict.sa_restart_evidence}")
    evidence = "".join(f"<p>{escape(note)}</p>" for note in notes if note)
    kind = verdict.verdict.replace(" ", "-")
    return (
        f'<tr class="{kind}"><td class="verdict">{escape(verdict.verdict)}</td>'
        f"<td><code>{escape(verdict.site.call)}</code></td><td><code>{escape(verdict.site.family)}</code></td>"
        f"<td><code>{escape(verdict.site.where)}</code></td><td>{evidence}</td></tr>"
    )


def render_sweep_page(result: SweepResult) -> str:
    """The page: heading, the table of sites and what the signal did at each."""
    style = (resources.files("harness.analysis") / "report_page" / "sweep.css").read_text(encoding="utf-8")
    rows = "".join(_row(verdict) for verdict in result.verdicts)
    if not rows:
        rows = '<tr><td colspan="5">No task of the server ever slept while the run stood still.</td></tr>'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>harness sweep: {escape(result.name)}</title><style>{style}</style></head>\n"
        f"<body><h1>harness sweep: {escape(result.name)}</h1>"
        f'<p id="summary">{escape(sweep_heading(result))}.</p>'
        '<table id="sites"><thead><tr><th>verdict</th><th>call</th><th>role</th><th>where</th><th>evidence</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></body></html>\n"
    )
