"""The pieces strace prints values with: lists of arguments, structs, arrays, numbers, strings, comments.

strace prints every value in a C-like notation (src/print_fields.h,
src/util.c ``print_quoted_string``): ``{name=value, ...}`` for a struct,
``[a, b]`` for an array, ``[HUP CHLD]`` and ``~[KILL]`` for a signal set,
``A|B`` for flags, ``"..."`` with C escapes for a string, ``NULL`` and
``0x7ffc...`` for pointers, ``/* ... */`` for what ``-X verbose`` and
``-y`` add.  These functions cut such text without knowing which call it
belongs to; :mod:`.arguments` says what each piece means.
"""

from __future__ import annotations

import re

#: ``-X verbose``'s comment after a number: ``0x80000 /* SOCK_CLOEXEC */``.
_COMMENT = re.compile(r"\s*/\*\s*(?P<comment>.*?)\s*\*/\s*$")
#: ``-y``'s decoration of a descriptor: ``3<socket:[1234]>``, ``3</etc/hosts>``.
_DECORATED = re.compile(r"(?P<number>-?\d+)<.*>$", re.DOTALL)
_INTEGER = re.compile(r"-?(?:0x[0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "v": "\v", "f": "\f", "\\": "\\", '"': '"', "'": "'", "a": "\a", "b": "\b"}


#: A C string as strace prints it, escapes included: where a quote opens, where it closes.
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
#: What nesting starts with: without any, a list is cut at every separator.
_NESTING = re.compile(r'["(\[{<]|/\*')
#: The characters a scan of nested text stops at, besides the separator.
_STOPS = {separator: re.compile(r'["()\[\]{}<>]|/\*|' + re.escape(separator)) for separator in ",|"}


def split_top(text: str, separator: str = ",") -> list[str]:
    """The items of a comma-separated list, cut only outside brackets, braces, parentheses, quotes and comments.

    Each item is stripped; empty items (what ``3, `` before ``<unfinished ...>`` leaves) are dropped.
    The scan jumps from one character that matters to the next (most arguments hold none).
    """
    if _NESTING.search(text) is None:
        return [item.strip() for item in text.split(separator) if item.strip()]
    items, depth, start, index, size = [], 0, 0, 0, len(text)
    stops = _STOPS[separator]
    while index < size:
        found = stops.search(text, index)
        if found is None:
            break
        index = found.start()
        char = text[index]
        if char == '"':
            quoted = _QUOTED.match(text, index)
            index = quoted.end() if quoted is not None else size
            continue
        if char == "/":  # a comment: /* ... */
            end = text.find("*/", index + 2)
            index = size if end < 0 else end + 2
            continue
        if char in "([{" or (char == "<" and text[index + 1 : index + 2] not in (" ", "=")):
            depth += 1  # -y's <socket:[1]> and <... resuming ...> nest; a comparison's < does not
        elif (char in ")]}" or (char == ">" and text[index - 1 : index] not in ("-", "="))) and depth > 0:
            depth -= 1  # the arrows of => and -> close nothing
        elif char == separator and depth == 0:
            items.append(text[start:index])
            start = index + 1
        index += 1
    items.append(text[start:])
    return [item.strip() for item in items if item.strip()]


def comment(text: str) -> tuple[str, str | None]:
    """A value and ``-X verbose``'s comment after it, ``("0x80000", "SOCK_CLOEXEC")``; the comment None when absent."""
    found = _COMMENT.search(text)
    if found is None or text.startswith("/*"):
        return text, None
    return text[: found.start()], found["comment"]


def integer(text: str) -> int | None:
    """A number strace printed (decimal, hex or octal, with ``-y``'s decoration or a comment), else None."""
    text, _ = comment(text.strip())
    decorated = _DECORATED.match(text)
    if decorated is not None:
        text = decorated["number"]
    if not _INTEGER.match(text):
        return None
    return int(text, 0) if not re.match(r"-?0[0-7]+$", text) else int(text, 8)


def braced(text: str, opening: str = "{", closing: str = "}") -> str | None:
    """The inside of ``{...}`` (or another pair), None when the text is not one."""
    text = text.strip()
    if len(text) >= 2 and text[0] == opening and text[-1] == closing:
        return text[1:-1]
    return None


def struct_fields(text: str) -> dict[str, str] | None:
    """A struct's members by name, their values as text: ``{a=1, b={c=2}}`` → ``{"a": "1", "b": "{c=2}"}``.

    A member without a name (``inet_pton(AF_INET6, ...)`` in a sockaddr) is
    kept under its own text; strace's ``...`` (members left out) is dropped.
    None when the text is not a struct (a pointer, NULL).
    """
    inside = braced(text)
    if inside is None:
        return None
    fields: dict[str, str] = {}
    for item in split_top(inside):
        if item == "...":
            continue
        name, equals, value = item.partition("=")
        if equals and re.fullmatch(r"[A-Za-z_][A-Za-z_0-9.]*", name):
            fields[name] = value
        else:
            fields[item] = item
    return fields


def array_items(text: str) -> list[str] | None:
    """The elements of ``[a, b]``, as text (``...`` kept: it says elements were left out); None for no array."""
    inside = braced(text, "[", "]")
    return None if inside is None else split_top(inside)


def string(text: str) -> str | None:
    """A C string strace printed, unescaped; its ``...`` (cut at ``-s``) dropped; None when not a string."""
    text = text.strip()
    if text.endswith("..."):
        text = text[:-3]
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return None
    body, out, index = text[1:-1], [], 0
    while index < len(body):
        char = body[index]
        if char != "\\" or index + 1 == len(body):
            out.append(char)
            index += 1
            continue
        following = body[index + 1]
        if following == "x" and re.match(r"[0-9a-fA-F]{2}", body[index + 2 : index + 4]):
            out.append(chr(int(body[index + 2 : index + 4], 16)))
            index += 4
        elif following in "01234567":
            digits = re.match(r"[0-7]{1,3}", body[index + 1 :])
            assert digits is not None
            out.append(chr(int(digits.group(), 8)))
            index += 1 + len(digits.group())
        else:
            out.append(_ESCAPES.get(following, following))
            index += 2
    return "".join(out)


def string_bytes(text: str) -> bytes | None:
    r"""A string's bytes, as ``-X raw`` prints a port or an address: ``"\\x1f\\x90"``."""
    decoded = string(text)
    return None if decoded is None else decoded.encode("latin-1")


def flag_words(text: str) -> list[str]:
    """The words of ``A|B|C`` (each stripped of a comment), ``[]`` for ``0``."""
    text, _ = comment(text.strip())
    if text == "0":
        return []
    return [word.strip() for word in split_top(text, "|")]
