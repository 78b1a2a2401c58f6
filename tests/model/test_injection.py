"""Injection specs: what each part means, and one clear message for each mistake."""

from __future__ import annotations

import pytest

from harness.model.errors import UsageError
from harness.model.injection import Injection, InjectionError, parse_injection

SYSCALLS = frozenset({"accept", "accept4", "close", "wait4"})


def test_an_error_for_the_nth_call_of_one_role() -> None:
    injection = parse_injection("accept4:error=EINTR:when=2:role=main", syscalls=SYSCALLS)
    assert injection == Injection("accept4", error="EINTR", first=2, every_after=False, role="main")
    assert [injection.hits(n) for n in (1, 2, 3)] == [False, True, False]
    assert str(injection) == "accept4:error=EINTR:when=2:role=main"


def test_a_signal_from_the_nth_call_on() -> None:
    injection = parse_injection("accept:signal=SIGCHLD:when=3+", syscalls=SYSCALLS)
    assert (injection.signal, injection.error, injection.role) == ("SIGCHLD", None, None)
    assert [injection.hits(n) for n in (2, 3, 9)] == [False, True, True]


def test_a_value_for_the_first_call_as_straces_retval() -> None:
    injection = parse_injection("accept4:retval=42:when=1", syscalls=SYSCALLS)
    assert injection == Injection("accept4", retval=42, first=1, every_after=False)
    assert str(injection) == "accept4:retval=42:when=1"
    assert parse_injection("close:retval=0", syscalls=SYSCALLS).retval == 0  # a success is a value like any


def test_without_when_every_call_is_hit() -> None:
    injection = parse_injection("close:error=EBADF", syscalls=SYSCALLS)
    assert all(injection.hits(n) for n in (1, 2, 50))
    assert str(injection) == "close:error=EBADF"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("acept4:error=EINTR", "unknown syscall 'acept4'; did you mean 'accept4'?"),
        ("accept4:eror=EINTR", "'eror=EINTR' is not KEY=VALUE with KEY one of error, retval, signal, when, role"),
        ("accept4", "exactly one of error=ERRNO, retval=N or signal=SIGNAL"),
        ("accept4:error=EINTR:signal=SIGCHLD", "exactly one of error=ERRNO, retval=N or signal=SIGNAL"),
        ("accept4:error=EINTR:retval=3", "exactly one of error=ERRNO, retval=N or signal=SIGNAL"),
        ("accept4:retval=-4", "retval=-4 must be a whole number from 0 (to fail, say error=ERRNO)"),
        ("accept4:retval=x", "retval=x must be a whole number from 0"),
        ("accept4:error=EINTRR", "unknown errno 'EINTRR'; did you mean 'EINTR'?"),
        ("accept4:error=ERESTARTSYS", "unknown errno 'ERESTARTSYS'"),  # only the kernel returns those
        ("accept4:signal=SIGCHILD", "unknown signal 'SIGCHILD'; did you mean 'SIGCHLD'?"),
        ("accept4:error=EINTR:when=0", "when=0 must be N or N+ with N >= 1"),
        ("accept4:error=EINTR:when=x", "when=x must be N or N+"),
        ("accept4:error=EINTR:when=1:when=2", "when is given twice"),
    ],
)
def test_each_mistake_is_named(spec: str, message: str) -> None:
    with pytest.raises(InjectionError) as caught:
        parse_injection(spec, syscalls=SYSCALLS)
    assert message in str(caught.value)
    assert isinstance(caught.value, UsageError)  # exit status 2 on the command line
