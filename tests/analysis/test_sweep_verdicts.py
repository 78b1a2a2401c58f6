"""A sweep's verdict on a site, read from its run against the baseline's process endings."""

from __future__ import annotations

from support.stories import Story

from harness.analysis.sweep import SiteRun, endings, site_verdict
from harness.model.sweep import Site

SITE = Site("accept", "main", "server+0x10 (main)")


def _ended(code: int | None, signal: str | None = None, *, sent_by: str | None = None) -> Story:
    """Main forks main.1, which ends so; with ``sent_by``, the killing signal came from that role."""
    story = Story()
    story.spawn("main", "main.1")
    if signal is not None and sent_by is not None:
        story.signal("main.1", signal, si_pid=story.pids[sent_by])
    story.exit("main.1", code if code is not None else 0, signal=signal)
    story.exit("main", 0)
    return story


def test_two_clean_ends_are_the_same_end_whichever_a_run_comes_to() -> None:
    # exit 0, or killed by a signal the server itself sent (socat kills its cat as cat exits), or after the
    # stop signal the status a shell gives it: a race of the server's own, not the sweep's doing.
    baseline = endings(_ended(0).trace())
    for run in (_ended(None, "SIGTERM", sent_by="main"), _ended(143)):
        verdict = site_verdict(SITE, SiteRun(run.trace(), None, delivered_to=[100], stop_signal="SIGTERM"), baseline)
        assert verdict.verdict != "broken", verdict.evidence


def test_a_process_that_ends_otherwise_than_in_the_baseline_is_a_broken_site() -> None:
    baseline = endings(_ended(0).trace())
    cases = {
        _ended(1): "main.1 exited 1 (in the run without the signal it exited 0)",
        _ended(None, "SIGSEGV"): "main.1 was killed by SIGSEGV (in the run without the signal it exited 0)",
        _ended(143): "main.1 exited 143 (in the run without the signal it exited 0)",  # no stop signal: a status
    }
    for run, evidence in cases.items():
        verdict = site_verdict(SITE, SiteRun(run.trace(), None, delivered_to=[100]), baseline)
        assert (verdict.verdict, verdict.evidence) == ("broken", evidence)


def test_a_site_where_no_signal_was_delivered_says_why_or_that_it_was_not_reached() -> None:
    baseline = endings(_ended(0).trace())
    uncaught = SiteRun(_ended(0).trace(), None, delivered_to=[], uncaught="main does not catch SIGCHLD ...")
    assert (site_verdict(SITE, uncaught, baseline).verdict, site_verdict(SITE, uncaught, baseline).evidence) == (
        "safe",
        "main does not catch SIGCHLD ...",
    )
    assert site_verdict(SITE, SiteRun(_ended(0).trace(), None, delivered_to=[]), baseline).verdict == "not reached"
