"""The bundled server variants: their names, sources and protocols, found in the package or the checkout.

Facts about files the harness ships, read by the expectation loader (a
did-you-mean for a misspelt variant) and by the running layer, which
builds and starts them (:mod:`harness.running.variants`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harness.model.errors import UsageError
from harness.model.hints import closest
from harness.model.scenario import DEFAULT_PROTOCOL, Protocol

#: The ``harness`` package directory.
_PACKAGE = Path(__file__).resolve().parents[1]

#: The protocol each variant speaks, when it is not echo.
_PROTOCOLS: dict[str, Protocol] = {"rpc_fork": "rpc"}


@dataclass(frozen=True, slots=True)
class Variant:
    """A server variant: its name, its source file, and the protocol its clients speak."""

    name: str
    source: Path
    protocol: Protocol

    @property
    def is_c(self) -> bool:
        """Whether it must be compiled before it runs."""
        return self.source.suffix == ".c"


def _bundled(name: str) -> Path:
    """A directory shipped inside the package, or its original at the top of the checkout we run from.

    An installed package holds ``harness/bundled/NAME``; an editable install
    or a clone has only the checkout's ``NAME/``.
    """
    shipped = _PACKAGE / "bundled" / name
    return shipped if shipped.is_dir() else _PACKAGE.parent / name


def servers_dir() -> Path:
    """The directory of the bundled variants (or ``$HARNESS_SERVERS``)."""
    configured = os.environ.get("HARNESS_SERVERS")
    candidate = Path(configured) if configured else _bundled("servers")
    if candidate.is_dir():
        return candidate
    where = "$HARNESS_SERVERS" if configured else "the installed package"
    raise UsageError(f"no server variants at {candidate} ({where}); reinstall the harness or fix HARNESS_SERVERS")


def expectations_dir() -> Path:
    """The directory of the bundled expectation files."""
    return _bundled("expectations")


def list_variants() -> dict[str, Variant]:
    """Every bundled variant by name: ``fork_sigchld``, ``c/echo_server``..."""
    root = servers_dir()
    variants = {}
    for path in sorted(root.glob("*.py")):
        if not path.name.startswith("_"):
            variants[path.stem] = Variant(path.stem, path, _PROTOCOLS.get(path.stem, DEFAULT_PROTOCOL))
    for path in sorted((root / "c").glob("*.c")):
        variants[f"c/{path.stem}"] = Variant(f"c/{path.stem}", path, DEFAULT_PROTOCOL)
    return variants


def find_variant(name: str) -> Variant:
    """The variant called ``name``, or an error naming the nearest one."""
    variants = list_variants()
    if name in variants:
        return variants[name]
    close = closest(name, variants)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known variants: {', '.join(variants)}"
    raise UsageError(f"unknown server variant {name!r}{hint}")
