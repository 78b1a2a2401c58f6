"""What ``explain`` asserts about a trace: typed claims, each with the events it rests on, and its sentence.

An explanation that reads well can still be wrong: "the descriptor table
grows" of a Python server whose descriptor is closed when ``conn`` is
rebound, "never returned" of a call whose handler went on to exit.  So
``explain`` does not write prose: it makes claims, each a frozen value that
names the events it rests on (:attr:`Claim.evidence`), and renders the text
from them.  :mod:`harness.analysis.verify` checks every claim against the
trace again, from the raw events, before any is shown.

A claim is one of three sorts:

* an **observation**: an event shows it (a call returned -EINTR at #282, a
  wait returned the child's pid at #310);
* an **absence**: no event of a kind shows in a span (no wait of the parent
  ever returned the pid; no ``rt_sigreturn`` between the signal and the exit);
* an **inference**, which says so in its own words, and whose premises are
  checked (the process runs CPython and its calls carry no frames, so two
  causes fit a retry).

Each claim renders one sentence, or one clause that its finding joins; the
lessons (general knowledge, no claim about this trace) stay in
:mod:`harness.analysis.explain_processes`, with the findings they fit.

The kinds live beside the others about the same thing (an interrupted call,
the retry after an EINTR, a child's end, a descriptor held), on the base in
:mod:`harness.analysis.claims.claim`; this package names them all, so that
``explain``, the verifier and the tests refer to any claim as
``claims.ReapedBy``, wherever it is defined.
"""

from __future__ import annotations

from harness.analysis.claims.children import (
    AutoReaped,
    ChildEnded,
    DefaultDoesNotReap,
    HandlerDidNotReap,
    KilledBy,
    NeverReaped,
    OutlivedParent,
    ReapedBy,
    ReapedOnParentExit,
    ServedOnWithZombie,
)
from harness.analysis.claims.claim import Claim
from harness.analysis.claims.held_descriptors import (
    ClosedLater,
    ConnectionKept,
    DescriptorsGrow,
    ListenerClosedByExec,
    ListenerKept,
)
from harness.analysis.claims.interrupted import (
    EINTR_READER,
    CallInterrupted,
    DispositionInForce,
    EintrReader,
    EndedInCall,
    ExitedFromHandler,
    FateNotShown,
    KilledInCall,
    NoDelivery,
    OnlyUnderPtrace,
    RestartedBySigreturn,
    RestartedUnseen,
    RestartedWithoutHandler,
    ResumedByRestartSyscall,
    ReturnedEintr,
    RuleDisagrees,
    SenderKind,
    SignalDelivered,
    UnnamedCallInterrupted,
    UntracedCallInterrupted,
)
from harness.analysis.claims.retried import (
    CalledAgain,
    HandlesEintrItself,
    NotCalledAgain,
    PythonHandlerRan,
    RetriedByLibrary,
    RetriedByOwnCode,
    RetriedFrom,
    RetryCauseNotShown,
    TwoRetryCausesFit,
)

__all__ = [
    "EINTR_READER",
    "AutoReaped",
    "CallInterrupted",
    "CalledAgain",
    "ChildEnded",
    "Claim",
    "ClosedLater",
    "ConnectionKept",
    "DefaultDoesNotReap",
    "DescriptorsGrow",
    "DispositionInForce",
    "EintrReader",
    "EndedInCall",
    "ExitedFromHandler",
    "FateNotShown",
    "HandlerDidNotReap",
    "HandlesEintrItself",
    "KilledBy",
    "KilledInCall",
    "ListenerClosedByExec",
    "ListenerKept",
    "NeverReaped",
    "NoDelivery",
    "NotCalledAgain",
    "OnlyUnderPtrace",
    "OutlivedParent",
    "PythonHandlerRan",
    "ReapedBy",
    "ReapedOnParentExit",
    "RestartedBySigreturn",
    "RestartedUnseen",
    "RestartedWithoutHandler",
    "ResumedByRestartSyscall",
    "RetriedByLibrary",
    "RetriedByOwnCode",
    "RetriedFrom",
    "RetryCauseNotShown",
    "ReturnedEintr",
    "RuleDisagrees",
    "SenderKind",
    "ServedOnWithZombie",
    "SignalDelivered",
    "TwoRetryCausesFit",
    "UnnamedCallInterrupted",
    "UntracedCallInterrupted",
]
