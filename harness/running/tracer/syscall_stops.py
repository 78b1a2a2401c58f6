"""The tracer's handling of a syscall stop: record the call, let the controller and the injections act, go on.

Most of a traced run's stops are syscall stops, so this is where the cost of
tracing is paid: each decides at once whether the task may go on before its
call is recorded (see :class:`~harness.running.tracer.tracer_state.TracerState`).
A call that reaches the harness itself (:mod:`.guard`), or comes through
another ABI, is handled here too, at its entry.
"""

from __future__ import annotations

import errno as errno_codes
import os
import sys
from typing import TYPE_CHECKING

from harness.model import kernel_abi
from harness.model.decode import ENTRY_READS_MEMORY, EXIT_READS_MEMORY
from harness.model.errors import UnsupportedArchitecture
from harness.model.syscalls import syscall_name, syscall_number
from harness.running.tracer import ptrace_ext
from harness.running.tracer.guard import NUMBERS as GUARDED_CALLS
from harness.running.tracer.task import Call, Task, TaskGone
from harness.running.tracer.tracer_state import TracerState

if TYPE_CHECKING:  # the injection modules are imported by the runs that inject (see Tracer.__init__)
    from harness.running.tracer.injection_policy import InjectionAction

_RT_SIGRETURN = syscall_number("rt_sigreturn")


def _say(text: str) -> None:
    print(f"harness: {text}", file=sys.stderr)


class SyscallStops(TracerState):
    """The Tracer's handlers of syscall stops, entries and exits."""

    def _held_at_entry(self, task: Task, nr: int, name: str | None) -> bool:
        """Whether a recorded task's entry of call ``nr`` (``name`` when traced) needs the task stopped.

        It does when the controller may hold it there, when an injection may
        act on it, or when recording the traced call reads its memory: to
        decode its inputs, or for its Python stack (``--python-frames``).
        """
        return (
            nr in self._handshake.names
            or self._injection is not None
            or (name is not None and (name in ENTRY_READS_MEMORY or self._stacks is not None))
        )

    @staticmethod
    def _held_at_exit(task: Task, call: Call | None) -> bool:
        """Whether a recorded task's syscall exit needs the task stopped.

        It does when an injected error must be written into its result, when
        the controller is told the watched call returned (it may act on that
        before the task goes on), or when decoding the outputs reads memory.
        """
        return (
            task.inject_return is not None
            or task.watched is not None
            or (call is not None and call.name in EXIT_READS_MEMORY)
        )

    def _on_syscall(self, task: Task) -> None:
        """Record a syscall stop, and resume the task unless the controller holds it there."""
        try:
            if self._use_syscall_info:
                stop = task.ptrace.syscall_stop(self._info)
                if stop is None:
                    self._resume(task, 0)
                    return
            else:
                stop = task.ptrace.syscall_stop_from_registers(not task.in_syscall)
        except ptrace_ext.ForeignCall as foreign:
            from harness.running.tracer.elf_symbols import is_x86_64_program  # only when a foreign call comes

            if not is_x86_64_program(f"/proc/{task.tid}/exe"):
                raise self._refused(task, foreign.abi) from None
            self._pass_foreign_call(task, foreign)
            return
        kind, nr, args, ret = stop
        if kind == ptrace_ext.PTRACE_SYSCALL_INFO_ENTRY:
            task.in_syscall = True
            task.nr = nr
            if not task.recording:
                self._resume(task, 0)
                return
            if nr == _RT_SIGRETURN and nr in self._traced:
                args = self._sigreturn_args(task)
            if nr in GUARDED_CALLS and self._refuse_if_harmful(task, nr, args):
                return
            traced = self._traced.get(nr)
            if not self._held_at_entry(task, nr, traced[0] if traced else None):
                result = self._result_at_entry(task, nr) if traced is not None else None
                try:
                    self._resume(task, 0)
                finally:  # also when the task is gone: its entry happened, its end is still to come
                    if traced is not None:
                        task.call = self._recorder.enter(task, nr, traced[0], traced[1], args)
                        if result is not None:
                            finished, task.call = task.call, None
                            self._recorder.finish(task, finished, result)
                return
            if traced is not None:
                action = self._injection.at_entry(task.tid, task.role, nr) if self._injection is not None else None
                rewritten = action is not None and action.before_decoding and self._rewrite(task, args, action)
                task.call = self._recorder.enter(task, nr, traced[0], traced[1], args)
                if rewritten:
                    task.call.injected = True
                elif action is not None and not action.before_decoding:
                    self._inject(task, action)
            offered = nr in self._handshake.names and not self._injection_ends_the_call(task)
            if offered and self._handshake.ask(task, nr, self._recorder.seq, args):
                return  # the controller holds it: resumed by a release
            self._resume(task, 0)
            return
        task.in_syscall = False
        call, task.call = task.call, None
        if self._injection is not None and call is not None:
            self._injection.at_exit(task.tid, task.nr, ret)
        if not self._held_at_exit(task, call):
            try:
                self._resume(task, 0)
            finally:
                if call is not None:
                    self._recorder.finish(task, call, ret)
            return
        if task.inject_return is not None:
            ret, task.inject_return = task.inject_return, None
            task.ptrace.set_return(ret)
        if call is not None:
            self._recorder.finish(task, call, ret)
        self._handshake.left(task)
        self._resume(task, 0)

    def _sigreturn_args(self, task: Task) -> tuple[int, ...]:
        """rt_sigreturn's "arguments": the signal mask its frame restores, which strace shows (it takes none)."""
        if self._use_syscall_info:
            return task.ptrace.sigreturn_mask(self._info.stack_pointer())
        try:
            return task.ptrace.sigreturn_mask(ptrace_ext.stack_pointer(task.tid))
        except OSError:
            return ()

    def _result_at_entry(self, task: Task, nr: int) -> int | None:
        """The result of a traced call already known at its entry, so that its exit stop can go: rt_sigreturn's.

        rt_sigreturn returns the ``ax`` saved in the signal frame, a word at a
        fixed distance from the stack pointer at its entry
        (:data:`kernel.SIGRETURN_RESULT_OFFSET`).  Read while the task is
        stopped at the entry, it is what the exit stop would show, and the
        kernel reads it right after: only another thread writing into this
        thread's signal frame in between could make them differ.  So under the
        prefilter (the task goes on with PTRACE_CONT; stepping every call, the
        exit stop comes anyway) the call is finished at its entry: one stop
        fewer for every handler that returns.  The caller asks only for an
        entry nothing holds (no controller watching it, no injection), and
        None (the word unreadable, the task gone) keeps the exit stop.
        """
        if nr != _RT_SIGRETURN or self._install_filter is None or not self._use_syscall_info:
            return None
        try:
            result = task.ptrace.sigreturn_result(self._info.stack_pointer())
        except TaskGone:
            return None
        if result is not None:
            task.in_syscall = False  # resumed with PTRACE_CONT: to the next traced call, past this one's exit
        return result

    def _pass_foreign_call(self, task: Task, foreign: ptrace_ext.ForeignCall) -> None:
        """A 64-bit program's call through another ABI (one ``int $0x80``): recorded by that ABI's name, kept raw.

        Its number means another call there, named as strace names it, and
        recorded when that name is traced; its arguments stay the raw
        registers, since the catalogue decodes x86_64 calls only (the other
        ABIs' structures have other layouts).  The kernel runs it (or fails
        an x32 one with ENOSYS) all the same, and its exit stop finishes it.
        The user is told once per task that its program changed ABI.
        """
        from harness.model.syscalls.i386 import foreign_call_name  # only when a foreign call comes

        abi, name = foreign.abi, foreign_call_name(foreign.abi, foreign.nr)
        task.in_syscall, task.nr, task.call = True, -1, None
        recorded = task.recording and name in self._traced_names
        if task.tid not in self._foreign_noted:  # said before the call's line
            self._foreign_noted.add(task.tid)
            how = "int $0x80" if abi == "i386" else "the x32 bit, 0x40000000" if abi == "x32" else "another ABI"
            kept = "recorded by that ABI's name, its arguments raw" if recorded else "not traced"
            (self._note or _say)(
                f"{task.role} (pid {task.pid}) made an {abi} call, {name}, from a 64-bit program ({how}): {kept}, "
                "as strace does; the catalogue decodes x86_64 calls only"
            )
        if recorded and abi in ("i386", "x32"):
            task.call = self._recorder.enter_foreign(task, name, abi, foreign.args)
        self._resume(task, 0)

    def _refuse_if_harmful(self, task: Task, nr: int, args: tuple[int, ...]) -> bool:
        """Fail with EPERM, at its entry, a call that would signal, trace or change the harness (:mod:`.guard`).

        Whether it did.  The call is skipped as an injected error is; traced,
        it is recorded as failed and injected.  The user is told once per
        task, before the call's line.
        """
        harm = self._guard.refusal(task.pid, nr, args)
        if harm is None:
            return False
        if task.tid not in self._guard_noted:
            self._guard_noted.add(task.tid)
            (self._note or _say)(
                f"{task.role} (pid {task.pid}) called {syscall_name(nr)} to {harm}: it fails with EPERM, as every "
                "call of a traced process on the harness does, so that nothing traced can stop or end the run"
            )
        traced = self._traced.get(nr)
        if traced is not None:
            task.call = self._recorder.enter(task, nr, traced[0], traced[1], args)
            task.call.injected = True
        task.ptrace.skip_syscall()
        task.inject_return = -errno_codes.EPERM
        self._resume(task, 0)
        return True

    def _refused(self, task: Task, abi: kernel_abi.SyscallAbi) -> UnsupportedArchitecture:
        """A task makes a call of another ABI: the run ends (the tree is killed), never with a guessed trace."""
        try:
            program = os.readlink(f"/proc/{task.tid}/exe")
        except OSError:
            program = self._argv[0]
        return UnsupportedArchitecture(
            f"{program}: {kernel_abi.ABI_NAMES[abi]}: the harness traces x86_64 programs only (the syscall numbers "
            "of other ABIs differ, so its trace would be wrong); build it for x86_64"
        )

    def _inject(self, task: Task, action: InjectionAction) -> None:
        """Do what the injection policy said for this entry: skip the call for an error, or send a signal now."""
        from harness.running.tracer.injection_policy import SendSignal, SkipAndReturn  # once there is a policy

        if isinstance(action, SkipAndReturn):
            task.ptrace.skip_syscall()
            task.inject_return = action.ret
            if task.call is not None:
                task.call.injected = True
        elif isinstance(action, SendSignal):
            task.injected_signal = action.signum
            task.ptrace.send(action.signum)

    @staticmethod
    def _rewrite(task: Task, args: tuple[int, ...], action: InjectionAction) -> bool:
        """Change what the call reads before the kernel (and the event's decoder) reads it: a handler's flags.

        Decoded after the change, the event shows what the kernel installs, so
        that the analysis reads the disposition in force; the event is marked injected.  Whether it changed.
        """
        from harness.running.tracer.injection_policy import AddHandlerFlags

        assert isinstance(action, AddHandlerFlags)
        return (
            len(args) > 1
            and args[0] == action.signum
            and bool(args[1])
            and task.ptrace.add_handler_flags(args[1], action.flags)
        )

    @staticmethod
    def _injection_ends_the_call(task: Task) -> bool:
        """Whether an injection ends the call the task enters before it can wait: such an entry is no wait.

        It is not offered to the controller, for either of two reasons.  An
        injected error skips the call, which returns at once: a controller
        that took it for a wait would let a held child exit while the program
        is elsewhere, on some runs only.  A signal the harness sent interrupts
        the call: a controller that let a client connect now would race the
        signal, because accept takes a queued connection without waiting,
        hence without looking at pending signals (inet_csk_accept,
        net/ipv4/inet_connection_sock.c).  The task is resumed, the call sees
        the signal and returns ERESTARTSYS, the signal-delivery stop clears
        ``injected_signal``, and the call's next entry is offered as usual.
        The delivery stop always comes, even for an ignored signal: a traced
        task's signals are never dropped as ignored (sig_ignored,
        kernel/signal.c).  A blocked signal interrupts nothing, so it does not
        defer the controller.
        """
        if task.inject_return is not None:
            return True
        return task.injected_signal != 0 and not task.ptrace.blocks(task.injected_signal)
