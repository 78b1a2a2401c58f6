"""Fault and signal injection: make a chosen call fail, or a signal arrive, exactly when asked.

A spec reads like strace's ``-e inject=``, with a role added::

    accept4:error=EINTR:when=2            the 2nd accept4 of any task fails with EINTR
    accept:error=EINTR:when=2+:role=main  main's accept, from the 2nd on
    accept4:signal=SIGUSR1:role=main      SIGUSR1 sent to main each time it enters accept4
    clone3:retval=42:when=1               the first clone3 succeeds with 42, and makes no child

``error=`` skips the call (the kernel never runs it) and makes it return the
error; ``retval=`` skips it and makes it return that value, a success the
kernel never made (strace's ``retval=``); ``signal=`` sends the signal to the task as it enters the call, so a
blocking call is interrupted the way a real signal would interrupt it.
``when=N`` counts the task role's calls of that name from 1; ``N+`` means
from the Nth on; without ``when`` every call is hit.  The tracer applies
specs (:mod:`harness.running.tracer`); events it caused are marked ``injected``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from harness.model import kernel
from harness.model.errors import UsageError
from harness.model.hints import closest

_KEYS = ("error", "retval", "signal", "when", "role")
#: The largest value retval= may give: a result is a long, and one above -4096 cast to unsigned would
#: read as an error (strace's limit too, src/filter_qualify.c).
_MAX_RETVAL = (1 << 63) - 1


class InjectionError(UsageError):
    """A spec that cannot be applied; the message names the part at fault and the fix."""


@dataclass(frozen=True, slots=True)
class Injection:
    """One injection: which call, in which role, which occurrences, and what happens."""

    call: str
    error: str | None = None
    signal: str | None = None
    retval: int | None = None
    """The value a skipped call returns (strace's ``retval=``): a success the kernel never made."""
    first: int = 1
    """The first occurrence hit (counted from 1 per role)."""
    every_after: bool = False
    """Hit every occurrence from ``first`` on, not only ``first``; with no ``when``, every call."""
    role: str | None = None

    def hits(self, occurrence: int) -> bool:
        """Whether the ``occurrence``-th call (from 1) of the role is hit."""
        return occurrence >= self.first if self.every_after else occurrence == self.first

    def __str__(self) -> str:
        what = (
            f"error={self.error}"
            if self.error
            else f"retval={self.retval}"
            if self.retval is not None
            else f"signal={self.signal}"
        )
        parts = [self.call, what]
        if (self.first, self.every_after) != (1, True):
            parts.append(f"when={self.first}{'+' if self.every_after else ''}")
        if self.role:
            parts.append(f"role={self.role}")
        return ":".join(parts)


def _nearest(name: str, choices: Collection[str]) -> str:
    close = closest(name, choices)
    return f"; did you mean {close[0]!r}?" if close else ""


def parse_injection(spec: str, *, syscalls: Collection[str] | None = None) -> Injection:
    """Read one spec; raise :class:`InjectionError` naming what is wrong."""
    if syscalls is None:
        from harness.model.syscalls import known_syscalls

        syscalls = known_syscalls()
    call, *options = spec.strip().split(":")
    if call not in syscalls:
        raise InjectionError(f"inject {spec!r}: unknown syscall {call!r}{_nearest(call, syscalls)}")
    values: dict[str, str] = {}
    for option in options:
        key, equals, value = option.partition("=")
        if not equals or key not in _KEYS:
            raise InjectionError(
                f"inject {spec!r}: {option!r} is not KEY=VALUE with KEY one of {', '.join(_KEYS)}{_nearest(key, _KEYS)}"
            )
        if key in values:
            raise InjectionError(f"inject {spec!r}: {key} is given twice")
        values[key] = value
    error, signal, retval_text = values.get("error"), values.get("signal"), values.get("retval")
    if sum(value is not None for value in (error, signal, retval_text)) != 1:
        raise InjectionError(
            f"inject {spec!r}: say what happens with exactly one of error=ERRNO, retval=N or signal=SIGNAL"
        )
    retval = None
    if retval_text is not None:
        try:
            retval = int(retval_text)
        except ValueError:
            retval = -1
        if not 0 <= retval <= _MAX_RETVAL:
            raise InjectionError(
                f"inject {spec!r}: retval={retval_text} must be a whole number from 0 (to fail, say error=ERRNO)"
            )
    if error is not None and (error not in kernel.ERRNO_NUMBERS or kernel.is_restart_code(error)):
        known = [name for name in kernel.ERRNO_NUMBERS if not kernel.is_restart_code(name)]
        raise InjectionError(f"inject {spec!r}: unknown errno {error!r}{_nearest(error, known)}")
    if signal is not None and signal not in kernel.SIGNAL_NUMBERS:
        raise InjectionError(f"inject {spec!r}: unknown signal {signal!r}{_nearest(signal, kernel.SIGNAL_NUMBERS)}")
    first, every_after = 1, True
    if "when" in values:
        when = values["when"]
        every_after = when.endswith("+")
        try:
            first = int(when.removesuffix("+"))
        except ValueError:
            first = 0
        if first < 1:
            raise InjectionError(f"inject {spec!r}: when={when} must be N or N+ with N >= 1 (e.g. when=2, when=3+)")
    return Injection(call, error, signal, retval, first, every_after, values.get("role"))
