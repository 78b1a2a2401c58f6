"""Start a command as a tracee, stopped before it runs anything of its own.

Facts about the start (ptrace(2), "Attaching and detaching"):

* The child asks to be traced (PTRACE_TRACEME), then stops itself with
  SIGSTOP *before* execve.  The tracer sets its options (among them
  PTRACE_O_EXITKILL, so the tracee cannot outlive the tracer) while the
  child is stopped, and only then lets it exec: the exec is reported as
  PTRACE_EVENT_EXEC, at the new program's first instruction.
* The child restores the default dispositions of SIGPIPE and SIGXFSZ
  (ignored by CPython in this process) and of SIGINT and SIGTERM (ignored
  when the harness runs as a background job): ignored signals stay ignored
  across execve, and a server must start with the defaults an interactive
  shell would give it, the same on every run.
* From its first instruction the child is tied to the harness
  (PR_SET_PDEATHSIG, then a check that its parent is still the harness):
  a harness killed between the fork and PTRACE_O_EXITKILL leaves nothing
  stopped behind.
* An execve that fails is reported through a close-on-exec pipe, so that the
  caller gets the real errno instead of a mysterious exit status 127.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable, Mapping, Sequence

from harness.model.errors import CommandNotFound, ExecFailed, PtraceNotPermitted
from harness.running.tracer import ptrace_ext

#: Signals the command starts with at their defaults, whatever the harness inherited or set: CPython
#: ignores SIGPIPE and SIGXFSZ, a harness started as a shell's background job has SIGINT ignored
#: (by nohup, SIGHUP), and the command line ignores SIGUSR1, SIGUSR2 and SIGALRM in itself
#: (faces/cli.py).  An ignored signal stays ignored across execve (execve(2)).  A trace must not
#: depend on how the harness was started (a server's start-up calls, CPython's rt_sigaction(SIGINT)
#: among them, would differ from run to run of the same test), and a traced child's raise(SIGUSR1)
#: must end it as it does untraced.
RESTORED_SIGNALS = (
    signal.SIGPIPE,
    signal.SIGXFSZ,
    signal.SIGINT,
    signal.SIGTERM,
    signal.SIGHUP,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGALRM,
)
_TRACEME_FAILED = "PTRACE_TRACEME failed: "


class _TracemeRefused(Exception):
    """In the child: PTRACE_TRACEME failed, and the parent has been told why."""


def resolve_command(argv: Sequence[str], env: Mapping[str, str]) -> str:
    """Find the program to run as a shell would, or say clearly that there is none."""
    if not argv:
        raise CommandNotFound("no command given: write it after '--', e.g. harness trace -- ./server")
    program = argv[0]
    path = shutil.which(program, path=env.get("PATH", os.defpath))
    if path is None:
        if os.sep in program and os.path.exists(program):
            raise CommandNotFound(f"{program}: is not executable (chmod +x it, or run it with its interpreter)")
        raise CommandNotFound(f"{program}: command not found (check the name, or give its path)")
    return path


def start_stopped(
    argv: Sequence[str],
    env: Mapping[str, str],
    stdio: Sequence[int | None] = (None, None, None),
    install_filter: Callable[[], None] | None = None,
    *,
    own_process_group: bool = False,
) -> tuple[int, int]:
    """Fork a tracee that is stopped by SIGSTOP and will exec ``argv``.

    ``stdio`` gives descriptors for the command's stdin, stdout and stderr;
    None keeps the harness's own.  ``install_filter`` runs in the child after
    its stop, before exec (the seccomp prefilter).  With ``own_process_group``
    the tracee leads a process group of its own (setpgid(2)), so that a server
    signalling its whole group (Apache's ``kill(-getpgrp(), SIGTERM)``, a
    ``kill(0, ...)``) reaches its own processes, not the harness and the
    user's shell.  Returns the pid and the read end of the exec-error pipe.
    """
    path = resolve_command(argv, env)
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    harness = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, reported through the pipe
        try:
            ptrace_ext.die_with_parent(harness)  # first: a harness killed from here on takes us along
            os.close(read_end)
            for target, source in enumerate(stdio):
                if source is not None:
                    os.dup2(source, target)
            for signum in RESTORED_SIGNALS:
                signal.signal(signum, signal.SIG_DFL)
            if own_process_group:
                os.setpgid(0, 0)
            try:
                ptrace_ext.traceme()
            except OSError as error:
                os.write(write_end, f"{error.errno or 0}:{_TRACEME_FAILED}{error.strerror}".encode())
                raise _TracemeRefused from None
            os.kill(os.getpid(), signal.SIGSTOP)
            if install_filter is not None:
                install_filter()
            os.execve(path, list(argv), dict(env))
        except _TracemeRefused:
            pass  # reported above
        except BaseException as error:  # noqa: BLE001 - anything must reach the parent
            code = error.errno if isinstance(error, OSError) and error.errno else 0
            os.write(write_end, f"{code}:{error}".encode())
        finally:
            os._exit(127)
    os.close(write_end)
    return pid, read_end


def exec_error(read_end: int, argv: Sequence[str]) -> ExecFailed | PtraceNotPermitted | None:
    """The error the child reported before exec, if it reported one."""
    try:
        data = os.read(read_end, 4096)
    finally:
        os.close(read_end)
    if not data:
        return None
    _, _, message = data.decode(errors="replace").partition(":")
    if message.startswith(_TRACEME_FAILED):
        return PtraceNotPermitted(
            f"ptrace is not permitted here ({message}): run as root, grant CAP_SYS_PTRACE "
            "(docker run --cap-add=SYS_PTRACE), allow ptrace in the container's seccomp profile, "
            "or lower kernel.yama.ptrace_scope"
        )
    return ExecFailed(f"cannot run {argv[0]}: {message}")
