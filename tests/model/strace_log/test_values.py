"""strace's notation for values, cut and read as strace prints it (src/print_fields.h, src/util.c)."""

from __future__ import annotations

import pytest

from harness.model.strace_log.arguments import siginfo, sigset
from harness.model.strace_log.lines import closing_paren, read_result
from harness.model.strace_log.values import comment, integer, split_top, string, struct_fields


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("3, 128", ["3", "128"]),
        ('AT_FDCWD, "a, b", O_RDONLY', ["AT_FDCWD", '"a, b"', "O_RDONLY"]),
        ('"\\"x, y\\"", 1', ['"\\"x, y\\""', "1"]),
        (
            "{sa_family=AF_INET, sin_port=htons(80)}, [16], SOCK_CLOEXEC",
            ["{sa_family=AF_INET, sin_port=htons(80)}", "[16]", "SOCK_CLOEXEC"],
        ),
        ("3<TCP:[127.0.0.1:1->127.0.0.1:2]>, NULL", ["3<TCP:[127.0.0.1:1->127.0.0.1:2]>", "NULL"]),
        ("0x80000 /* SOCK_CLOEXEC, and more */, 4", ["0x80000 /* SOCK_CLOEXEC, and more */", "4"]),
        ("{flags=CLONE_VM} => {parent_tid=[42]}, 88", ["{flags=CLONE_VM} => {parent_tid=[42]}", "88"]),
        ("[110 => 16], 0", ["[110 => 16]", "0"]),
        ("3,  ", ["3"]),
    ],
)
def test_a_list_is_cut_only_outside_what_nests(text: str, items: list[str]) -> None:
    assert split_top(text) == items


@pytest.mark.parametrize(
    ("text", "number"),
    [("42", 42), ("-1", -1), ("0x1f", 31), ("0755", 0o755), ("4<socket:[1234]>", 4), ("0x2 /* AF_INET */", 2)],
)
def test_numbers_in_every_form_strace_prints(text: str, number: int) -> None:
    assert integer(text) == number


def test_not_a_number_is_none() -> None:
    assert [integer(text) for text in ("NULL", "SIGCHLD", '"3"', "3|4")] == [None, None, None, None]


def test_a_string_is_unescaped_and_its_cut_dropped() -> None:
    assert string('"a\\n\\t\\"b\\x41\\101"...') == 'a\n\t"bAA'
    assert string("0x7ffc") is None


def test_a_verbose_comment_is_split_from_its_value() -> None:
    assert comment("0x80000 /* SOCK_CLOEXEC */") == ("0x80000", "SOCK_CLOEXEC")
    assert comment("3") == ("3", None)


def test_a_struct_keeps_its_members_by_name() -> None:
    assert struct_fields("{a=1, b={c=2, d=[3, 4]}, ...}") == {"a": "1", "b": "{c=2, d=[3, 4]}"}
    assert struct_fields("0x7ffc1000") is None


def test_a_signal_set_and_its_complement() -> None:
    assert sigset("[HUP CHLD]") == ["SIGHUP", "SIGCHLD"]
    assert sigset("~[KILL STOP RTMIN RT_1]") == [
        name for name in sigset("~[]") or [] if name not in ("SIGKILL", "SIGSTOP", "SIGRTMIN", "SIGRT_1")
    ]
    assert sigset("NULL") is None


def test_a_raw_siginfo_is_named_as_the_tracer_names_it() -> None:
    assert siginfo("{si_signo=17, si_code=0x1, si_pid=42, si_uid=0, si_status=0, si_utime=0, si_stime=0}") == {
        "si_signo": "SIGCHLD",
        "si_code": "CLD_EXITED",
        "si_pid": 42,
        "si_uid": 0,
        "si_status": 0,
        "si_utime": 0,
        "si_stime": 0,
    }


def test_a_calls_arguments_end_at_the_first_parenthesis_outside_them() -> None:
    assert closing_paren('3, "a)b", {x=(1)}) = 0') == 17
    assert closing_paren("3, {sa_fam") == -1


@pytest.mark.parametrize(
    ("text", "value", "errno", "note", "duration"),
    [
        ("4", 4, None, None, None),
        ("-1 EINTR (Interrupted system call)", -1, "EINTR", None, None),
        ("? ERESTARTSYS (To be restarted if SA_RESTART is set) <0.000123>", None, "ERESTARTSYS", None, 0.000123),
        ("1 ([{fd=3, revents=POLLIN}])", 1, None, "[{fd=3, revents=POLLIN}]", None),
        ("4<socket:[99]>", 4, None, None, None),
        ("0x55e1a000", 0x55E1A000, None, None, None),
    ],
)
def test_a_result_and_what_follows_it(
    text: str, value: int | None, errno: str | None, note: str | None, duration: float | None
) -> None:
    result = read_result(text)
    assert (result.value, result.errno, result.note, result.duration) == (value, errno, note, duration)


def test_an_injected_result_is_marked() -> None:
    assert read_result("-1 EINTR (Interrupted system call) (INJECTED)").injected
