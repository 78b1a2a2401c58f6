"""The page of every catalogued call's ``args``, written at build time from the contract the harness checks traces with.

:mod:`harness.model.event_contract` holds the shape of each argument kind
(``ARG_SHAPES``), and the syscall catalogue says which arguments each call
has and of which kind.  Every command that reads a trace holds it to those
shapes, so this page, made from them, is the contract as enforced, not a
description of it that could drift.  The prose and examples of the JSON
Lines format are in ``docs/reference/jsonl.md``.
"""

from __future__ import annotations

from typing import Any

PAGE = "reference/event-arguments.md"

_INTRO = """\
# Event arguments, by call

Generated from the harness's own event contract
(`harness.model.event_contract.ARG_SHAPES`) and syscall catalogue
(`harness.model.syscalls.CATALOGUE`) each time the site is built: these are
the shapes every command that reads a trace (`show`, `explain`, `report`,
`diff`, `check --trace`) holds a `syscall` event's `args` to. A trace that
breaks them is refused at its line, naming the key at fault (see
[JSON Lines events](jsonl.md)). Output arguments are decoded at the call's
exit, and only when it succeeded; an argument whose shape allows a string or
`null` there is the pointer instead (hex, or `null` for NULL).

A call without an entry here is recorded with its raw registers as integers,
named after its prototype.

"""


def _shape(shape: Any) -> str:
    """A compact notation for a shape: ``int``, ``[str]``, ``{family, port, address?}``, ``A | B``."""
    from harness.model import event_contract as contract

    if isinstance(shape, contract._Kind):
        return shape.name
    if isinstance(shape, contract._ListOf):
        return f"[{_shape(shape.item)}]"
    if isinstance(shape, contract._Record):
        keys = [f"{key}: {_shape(value)}" for key, value in shape.required.items()]
        keys += [f"{key}?: {_shape(value)}" for key, value in shape.optional.items()]
        return "{" + ", ".join(keys) + "}"
    return " \\| ".join(dict.fromkeys(_shape(choice) for choice in _choices(shape)))


def _choices(shape: Any) -> list[Any]:
    """The alternatives of a choice of shapes, nested choices flattened."""
    from harness.model import event_contract as contract

    if not isinstance(shape, contract._OneOf):
        return [shape]
    return [leaf for choice in shape.choices for leaf in _choices(choice)]


def reference() -> str:
    """The whole page, in Markdown."""
    from harness.model.event_contract import arg_shape
    from harness.model.syscalls import CATALOGUE

    lines = [_INTRO]
    for name in sorted(CATALOGUE):
        entry = CATALOGUE[name]
        lines += [f"## {name}", "", f"Source: {entry.source}." if entry.source else "", ""]
        if not entry.args:
            lines += ["No arguments.", ""]
            continue
        lines += ["| key | kind | written by | shape |", "| --- | --- | --- | --- |"]
        for arg in entry.args:
            kinds = [arg.kind, *(kind for _, kind in (arg.kind_by[1] if arg.kind_by else ()))]
            shapes = " \\| ".join(dict.fromkeys(_shape(arg_shape(arg, kind)) for kind in kinds))
            written = "the kernel (at exit)" if arg.output else "the caller (at entry)"
            lines.append(f"| `{arg.name}` | {', '.join(dict.fromkeys(kinds))} | {written} | `{shapes}` |")
        lines.append("")
    return "\n".join(lines)


def on_files(files: Any, config: Any) -> Any:
    """MkDocs hook: add the generated page to the site's files."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, PAGE, content=reference()))
    return files
