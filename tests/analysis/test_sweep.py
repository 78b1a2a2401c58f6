"""A sweep's verdict on a site, read from its run against the baseline's process endings."""

from __future__ import annotations

from support.stories import Story

from harness.analysis.sweep import SiteRun, endings, site_verdict
from harness.model.sweep import Site

SITE = Site("accept", "main", "server+0x10 (main)")


def _ended(code: int | None, signal: str | None = None) -> Story:
    story = Story()
    story.exit("main", code if code is not None else 0, signal=signal)
    return story


def test_after_the_stop_signal_exit_128_plus_it_and_death_by_it_are_the_same_end() -> None:
    baseline = endings(_ended(None, "SIGTERM").trace())
    run = SiteRun(_ended(143).trace(), None, delivered_to=[100], stop_signal="SIGTERM")
    assert site_verdict(SITE, run, baseline).verdict != "broken"


def test_a_process_that_ends_otherwise_than_in_the_baseline_is_a_broken_site() -> None:
    baseline = endings(_ended(0).trace())
    verdict = site_verdict(SITE, SiteRun(_ended(1).trace(), None, delivered_to=[100]), baseline)
    assert verdict.verdict == "broken"
    assert verdict.evidence == "main exited 1 (in the run without the signal it exited 0)"
    # Without a stop signal, 143 is just a status.
    baseline = endings(_ended(None, "SIGTERM").trace())
    assert site_verdict(SITE, SiteRun(_ended(143).trace(), None, delivered_to=[100]), baseline).verdict == "broken"


def test_a_site_where_no_signal_was_delivered_says_why_or_that_it_was_not_reached() -> None:
    baseline = endings(_ended(0).trace())
    uncaught = SiteRun(_ended(0).trace(), None, delivered_to=[], uncaught="main does not catch SIGCHLD ...")
    assert (site_verdict(SITE, uncaught, baseline).verdict, site_verdict(SITE, uncaught, baseline).evidence) == (
        "safe",
        "main does not catch SIGCHLD ...",
    )
    assert site_verdict(SITE, SiteRun(_ended(0).trace(), None, delivered_to=[]), baseline).verdict == "not reached"
