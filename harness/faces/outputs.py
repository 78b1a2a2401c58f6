"""Where a command's output goes: the files a user names, standard output, and a live trace's text and JSON Lines.

Apart from the commands, so that a write that fails is said the same way
whichever command made it: one ``harness:`` line naming the file
(:class:`OutputError`), never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from harness.faces.options import notation, time_columns
from harness.model.errors import OutputError
from harness.model.events import Event, Listener, SyscallEntry
from harness.model.trace import event_to_json

if TYPE_CHECKING:
    from harness.model.strace_format import TextRenderer


def _is_null_device(path: str) -> bool:
    """Whether ``path`` is the null device (/dev/null, or a link to it): what is written there is lost."""
    try:
        return os.path.samestat(os.stat(path), os.stat(os.devnull))
    except OSError:
        return False


@contextmanager
def output_file(path: str) -> Iterator[TextIO]:
    """Open a file the user named for the command to write; a failure to close it (its last buffer) names its path.

    A directory, or a FIFO nobody reads, is refused at once (:func:`harness.model.files.open_given`).
    """
    from harness.model.files import open_given

    stream = open_given(Path(path))
    try:
        yield stream
    finally:
        try:
            stream.close()
        except OSError as error:
            raise OutputError(path, error) from None


class StandardOutput:
    """``sys.stdout``, whose failed writes (a full disk, ``/dev/full``) are one ``harness:`` line naming it.

    After the first failure, descriptor 1 goes to /dev/null, so that what is
    still buffered does not fail again at the interpreter's exit.  A reader
    that went away (``| head``) still raises BrokenPipeError, which ends the
    command quietly.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        """Write as the stream does; a failure but a closed pipe is this command's :class:`OutputError`."""
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as error:
            raise self._failed(error) from None

    def flush(self) -> None:
        """Flush as the stream does; a failure but a closed pipe is this command's :class:`OutputError`."""
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise self._failed(error) from None

    def _failed(self, error: OSError) -> OutputError:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, self._stream.fileno())
        os.close(null)
        return OutputError("standard output", error)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _text_renderer(args: argparse.Namespace, *, strace: bool = False) -> TextRenderer:
    """The text trace's renderer; with ``strace``, the one of ``--strace-log``, in strace's own style."""
    from harness.model.strace_format import TextRenderer

    return TextRenderer(
        time_columns(args), full_stacks=args.verbose, notation=notation(args), style="strace" if strace else "harness"
    )


@contextmanager
def trace_outputs(args: argparse.Namespace) -> Iterator[Listener | None]:
    """The listener that writes a live run as text (stderr or -o), as JSON Lines (--jsonl) and as strace's text.

    A write that fails (a full disk, /dev/full, a /proc file) is one
    :class:`OutputError` naming the file; raised in the tracer, it ends the
    run, whose tree is killed.
    """
    with ExitStack() as stack:
        text = stack.enter_context(output_file(args.output)) if args.output else sys.stderr
        jsonl = stack.enter_context(output_file(args.jsonl)) if args.jsonl else None
        strace_log = stack.enter_context(output_file(args.strace_log)) if args.strace_log else None
        strace_renderer = _text_renderer(args, strace=True) if strace_log is not None else None
        # Text sent to /dev/null is never rendered, nor is its renderer imported:
        # `-o /dev/null --jsonl FILE` pays for JSON only.
        discarded = args.output is not None and _is_null_device(args.output)
        renderer = None if discarded else _text_renderer(args)
        # A person watching a terminal sees each line at once; a file gets whole buffers,
        # so that tracing does not pay one write(2) per event.
        live = text.isatty()

        def listener(point: SyscallEntry | Event) -> None:
            if renderer is not None:
                try:
                    text.write(renderer.feed(point))
                    if live:
                        text.flush()
                except OSError as error:
                    raise OutputError(args.output or "stderr", error) from None
            if strace_log is not None and strace_renderer is not None:
                try:
                    strace_log.write(strace_renderer.feed(point))
                except OSError as error:
                    raise OutputError(args.strace_log, error) from None
            if jsonl is not None and not isinstance(point, SyscallEntry):
                try:
                    jsonl.write(event_to_json(point))
                except OSError as error:
                    raise OutputError(args.jsonl, error) from None

        try:
            yield None if renderer is None and jsonl is None and strace_log is None else listener
        finally:  # a call left open ends its line, so that a harness: line after it starts a line of its own
            if renderer is not None:
                with suppress(OSError):  # a failed text output is reported where it failed, or at its close
                    text.write(renderer.flush())
            if strace_log is not None and strace_renderer is not None:
                with suppress(OSError):
                    strace_log.write(strace_renderer.flush())
