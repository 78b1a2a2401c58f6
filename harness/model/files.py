"""The one way the harness opens its files: written never through a planted link, read only when bounded.

Reads (expectation files, golden files, traces) take regular files of a
bounded size only: ``/dev/zero`` or a FIFO is refused, not read for ever.

The harness often runs as root (ptrace needs it), and it writes files at
names it chooses itself: a failing run's ``NAME.failed.jsonl`` beside an
expectation file, a golden file.  Whoever can write that directory could
plant a symbolic link there (to ``/etc/shadow``), a FIFO (the write would
block for ever), or a directory.  So a name the harness chose is opened
relative to its directory's descriptor with ``O_NOFOLLOW`` (open(2): a link
as the last component fails with ELOOP, and no check-then-open race is
left), and must turn out a regular file, new or old.

A name the user typed (``-o``, ``--jsonl``, ``report -o``) is the user's
to choose: links are followed and ``/dev/null`` or ``/dev/stdout`` are
fine, but a directory is refused, and a FIFO or socket is opened without
blocking (``O_NONBLOCK``: ENXIO when nobody reads it, fifo(7)), so that it
is refused at once instead of hanging the run.

A file written whole (a golden file) replaces the old one by rename, and a
file that must stay inside a directory tree is reached from that directory
one ``O_NOFOLLOW`` step at a time (:func:`replace_file`): the check that it
is inside and the write are one walk, which no link flipped meanwhile can
redirect.

Every refusal is one :class:`UnsafeOutput`, whose message names the file and
the fix.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from pathlib import Path
from typing import Literal, TextIO

from harness.model.errors import OutputError, UnsafeOutput

#: Created files: readable by all, as any file a command writes (the umask applies).
_MODE = 0o644


def _refusal(path: Path, error: OSError, chosen: bool) -> UnsafeOutput:
    if error.errno == errno.ELOOP and chosen:
        why = "it is a symbolic link, and the harness does not write through a link at a name it chose"
    elif error.errno == errno.ENXIO:
        why = "it is a FIFO or socket that nobody reads (the write would wait for ever)"
    elif error.errno == errno.EISDIR:
        why = "it is a directory"
    else:
        why = error.strerror or str(error)
    fix = "remove it, or give another place" + (" (--traces DIR)" if chosen else "")
    return UnsafeOutput(f"will not write {path}: {why}; {fix}")


def open_chosen(path: Path) -> TextIO:
    """Open for writing a file at a name the harness chose: a new or regular file, no link, no FIFO, no device."""
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        fd = os.open(path.name, flags, _MODE, dir_fd=directory)
    except OSError as error:
        raise _refusal(path, error, chosen=True) from None
    finally:
        os.close(directory)
    return _as_text(fd, path, chosen=True)


def open_given(path: Path) -> TextIO:
    """Open for writing a file the user named: links followed, devices allowed, a FIFO only if something reads it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC, _MODE)
    except OSError as error:
        if error.errno in (errno.ENXIO, errno.EISDIR):
            raise _refusal(path, error, chosen=False) from None
        raise  # no such directory, permission denied...: said as "cannot open" by the command, with its path
    return _as_text(fd, path, chosen=False)


def _as_text(fd: int, path: Path, *, chosen: bool) -> TextIO:
    """The open descriptor as a text stream, emptied if it is a regular file, blocking again."""
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISREG(mode):
            os.ftruncate(fd, 0)
        elif chosen:
            raise UnsafeOutput(f"will not write {path}: it is not a regular file; remove it, or give another place")
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        return os.fdopen(fd, "w", encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise


def inside(path: Path, within: Path) -> Path | None:
    """``path`` relative to ``within``, read from the names alone (``..`` folded); None when it is outside.

    A write that must stay inside a tree checks with this and then walks
    the same names with :func:`replace_file`, which follows no link below
    ``within``: names and places then agree.
    """
    try:
        return Path(os.path.normpath(path.absolute())).relative_to(os.path.normpath(within.absolute()))
    except ValueError:
        return None


def replace_file(path: Path, text: str, *, within: Path | None = None) -> None:
    """Write a whole file by replacing it: a new file beside it, renamed over it, so a reader never sees half.

    ``within`` is a directory the file must stay inside.  The directories
    from it down to ``path`` are opened one at a time, each relative to the
    one above with ``O_NOFOLLOW`` (made when missing): a link planted there,
    or flipped while this runs, fails the walk instead of carrying the write
    outside, since the check and the write are one walk (openat(2)).  Without
    ``within``, ``path``'s directory is the user's choice, links and all.

    A link at ``path`` itself is replaced, never written through
    (renameat(2)); anything but a regular file or a link there (a FIFO, a
    device, a directory) is refused, since the rename would put a file in
    its place (:class:`OutputError`, as the system's errors are); a link or a
    place outside ``within`` is an :class:`UnsafeOutput`.
    """
    parts: tuple[str, ...] = ()
    if within is None:
        within = path.parent
        try:
            within.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(path, f"no new file can be made in {within} ({error.strerror})") from None
    else:
        relative = inside(path, within)
        if relative is None or not relative.parts:
            raise UnsafeOutput(f"will not write {path}: it is outside {within}; give a place inside it")
        parts = relative.parts[:-1]
    directory = _walk(path, within, parts)
    try:
        _replace_in(directory, path, text)
    finally:
        os.close(directory)


def _walk(path: Path, within: Path, parts: tuple[str, ...]) -> int:
    """A descriptor of the directory ``within/parts...``, reached without following a link below ``within``."""
    try:
        directory = os.open(within, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as error:
        raise OutputError(path, error) from None
    try:
        for part in parts:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o755, dir_fd=directory)
            below = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=directory)
            os.close(directory)
            directory = below
    except OSError as error:
        os.close(directory)
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafeOutput(
                f"will not write {path}: {part!r} on the way from {within} is a link or not a directory, "
                "and the harness follows no link inside the tree it writes; remove it, or give another place"
            ) from None
        raise OutputError(path, error) from None
    return directory


def _replace_in(directory: int, path: Path, text: str) -> None:
    name = path.name
    try:
        mode = os.stat(name, dir_fd=directory, follow_symlinks=False).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:
        raise OutputError(path, error) from None
    if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        raise OutputError(path, "not a regular file (a file written whole replaces only a regular file)")
    partial = f".{name}.{os.urandom(6).hex()}"  # os.urandom, not secrets: that import costs every start 3 ms
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(partial, flags, _MODE, dir_fd=directory)
    except OSError as error:
        raise OutputError(path, f"no new file can be made in {path.parent} ({error.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(partial, name, src_dir_fd=directory, dst_dir_fd=directory)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(partial, dir_fd=directory)
        raise OutputError(path, error) from None


#: Why a file was not read: it does not exist, the system refused it (permission...), it is a directory, it is
#: not a regular file (a device, a FIFO, a socket), or it is larger than its reader's bound.
UnreadableKind = Literal["missing", "refused", "directory", "not-regular", "too-large"]


class Unreadable(Exception):
    """Why a file the harness reads was refused: its reader says it in its own words, with its own error type."""

    def __init__(self, kind: UnreadableKind, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        """The reason in a few words (the system's for ``missing`` and ``refused``)."""


def read_bounded(path: Path, limit: int) -> bytes:
    """A file's bytes, read only from a regular file of at most ``limit`` bytes: never a device or a FIFO.

    ``/dev/zero`` would be read until memory runs out, a FIFO with no writer
    would block the open for ever (``O_NONBLOCK`` makes the open return, and
    the check refuses it).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError as error:
        raise Unreadable("missing", error.strerror or "No such file or directory") from None
    except OSError as error:
        raise Unreadable("refused", error.strerror or str(error)) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise Unreadable("directory", "it is a directory")
        if not stat.S_ISREG(mode):
            raise Unreadable("not-regular", "not a regular file (a device, a FIFO or a socket)")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        size_words = f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit >> 10} KiB"
        raise Unreadable("too-large", f"larger than {size_words}")
    return b"".join(chunks)
