"""The EINTR sweep's values: a blocking call site, what a signal there did, and the sweep's findings.

A sweep (``harness sweep``) first runs a server as usual and notes every
**site** where one of its tasks slept in a call while the run stood still:
the call, the role family (``main``, ``main.*`` for every child, ``main/t*``
for every thread) and the code that made the call.  It then runs the server
again once per site, delivering a signal while a task of that family sleeps
in that call there, and says what came of it (:data:`Verdict`).  These
values are what the runs produce and what the analysis, the command line and
the expectation language read; they hold no pid, so two sweeps compare.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

#: What a signal delivered in a blocked call came to:
#:
#: * ``broken``: the run failed where the baseline passed (a client failed, a task exited otherwise,
#:   the server stopped serving, an assertion failed);
#: * ``restarted``: the kernel entered the call again by itself (SA_RESTART, or a restart code
#:   no handler sees), so the program never saw the signal in that call;
#: * ``retried``: the program saw EINTR and made the same call again from the same code (its own
#:   loop, or CPython's PEP 475 retry), and the run passed;
#: * ``safe``: the program saw EINTR, did something else, and the run still passed; or the signal
#:   is not caught there, so it interrupts nothing (see :class:`SiteVerdict.note`);
#: * ``not reached``: the run never slept at that site again, so no signal was delivered there.
Verdict = Literal["broken", "restarted", "retried", "safe", "not reached"]

#: The order a sweep's table lists verdicts in: what needs fixing first.
VERDICT_ORDER: tuple[Verdict, ...] = ("broken", "not reached", "safe", "retried", "restarted")

#: The signal a sweep delivers unless told otherwise: fork servers handle it, and its default action kills nothing.
DEFAULT_SIGNAL = "SIGCHLD"

#: How often a site is interrupted in its run: at the first time a task sleeps there, or every time.
At = Literal["first", "all"]


#: A role family as a sweep names it: main, main.*, main.2, main.*/t*, ...
_FAMILY = re.compile(r"main(?:\.(?:\*|\d+))*(?:/t(?:\*|\d+))?")


def role_family(role: str) -> str:
    """The family a role belongs to: its numbers made ``*`` (``main.2`` → ``main.*``, ``main/t3`` → ``main/t*``).

    A fork server makes one child per connection; its children's calls are
    one site, whichever connection made them.
    """
    return re.sub(r"(?<=\.)\d+|(?<=/t)\d+", "*", role)


@dataclass(frozen=True, slots=True, order=True)
class Site:
    """A place where a server's task sleeps in a call: which call, in which tasks, made by which code."""

    call: str
    """The call the task slept in (``read``, ``accept4``, ``wait4``...)."""
    family: str
    """The role family (:func:`role_family`): ``main``, ``main.*``, ``main/t*``."""
    where: str
    """The code that made the call: ``server.py:42 in handle`` for CPython, ``echo_server+0x1a2b (serve)`` for
    a binary (found by scanning its stack, see :mod:`harness.running.sweep.sites`), ``?`` when unknown."""

    def __str__(self) -> str:
        return f"{self.call} in {self.family} at {self.where}"

    def as_json(self) -> dict[str, str]:
        """The JSON form: ``{"call", "family", "where"}``."""
        return {"call": self.call, "family": self.family, "where": self.where}


@dataclass(frozen=True, slots=True)
class SiteVerdict:
    """What a signal at one site did, with the one line of evidence that shows it."""

    site: Site
    verdict: Verdict
    evidence: str
    """The event or the failure the verdict rests on, as a person reads it."""
    deliveries: int = 0
    """How many signals the harness delivered at the site in that run."""
    note: str = ""
    """What qualifies the verdict (the signal is not caught there; PEP 475 retried it)."""
    sa_restart_fixes: bool | None = None
    """With ``--sa-restart``, for a broken site: whether adding SA_RESTART to every handler install made its run
    pass; None when not tried."""
    sa_restart_evidence: str = ""
    """What the SA_RESTART run showed."""

    def as_json(self) -> dict[str, object]:
        """The JSON form of one site's verdict (``harness sweep --json``)."""
        value: dict[str, object] = {
            **self.site.as_json(),
            "verdict": self.verdict,
            "evidence": self.evidence,
            "deliveries": self.deliveries,
        }
        if self.note:
            value["note"] = self.note
        if self.sa_restart_fixes is not None:
            value["sa_restart_fixes"] = self.sa_restart_fixes
            value["sa_restart_evidence"] = self.sa_restart_evidence
        return value


@dataclass(frozen=True, slots=True)
class SweepResult:
    """A whole sweep: the sites of the baseline run and each one's verdict, in :data:`VERDICT_ORDER`."""

    name: str
    """What was swept (the variant, the file, the command line)."""
    signal: str
    at: At
    verdicts: tuple[SiteVerdict, ...]
    runs: int
    """How many runs the sweep made, the baseline included."""
    seconds: float
    """The sweep's wall time."""

    @property
    def broken(self) -> tuple[SiteVerdict, ...]:
        """The sites where the signal broke the run."""
        return tuple(verdict for verdict in self.verdicts if verdict.verdict == "broken")

    def as_json(self) -> dict[str, object]:
        """The JSON form of the whole sweep (``harness sweep --json``)."""
        return {
            "name": self.name,
            "signal": self.signal,
            "at": self.at,
            "runs": self.runs,
            "seconds": round(self.seconds, 3),
            "sites": [verdict.as_json() for verdict in self.verdicts],
        }


@dataclass(frozen=True, slots=True)
class SiteSelector:
    """A site an expectation file's ``except:`` accepts as broken: ``read in main.*``, ``... at echo``."""

    call: str
    family: str
    where: str | None = None
    """A part of the site's code place (``handle_echo``, ``server.c``); None: any."""

    @classmethod
    def parse(cls, text: str) -> SiteSelector:
        """``CALL in FAMILY`` or ``CALL in FAMILY at WHERE``; ValueError says how to write it."""
        call, in_, rest = text.strip().partition(" in ")
        family, at, where = rest.partition(" at ")
        if not in_ or not call.strip() or not _FAMILY.fullmatch(family.strip()) or (at and not where.strip()):
            raise ValueError(
                f"{text!r} is not a site: write CALL in ROLE, or CALL in ROLE at PLACE, with ROLE a role family "
                "(e.g. read in main.*, recvfrom in main.* at handle_echo), as harness sweep's table shows them"
            )
        return cls(call.strip(), family.strip(), where.strip() if at else None)

    def matches(self, site: Site) -> bool:
        """Whether the site is this one: the same call and family, and the place holds ``where``."""
        return (
            site.call == self.call and site.family == self.family and (self.where is None or self.where in site.where)
        )

    def __str__(self) -> str:
        return f"{self.call} in {self.family}" + (f" at {self.where}" if self.where else "")


@dataclass(frozen=True, slots=True)
class SweepCheck:
    """An expectation file's ``sweep: safe``: a signal at any site where the server sleeps breaks nothing.

    Sites named in ``excepted`` may break; every other site must come out
    restarted, retried or safe.  Judged by runs of the server (``harness
    check``, the pytest plugin), never from one trace.
    """

    signal: str = DEFAULT_SIGNAL
    excepted: tuple[SiteSelector, ...] = ()

    def judge(self, result: SweepResult) -> list[str]:
        """What breaks the promise: each broken site not excepted, as a sentence with its evidence."""
        return [
            f"{verdict.site}: broken: {verdict.evidence}"
            for verdict in result.broken
            if not any(selector.matches(verdict.site) for selector in self.excepted)
        ]


def in_verdict_order(verdicts: list[SiteVerdict]) -> tuple[SiteVerdict, ...]:
    """The verdicts as a table lists them: broken first, then by site."""
    return tuple(sorted(verdicts, key=lambda verdict: (VERDICT_ORDER.index(verdict.verdict), verdict.site)))
