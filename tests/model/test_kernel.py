from __future__ import annotations

import pytest

from harness.model import kernel, kernel_abi, kernel_flags


@pytest.mark.parametrize(
    ("ret", "name"),
    [
        (-512, "ERESTARTSYS"),
        (-513, "ERESTARTNOINTR"),
        (-514, "ERESTARTNOHAND"),
        (-516, "ERESTART_RESTARTBLOCK"),
        (-4, "EINTR"),
        (-10, "ECHILD"),
        (0, None),
        (4242, None),
        (-4096, None),
    ],
)
def test_errno_name_covers_the_restart_codes_only_a_tracer_sees(ret: int, name: str | None) -> None:
    assert kernel.errno_name(ret) == name


def test_errno_text_explains_restart_codes_like_strace() -> None:
    assert kernel.errno_text("ERESTARTSYS") == "To be restarted if SA_RESTART is set"
    assert kernel.errno_text("EINTR") == "Interrupted system call"
    assert kernel.is_restart_code("ERESTARTSYS") and not kernel.is_restart_code("EINTR")


def test_flag_names_keep_unknown_bits_visible() -> None:
    assert kernel_flags.flag_names(0x1 | 0x40000000, kernel_flags.WAIT_OPTIONS) == ["WNOHANG", "__WALL"]
    assert kernel_flags.flag_names(0x10000000 | 0x04000000 | 0x100, kernel.SA_FLAGS) == [
        "SA_RESTORER",
        "SA_RESTART",
        "0x100",
    ]
    assert kernel_flags.flag_names(0, kernel.SA_FLAGS) == []
    assert kernel_flags.flag_names(0x20000000 | 0x04000000, kernel.SA_FLAGS) == ["SA_RESTORER", "SA_INTERRUPT"]


def test_flag_value_inverts_flag_names() -> None:
    value = 0x10000000 | 0x4 | 0x200
    assert kernel_flags.flag_value(kernel_flags.flag_names(value, kernel.SA_FLAGS), kernel.SA_FLAGS) == value


@pytest.mark.parametrize(
    ("status", "decoded"),
    [
        (0x0000, {"exited": 0}),
        (0x0300, {"exited": 3}),
        (0x000F, {"signaled": "SIGTERM", "core_dumped": False}),
        (0x0086, {"signaled": "SIGABRT", "core_dumped": True}),
        (0x137F, {"stopped": "SIGSTOP"}),
        (0xFFFF, {"continued": True}),
    ],
)
def test_wait_status_reads_like_the_w_macros(status: int, decoded: dict[str, object]) -> None:
    assert kernel.decode_wait_status(status) == decoded


def test_si_code_depends_on_the_signal() -> None:
    assert kernel.si_code_name("SIGCHLD", 1) == "CLD_EXITED"
    assert kernel.si_code_name("SIGCHLD", 2) == "CLD_KILLED"
    assert kernel.si_code_name("SIGSEGV", 1) == "SEGV_MAPERR"
    assert kernel.si_code_name("SIGTERM", 0) == "SI_USER"
    assert kernel.si_code_name("SIGCHLD", -6) == "SI_TKILL"
    assert kernel.si_code_name("SIGUSR1", 0x80) == "SI_KERNEL"


def test_signal_names_use_the_kernels_real_time_numbering() -> None:
    assert kernel.signal_name(17) == "SIGCHLD"
    assert kernel.signal_name(32) == "SIGRTMIN"
    assert kernel.signal_name(33) == "SIGRT_1"
    assert kernel.signal_name(99) == "99"
    assert kernel.SIGNAL_NUMBERS["SIGTERM"] == 15


@pytest.mark.parametrize(
    ("arch", "nr", "abi"),
    [
        (kernel_abi.AUDIT_ARCH_X86_64, 3, "x86_64"),
        (kernel_abi.AUDIT_ARCH_X86_64, 2**64 - 1, "x86_64"),  # syscall(-1): not an x32 call
        (kernel_abi.AUDIT_ARCH_I386, 3, "i386"),
        (kernel_abi.AUDIT_ARCH_X86_64, kernel_abi.X32_SYSCALL_BIT | 43, "x32"),
        (0xC00000B7, 63, "unknown"),  # AUDIT_ARCH_AARCH64
    ],
)
def test_a_calls_abi_comes_from_its_audit_architecture_and_number(arch: int, nr: int, abi: str) -> None:
    assert kernel_abi.syscall_abi(arch, nr) == abi


@pytest.mark.parametrize(
    ("cs", "nr", "abi"),
    [
        (0x33, 3, "x86_64"),
        (0x23, 3, "i386"),
        (0x33, kernel_abi.X32_SYSCALL_BIT | 43, "x32"),
        (0x33, 2**64 - 1, "x86_64"),
    ],
)
def test_without_syscall_info_a_calls_abi_comes_from_the_code_segment(cs: int, nr: int, abi: str) -> None:
    assert kernel_abi.registers_abi(cs, nr) == abi
